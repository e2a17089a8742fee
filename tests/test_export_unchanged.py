"""Know what changed (issue 37): database triggers count every change to what an archive
shows, and an export that finds the count of its last run keeps the event's pages
without reading a post. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text, update

from backchannel.consent import exclusions
from backchannel.export import ExportOptions, export_site, kept_index
from backchannel.store import Base, Event, EventPost, ImportRecord, Post, change_count
from backchannel.store.changes import WATCHED
from backchannel.store.db import Database
from tests.export_fixture import build_fixture


@pytest.fixture
def database(db_url: str) -> Any:
    database = build_fixture(db_url)
    yield database
    database.dispose()


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The events whose posts an export loaded."""
    loaded: list[str] = []
    real = kept_index.load_index

    def counting(session: Any, event: Event, *args: Any, **kwargs: Any) -> Any:
        loaded.append(event.slug)
        return real(session, event, *args, **kwargs)

    monkeypatch.setattr(kept_index, "load_index", counting)
    return loaded


def _export(database: Database, out: Path, **options: Any) -> Any:
    return export_site(database, ExportOptions(out=out, search=False, **options))


def _files(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in out.rglob("*") if p.is_file()}  # fmt: skip


def _count(database: Database) -> int | None:
    with database.reading() as session:
        return change_count(session)


def test_an_export_with_nothing_changed_reads_no_post(
    database: Database, loads: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = _export(database, out)
    assert loads == ["swrb13"]
    before = _files(out)

    story_link = '<a href="swrb13/story-day-one.html" dir="auto">Day one in posts</a>'
    assert story_link in (out / "index.html").read_text(encoding="utf-8")

    again = _export(database, out)
    assert loads == ["swrb13"], "nothing changed: no post was read"
    # The home page, made again, lists the kept event as it was: its stories too.
    assert story_link in (out / "index.html").read_text(encoding="utf-8")
    assert again.stats.written == 0 and _files(out) == before
    assert (again.posts, again.excluded, again.events) == (first.posts, first.excluded, ["swrb13"])

    # A post hidden in the studio's way: counted, so the next export reads and drops it.
    with database.writing() as session:
        post_id = session.scalars(select(Post.id).order_by(Post.created_at)).first()
        session.execute(
            update(EventPost).where(EventPost.post_id == post_id).values(state="hidden")
        )
    hidden = _export(database, out)
    assert loads == ["swrb13", "swrb13"] and hidden.posts == first.posts - 1

    # Another setting (a page size) is another export, though the database is the same.
    _export(database, out, posts_per_page=2)
    assert len(loads) == 3
    _export(database, out, posts_per_page=2)
    assert len(loads) == 3


def test_a_file_gone_from_the_site_is_made_again(
    database: Database, loads: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _export(database, out)
    page = out / "swrb13" / "people.html"
    text_before = page.read_text(encoding="utf-8")
    page.unlink()
    _export(database, out)
    assert len(loads) == 2 and page.read_text(encoding="utf-8") == text_before


def test_every_table_an_archive_shows_counts_its_changes(database: Database) -> None:
    """An insert, an update and a delete in each watched table each move the count, by
    whatever code path: the triggers, not the writers, do the counting."""
    with database.writing() as session:
        event_id = session.scalar(select(Event.id))
        now = datetime.now(UTC)
        exclusions.record(session, event_id, [("https://x.example/1", "x@x", "opted out")], now)
        session.add(ImportRecord(event_id=event_id, format="twarc", file_name="old.jsonl",
                                 sha256="0" * 64, size=1))  # fmt: skip
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    for name in WATCHED:
        column = next(iter(tables[name].primary_key.columns)).name
        before = _count(database)
        with database.writing() as session:
            changed = session.execute(text(f"UPDATE {name} SET {column} = {column}")).rowcount
        assert changed > 0, f"the fixture has no row in {name}"
        assert (_count(database) or 0) > (before or 0), f"an update of {name} was not counted"
    before = _count(database)
    with database.writing() as session:  # a delete (a forget), cascading to its rows
        session.execute(text("DELETE FROM posts WHERE id = (SELECT min(id) FROM posts)"))
    assert (_count(database) or 0) > (before or 0)


def test_a_missing_trigger_means_every_export_reads_everything(
    database: Database, loads: list[str], tmp_path: Path
) -> None:
    """A later migration that rebuilds a table on SQLite drops its triggers: the count
    is then not trusted, and an unchanged event is read again rather than kept."""
    assert _count(database) is not None
    with database.writing() as session:
        if session.connection().dialect.name == "sqlite":
            session.execute(text("DROP TRIGGER bc_changes_event_posts_update"))
        else:
            session.execute(text("DROP TRIGGER bc_changes_event_posts ON event_posts"))
    assert _count(database) is None
    out = tmp_path / "site"
    _export(database, out)
    _export(database, out)
    assert loads == ["swrb13", "swrb13"]
    assert "change_counter" in inspect(database.engine).get_table_names()


def test_two_writers_taking_rows_in_opposite_orders_both_commit(database: Database) -> None:
    """The count is taken at commit on PostgreSQL: a writer that changed an author
    (and so would hold the counter) and then waits for a post another writer holds is
    not a deadlock. (SQLite has one writer at a time: the second simply waits.)"""
    import threading

    with database.reading() as session:
        author_id, post_id = session.execute(select(Post.author_id, Post.id)).first()  # type: ignore[misc]
    engine = database.engine
    second_holds_post = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE posts SET like_count = like_count + 1 "
                                        "WHERE id = :id"), {"id": post_id})  # fmt: skip
                second_holds_post.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            second_holds_post.set()

    before = _count(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE authors SET bot = bot WHERE id = :id"), {"id": author_id})
        thread = threading.Thread(target=second)
        thread.start()
        second_holds_post.wait(timeout=3)  # SQLite: it waits for this commit instead
        connection.execute(text("UPDATE posts SET repost_count = repost_count + 1 "
                                "WHERE id = :id"), {"id": post_id})  # fmt: skip
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert (_count(database) or 0) >= (before or 0) + 2
