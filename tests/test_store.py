"""The store: idempotent upserts keyed on uri, sightings, edits, consent, tombstones."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backchannel.consent.rule import Policy
from backchannel.store.db import Database
from backchannel.store.models import Cursor, EventSource, Link, Media, Post, PostSighting, Tombstone
from backchannel.store.writer import key_hash, load_cursor, save_page
from tests.factories import T0, author, page, post, registered_event
from tests.helpers import snapshot


@pytest.fixture
def db(db_url: str) -> Database:
    database = Database(db_url)
    database.init()
    registered_event(database, mastodon=("https://a.example", "https://b.example"))
    yield database
    database.dispose()


def _save(db: Database, server: str, posts, cursor=None, policy=None):  # type: ignore[no-untyped-def]
    with db.writing() as session:
        source = session.scalar(select(EventSource).where(EventSource.base_url == server))
        return save_page(session, source, "swrs26", page(posts, cursor), policy or Policy())


def test_saving_the_same_page_twice_changes_nothing(db: Database, db_url: str) -> None:
    posts = [post(i) for i in range(5)]
    first = _save(db, "https://a.example", posts)
    assert (first.new, first.updated) == (5, 0)
    before = snapshot(db_url)
    second = _save(db, "https://a.example", posts)
    assert (second.new, second.updated) == (0, 0)
    after = snapshot(db_url)
    # Only bookkeeping times move (last seen, cursor updated); no row appears or goes.
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}


def test_one_row_per_uri_with_a_sighting_per_server(db: Database) -> None:
    _save(db, "https://a.example", [post(1)])
    _save(db, "https://b.example", [replace(post(1), native_id="999")])
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 1
        sightings = {(s.server, s.native_id) for s in session.scalars(select(PostSighting))}
    assert sightings == {("https://a.example", "1001"), ("https://b.example", "999")}


def test_the_cursor_is_saved_with_the_page(db: Database) -> None:
    _save(db, "https://a.example", [post(1)], cursor={"min_id": "1001"})
    with db.reading() as session:
        source = session.scalar(
            select(EventSource).where(EventSource.base_url == "https://a.example")
        )
        assert load_cursor(session, source, "swrs26") == {"min_id": "1001"}
        assert load_cursor(session, source, "other") is None


def test_a_newer_edit_replaces_the_post_and_its_children(db: Database) -> None:
    _save(db, "https://a.example", [post(1)])
    edited = post(
        1,
        edited_at=T0 + timedelta(hours=1),
        text="edited #swrs26",
        html="<p>edited #swrs26</p>",
        links=("https://example.net/new",),
        media=(),
    )
    result = _save(db, "https://a.example", [edited])
    assert result.updated == 1
    # An older version seen later (another server lagging) does not win.
    assert _save(db, "https://b.example", [post(1)]).updated == 0
    with db.reading() as session:
        row = session.scalar(select(Post))
        assert row.text == "edited #swrs26" and row.edited_at == T0 + timedelta(hours=1)
        assert [link.url for link in session.scalars(select(Link))] == ["https://example.net/new"]
        assert session.scalar(select(func.count()).select_from(Media)) == 0


def test_times_come_back_utc_aware(db: Database) -> None:
    _save(db, "https://a.example", [post(1)])
    with db.reading() as session:
        created = session.scalar(select(Post.created_at))
    assert created == T0 + timedelta(minutes=1) and created.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (author("bot", bot=True), "bot"),
        (author("shy", noindex=True), "opted out: noindex"),
        (author("nb", bio_text="Researcher. #NoBot please"), "opted out: #nobot in profile"),
        (author("gone", suspended=True), "opted out: suspended"),
    ],
)
def test_consent_signals_keep_authors_out(db: Database, who, reason) -> None:  # type: ignore[no-untyped-def]
    result = _save(db, "https://a.example", [post(1, who)])
    assert result.new == 0 and result.skipped == {reason: 1}
    allowed = Policy(allowed=frozenset({who.handle}))
    assert _save(db, "https://a.example", [post(1, who)], policy=allowed).new == 1


def test_non_public_and_untagged_posts_are_skipped(db: Database) -> None:
    result = _save(
        db, "https://a.example", [post(1, visibility="unlisted"), post(2, tags=("other",))]
    )
    assert result.new == 0
    assert result.skipped == {"not public": 1, "tag not in post": 1}


def test_tombstones_keep_forgotten_posts_and_authors_out(db: Database) -> None:
    gone = author("gone")
    with db.writing() as session:
        session.add(Tombstone(kind="post", key_sha256=key_hash(post(1).uri)))
        session.add(Tombstone(kind="author", key_sha256=key_hash(gone.uri)))
    result = _save(db, "https://a.example", [post(1), post(2, gone), post(3)])
    assert result.new == 1 and sum(result.skipped.values()) == 2


def test_concurrent_writers_on_sqlite_never_see_database_locked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    db.init()
    servers = tuple(f"https://s{i}.example" for i in range(4))
    registered_event(db, mastodon=servers)
    errors: list[BaseException] = []

    def writer(server: str) -> None:
        try:
            for start in range(0, 60, 6):  # overlapping posts: every server sees them all
                _save(
                    db,
                    server,
                    [replace(post(i), native_id=f"{server}-{i}") for i in range(start, start + 6)],
                )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 60
        assert session.scalar(select(func.count()).select_from(PostSighting)) == 240
        assert session.scalar(select(func.count()).select_from(Cursor)) == 4


def test_a_reply_named_by_local_id_is_linked_to_its_parent(db: Database) -> None:
    _save(db, "https://a.example", [post(1)])  # native id 1001 on a.example
    reply = post(2, reply_to_native_id="1001")
    _save(db, "https://a.example", [reply])
    with db.reading() as session:
        row = session.scalar(select(Post).where(Post.uri == reply.uri))
    assert row.reply_to_uri == post(1).uri
