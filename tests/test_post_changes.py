"""Know which posts changed (issue 37, migrations 0017 and 0018): every write that
changes what a post's row in the export's index is made from stamps the post, whatever
wrote it, so an export after new posts reads those posts and no other. On SQLite a
stamp per post (the change count); on PostgreSQL an insert-only log read against the
export's snapshot, pruned after a week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from backchannel.store import (
    Author,
    EventPost,
    Link,
    Media,
    Post,
    PostSighting,
    PostTag,
    Tag,
    change_mark,
    changed_posts,
    prune_change_log,
)
from backchannel.store.db import Database
from tests.export_fixture import build_fixture


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _mark(database: Database) -> str:
    with database.reading() as session:
        mark = change_mark(session)
    assert mark is not None and mark.startswith(("sqlite:", "postgresql:"))
    return mark


def _changed(database: Database, mark: str) -> set[int]:
    with database.reading() as session:
        found = changed_posts(session, mark)
    assert found is not None
    return found


def _posts(database: Database) -> list[Any]:
    with database.reading() as session:
        return list(session.execute(select(Post.id, Post.author_id).order_by(Post.id)))


def test_nothing_written_nothing_changed(database: Database) -> None:
    mark = _mark(database)
    assert _changed(database, mark) == set()
    with database.reading() as session:
        session.execute(select(Post)).all()
    assert _changed(database, mark) == set()


def test_each_kind_of_change_stamps_its_posts(database: Database) -> None:
    (first, author), (second, _), *rest = _posts(database)
    by_author = {post for post, post_author in _posts(database) if post_author == author}
    cases: list[tuple[str, Any, set[int]]] = [
        ("counts", update(Post).where(Post.id == first).values(like_count=99), {first}),
        (
            "hidden",
            update(EventPost).where(EventPost.post_id == second).values(state="hidden"),
            {second},
        ),
        (
            "author",
            update(Author).where(Author.id == author).values(display_name="Renamed"),
            by_author,
        ),
        (
            "media stored",
            insert(Media).values(
                post_id=first,
                position=5,
                kind="image",
                remote_url="https://x.example/a.png",
                fetch_state="done",
            ),
            {first},
        ),
        (
            "avatar",
            insert(Media).values(
                author_id=author, position=0, kind="avatar", remote_url="https://x.example/av.png"
            ),
            by_author,
        ),
        (
            "sighting",
            insert(PostSighting).values(post_id=second, server="https://b.example", native_id="77"),
            {second},
        ),
        (
            "link",
            insert(Link).values(post_id=first, position=9, url="https://l.example/"),
            {first},
        ),
        ("tag removed", delete(PostTag).where(PostTag.post_id == second), {second}),
        ("deleted", delete(Post).where(Post.id == rest[0][0]), {rest[0][0]}),
    ]
    for name, statement, expected in cases:
        mark = _mark(database)
        with database.writing() as session:
            session.execute(statement)
        assert _changed(database, mark) == expected, name


def test_a_new_post_is_stamped_with_its_children(database: Database) -> None:
    mark = _mark(database)
    (_, author), *_ = _posts(database)
    with database.writing() as session:
        moment = datetime(2013, 11, 14, 1, tzinfo=UTC)
        post_id = session.execute(
            insert(Post)
            .values(
                uri="https://n.example/1",
                author_id=author,
                platform="mastodon",
                created_at=moment,
                fetched_at=moment,
                fetched_from="https://n.example",
                raw={},
            )
            .returning(Post.id)
        ).scalar_one()
        tag = session.scalar(select(Tag.id))
        session.execute(insert(PostTag).values(post_id=post_id, tag_id=tag))
    assert _changed(database, mark) == {post_id}


def test_a_mark_from_elsewhere_or_missing_triggers_read_everything(database: Database) -> None:
    with database.reading() as session:
        dialect = session.connection().dialect.name
        other = "postgresql:1:2:" if dialect == "sqlite" else "sqlite:0"
        assert changed_posts(session, other) is None
        assert changed_posts(session, f"{dialect}:not-a-mark") is None
    with database.writing() as session:
        if dialect == "sqlite":
            session.execute(text("DROP TRIGGER bc_stamp_links_insert"))
        else:
            session.execute(text("DROP TRIGGER bc_log_links ON links"))
    with database.reading() as session:
        assert change_mark(session) is None
        assert changed_posts(session, _mark_text(dialect)) is None


def _mark_text(dialect: str) -> str:
    return "sqlite:0" if dialect == "sqlite" else "postgresql:3:3:"


def test_a_pruned_log_reads_everything_for_an_older_mark(database: Database) -> None:
    """PostgreSQL: rows older than a week go at the end of a collection run; a mark
    from before them can no longer say what changed."""
    with database.reading() as session:
        if session.connection().dialect.name != "postgresql":
            assert prune_change_log(session) == 0  # SQLite stamps in place: nothing to prune
            return
    before = _mark(database)
    (first, _), *_ = _posts(database)
    with database.writing() as session:
        session.execute(update(Post).where(Post.id == first).values(like_count=7))
    with database.writing() as session:  # as if all that were logged a month ago
        session.execute(text("UPDATE post_change_log SET logged_at = now() - interval '30 days'"))
        assert prune_change_log(session) > 0
        assert session.scalar(text("SELECT count(*) FROM post_change_log")) == 0
    assert _changed_or_none(database, before) is None
    after = _mark(database)
    with database.writing() as session:
        session.execute(update(Post).where(Post.id == first).values(like_count=8))
    assert _changed(database, after) == {first}


def _changed_or_none(database: Database, mark: str) -> set[int] | None:
    with database.reading() as session:
        return changed_posts(session, mark)


def test_two_writers_changing_the_same_posts_do_not_wait_on_each_other(
    database: Database,
) -> None:
    """Each transaction adds its own log rows: a writer holding a post's row and one
    stamping the same post never deadlock (the reason PostgreSQL has a log)."""
    import threading

    (first, author), *_ = _posts(database)
    mark = _mark(database)
    engine = database.engine
    holding = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE posts SET like_count = 5 WHERE id = :id"),
                                   {"id": first})  # fmt: skip
                holding.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            holding.set()

    with engine.begin() as connection:
        connection.execute(text("UPDATE authors SET display_name = 'X' WHERE id = :id"),
                           {"id": author})  # fmt: skip
        thread = threading.Thread(target=second)
        thread.start()
        holding.wait(timeout=3)
        connection.execute(text("UPDATE posts SET repost_count = 9 WHERE id = :id"),
                           {"id": first})  # fmt: skip
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert first in _changed(database, mark)
