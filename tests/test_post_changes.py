"""Know which posts changed (issue 37, migration 0017): every write that changes what a
post's row in the export's index is made from stamps the post, whatever wrote it, so
an export after new posts reads those posts and no other. SQLite only so far: on
PostgreSQL the database keeps no stamps and every export reads every post (the
migration says why), which the last test holds to."""

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
)
from backchannel.store.db import Database
from tests.export_fixture import build_fixture


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    database = build_fixture(sqlite_url)
    yield database
    database.dispose()


def _mark(database: Database) -> str:
    with database.reading() as session:
        mark = change_mark(session)
    assert mark is not None and mark.startswith("sqlite:")
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
        assert changed_posts(session, "postgresql:1:2:") is None
        assert changed_posts(session, "sqlite:not-a-number") is None
    with database.writing() as session:
        session.execute(text("DROP TRIGGER bc_stamp_links_insert"))
    with database.reading() as session:
        assert change_mark(session) is None
        assert changed_posts(session, "sqlite:0") is None


def test_only_sqlite_keeps_stamps_so_far(db_url: str) -> None:
    database = build_fixture(db_url)
    try:
        with database.reading() as session:
            mark = change_mark(session)
            if db_url.startswith("postgresql"):
                assert mark is None and changed_posts(session, "sqlite:0") is None
            else:
                assert mark is not None and changed_posts(session, mark) == set()
    finally:
        database.dispose()
