"""The export keeps an event's index and patches it with the posts changed since
(issue 37): after each kind of change, the patched index equals one read whole, the
patch read only the changed posts, and the site it makes is the site a first export
into an empty folder makes, byte for byte. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from backchannel.export import ExportOptions, export_site, kept_index
from backchannel.export.selection import EventIndex, load_index
from backchannel.store import (
    Author,
    ConsentOverride,
    Event,
    EventPost,
    Media,
    Post,
    PostSighting,
    PostTag,
)
from backchannel.store.db import Database
from tests.export_fixture import add_late_post, build_fixture


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _snapshot(index: EventIndex) -> dict[str, Any]:
    """Everything the export reads of an index, comparable."""
    posts = [
        (p.id, p.uri, p.created_at, p.author_id, p.platform, p.language, p.reply_to_uri,
         p.quote_uri, p.featured, p.sensitive, p.has_cw, p.indexable, p.edited_at, p.version,
         p.counts, p.tags, p.links, [astuple(m) for m in p.media], p.day, p.servers)
        for p in index.posts
    ]  # fmt: skip
    return {
        "posts": posts,
        "authors": {a: astuple(row) for a, row in index.authors.items()},
        "avatars": {a: astuple(row) for a, row in index.avatars.items()},
        "excluded": index.excluded,
        "excluded_posts": index.excluded_posts,
        "sightings": index.sightings,
        "days": {day: [p.id for p in posts] for day, posts in index.days.items()},
        "by_id": [index.columns.row_of_id(p.id) for p in index.posts],
        "by_uri": [index.by_uri[p.uri].row for p in index.posts],
    }


def _indexes(database: Database, out: Path) -> tuple[EventIndex, int | None, EventIndex]:
    """The index as the export would have it (kept and patched where it can), how many
    posts it read to patch, and the index read whole."""
    with database.reading() as session:
        event = session.scalar(select(Event).where(Event.slug == "swrb13"))
        assert event is not None
        pending: kept_index.Pending = {}
        patched, patch, _ = kept_index.event_index(
            session, event, out, False, False, "en_GB", pending
        )
        whole = load_index(session, event)
    kept_index.write_kept(pending)
    return patched, None if patch is None else len(patch.ids), whole


def _first_post(session: Any) -> tuple[int, int]:
    row = session.execute(
        select(Post.id, Post.author_id).join(EventPost).where(EventPost.state == "included")
        .order_by(Post.created_at)
    ).first()  # fmt: skip
    return row[0], row[1]


CHANGES: dict[str, Callable[[Any, int, int], None]] = {
    "counts": lambda s, p, a: s.execute(update(Post).where(Post.id == p).values(like_count=41)),
    "hidden": lambda s, p, a: s.execute(
        update(EventPost).where(EventPost.post_id == p).values(state="hidden")),
    "featured": lambda s, p, a: s.execute(
        update(EventPost).where(EventPost.post_id == p).values(state="featured")),
    "edited": lambda s, p, a: s.execute(
        update(Post).where(Post.id == p).values(cid="v2", quote_uri="https://q.example/1")),
    "deleted at its source": lambda s, p, a: s.execute(
        update(Post).where(Post.id == p).values(deleted_at=Post.created_at)),
    "forgotten": lambda s, p, a: s.execute(delete(Post).where(Post.id == p)),
    "author renamed": lambda s, p, a: s.execute(
        update(Author).where(Author.id == a).values(display_name="Renamed", indexable=False)),
    "author opted out": lambda s, p, a: s.execute(
        update(Author).where(Author.id == a).values(bio_text="#nobot please")),
    "media stored": lambda s, p, a: s.execute(
        insert(Media).values(post_id=p, position=3, kind="image", alt="A chart",
                             remote_url="https://m.example/c.png", fetch_state="done",
                             sha256="ab" * 32, width=10, height=20)),
    "avatar": lambda s, p, a: s.execute(
        insert(Media).values(author_id=a, kind="avatar", remote_url="https://m.example/a.png",
                             fetch_state="done", sha256="cd" * 32)),
    "seen elsewhere": lambda s, p, a: s.execute(
        insert(PostSighting).values(post_id=p, server="https://other.example", native_id="9")),
    "tags removed": lambda s, p, a: s.execute(delete(PostTag).where(PostTag.post_id == p)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_patched_index_is_the_index_read_whole(
    database: Database, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "site"
    first, read, whole = _indexes(database, out)
    assert read is None and _snapshot(first) == _snapshot(whole)
    assert (out / kept_index.FOLDER / "swrb13.json").is_file()
    with database.writing() as session:
        post_id, author_id = _first_post(session)
        by_author = len(session.scalars(select(Post.id).where(Post.author_id == author_id)).all())
        CHANGES[name](session, post_id, author_id)
    patched, read, whole = _indexes(database, out)
    # Only the changed post is read; all the author's, when the author changed.
    assert read == (by_author if name in ("author renamed", "author opted out", "avatar") else 1)
    assert _snapshot(patched) == _snapshot(whole)
    # And again with nothing changed: the patch reads nothing.
    patched, read, whole = _indexes(database, out)
    assert read == 0 and _snapshot(patched) == _snapshot(whole)


def test_a_consent_entry_reads_the_event_whole(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _indexes(database, out)
    with database.writing() as session:
        event_id = session.scalar(select(Event.id))
        session.add(ConsentOverride(event_id=event_id, handle="ana@mastodon.example",
                                    decision="deny"))  # fmt: skip
    patched, read, whole = _indexes(database, out)
    assert read is None and _snapshot(patched) == _snapshot(whole)


def test_a_kept_index_from_another_database_is_not_used(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _indexes(database, out)
    other = build_fixture(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        _, read, _ = _indexes(other, out)
    finally:
        other.dispose()
    assert read is None


def test_an_unreadable_kept_index_reads_the_event_whole(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _indexes(database, out)
    (out / kept_index.FOLDER / "swrb13.json").write_text('{"format": 1, "wide": "x"', "utf-8")
    patched, read, whole = _indexes(database, out)
    assert read is None and _snapshot(patched) == _snapshot(whole)


@pytest.mark.parametrize("damage", ["a row cut", "a code beyond", "not a list"])
def test_a_damaged_kept_index_reads_the_event_whole(
    database: Database, tmp_path: Path, damage: str
) -> None:
    """Valid JSON of the right format and selection, but cut or edited by hand."""
    out = tmp_path / "site"
    _indexes(database, out)
    path = out / kept_index.FOLDER / "swrb13.json"
    state = json.loads(path.read_text("utf-8"))
    if damage == "a row cut":
        state["uris"] = state["uris"][:-1]
    elif damage == "a code beyond":
        state["names"] = state["names"][:2]
    else:
        state["authors"] = 7
    path.write_text(json.dumps(state), "utf-8")
    add_late_post(database)
    patched, read, whole = _indexes(database, out)
    assert read is None and _snapshot(patched) == _snapshot(whole)


def _published(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.relative_to(out).as_posix().startswith(".backchannel")}  # fmt: skip


def test_an_export_after_a_new_post_reads_it_alone_and_makes_the_same_site(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"search": False}
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    add_late_post(database)
    with database.writing() as session:
        post_id, author_id = _first_post(session)
        CHANGES["author renamed"](session, post_id, author_id)
        by_author = set(session.scalars(select(Post.id).where(Post.author_id == author_id)))
        late = session.scalar(select(func.max(Post.id)))
    reads: list[Any] = []
    real = kept_index.load_index

    def counting(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(kept_index, "load_index", counting)
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    # The new post and the renamed author's posts: no other post is read.
    assert len(reads) == 1 and reads[0] == by_author | {late}
    fresh = tmp_path / "fresh"
    export_site(database, ExportOptions(out=fresh, **options))  # type: ignore[arg-type]
    assert _published(out) == _published(fresh)


def _keys(out: Path) -> Any:
    state = json.loads((out / kept_index.FOLDER / "swrb13.keys.json").read_text("utf-8"))
    return state["ids"], state["keys"], state["pages"], state["threads"]


@pytest.mark.parametrize("name", [*CHANGES, "a late post", "a reply", "a parent moves"])
def test_after_each_change_the_site_is_the_site_a_first_export_makes(
    database: Database, tmp_path: Path, name: str
) -> None:
    """Two posts a page: a new post moves others to other pages, and their keys with
    them; the keys kept for the rest must be the keys a first export makes."""
    options = {"search": False, "posts_per_page": 2}
    out = tmp_path / "site"
    with database.reading() as session:
        first_uri = session.scalar(select(Post.uri).order_by(Post.created_at))
        welcome = session.scalar(select(Post.uri).where(Post.uri.endswith("/1001")))
    if name == "a parent moves":  # a reply on the last day to the second day's first post
        add_late_post(database, "1013", reply_to_uri=welcome)
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    if name == "a parent moves":  # an earlier post moves the parent to the next page
        add_late_post(database, "1014", datetime(2013, 11, 13, 18, 0, tzinfo=UTC))
    elif name == "a late post":  # early in the first busy day: pages after it move
        add_late_post(database, "1011", datetime(2013, 11, 13, 20, 1, tzinfo=UTC))
    elif name == "a reply":  # to the first post: a conversation begins or grows
        add_late_post(database, "1012", reply_to_uri=first_uri)
    else:
        with database.writing() as session:
            CHANGES[name](session, *_first_post(session))
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    fresh = tmp_path / "fresh"
    export_site(database, ExportOptions(out=fresh, **options))  # type: ignore[arg-type]
    assert _keys(out) == _keys(fresh)
    assert _published(out) == _published(fresh)


def test_keys_kept_from_another_index_are_not_taken(database: Database, tmp_path: Path) -> None:
    """A crash between writing the kept index and its keys leaves keys made from an
    older index: the next export makes every key again rather than take them."""
    options = {"search": False, "posts_per_page": 2}
    out = tmp_path / "site"
    keys_file = out / kept_index.FOLDER / "swrb13.keys.json"
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    older = keys_file.read_bytes()
    with database.writing() as session:  # read by the second export, not the third
        CHANGES["edited"](session, *_first_post(session))
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    keys_file.write_bytes(older)  # as if the second export had not written its keys
    add_late_post(database, "1015")
    export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]
    fresh = tmp_path / "fresh"
    export_site(database, ExportOptions(out=fresh, **options))  # type: ignore[arg-type]
    assert _keys(out) == _keys(fresh) and _published(out) == _published(fresh)
