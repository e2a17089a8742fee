"""The page path's driver-level statements store exactly what SQLAlchemy would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from backchannel.consent.rule import Policy
from backchannel.store.db import WAL_CHECKPOINT_PAGES, Database
from backchannel.store.driver import Driver
from backchannel.store.models import Author, Cursor, EventSource, Media, Post
from backchannel.store.rows import POST_FIELDS
from backchannel.store.writer import save_page
from tests.factories import page, post, registered_event

AUCKLAND = timezone(timedelta(hours=13))


@pytest.fixture
def db(db_url: str) -> Database:
    database = Database(db_url)
    database.init()
    yield database
    database.dispose()


def _author(driver: Driver | None, session, uri: str) -> int:  # type: ignore[no-untyped-def]
    values = {
        "platform": "mastodon", "uri": uri, "handle": "a@x.example", "display_name": "Ä",
        "display_name_html": "<b>Ä</b>", "bot": False, "noindex": None, "indexable": True,
        "discoverable": None, "suspended": False, "limited": True, "bio_text": "#nobot ✨",
        "labels": [], "emojis": [["tui", "https://x.example/tui.png"]],
        "last_checked_at": datetime(2026, 3, 12, 9, 30, 1, 250, tzinfo=AUCKLAND),
        "updated_at": datetime(2026, 3, 12, 1, 2, 3, tzinfo=UTC),
    }  # fmt: skip
    return _write(driver, session, Author, values)


def _write(driver: Driver | None, session, model, values):  # type: ignore[no-untyped-def]
    table = model.__table__
    if driver is None:
        return session.execute(insert(table).returning(table.c.id), values).scalar_one()
    columns = list(values)
    row = driver.encoder(table, columns)([values[name] for name in columns])
    ((new_id,),) = driver.insert_returning(table.name, columns, [row], ("id",))
    return new_id


def _post_values(uri: str, author_id: int) -> dict[str, object]:
    values = dict.fromkeys(POST_FIELDS)
    values.update(
        uri=uri, author_id=author_id, platform="mastodon", url="https://x.example/@a/1",
        created_at=datetime(2026, 3, 12, 9, 0, 0, 123456, tzinfo=AUCKLAND),
        edited_at=datetime(2026, 3, 12, 0, 0, tzinfo=UTC), indexed_at=None,
        text="kia ora ✨", html="<p>kia ora ✨</p>", language="mi", content_warning=None,
        sensitive=True, visibility="public", quote_snapshot={"uri": "q", "n": [1, None]},
        reply_count=1, repost_count=2, like_count=3, quote_count=0, emojis=[],
        mentions=[["b@y.example", "https://y.example/@b"]], poll=None, card={"title": "é"},
        labels=["!no-unauthenticated"], cid=None, raw={"id": "1", "content": "<p>✨</p>"},
        fetched_at=datetime(2026, 3, 12, 1, 0, tzinfo=UTC), fetched_from="https://x.example",
    )  # fmt: skip
    return values


def _differing(session, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The columns in which the two rows of ``table``, as the driver reads them, differ."""
    result = session.execute(text(f"SELECT * FROM {table} ORDER BY id"))
    first, second = result.all()
    return {name for name, a, b in zip(result.keys(), first, second, strict=True) if a != b}


def test_rows_written_by_the_driver_are_those_sqlalchemy_writes(db: Database) -> None:
    with db.writing() as session:
        by_sqlalchemy = _author(None, session, "https://x.example/users/a")
        driver = Driver(session)
        by_driver = _author(driver, session, "https://x.example/users/b")
        for name, author_id in (("1", by_sqlalchemy), ("2", by_driver)):
            values = _post_values(f"https://x.example/statuses/{name}", author_id)
            post_id = _write(None if name == "1" else driver, session, Post, values)
            media = {"post_id": post_id, "position": 0, "kind": "image", "remote_url": None,
                     "focus_x": -0.5, "width": 10, "fetch_state": "pending", "fetch_attempts": 0}  # fmt: skip
            _write(None if name == "1" else driver, session, Media, media)
    with db.reading() as session:
        assert _differing(session, "authors") == {"id", "uri"}
        assert _differing(session, "posts") == {"id", "uri", "author_id"}
        assert _differing(session, "media") == {"id", "post_id"}
        # And they read back through the models as written.
        stored = session.scalars(select(Post).order_by(Post.id)).all()
        assert stored[1].created_at == datetime(2026, 3, 11, 20, 0, 0, 123456, tzinfo=UTC)
        assert stored[1].poll is None and stored[1].quote_snapshot == {"uri": "q", "n": [1, None]}


def test_the_decoder_reads_what_sqlalchemy_reads(db: Database) -> None:
    columns = ("id", "uri", "last_checked_at", "labels", "emojis", "noindex", "limited")
    with db.writing() as session:
        _author(None, session, "https://x.example/users/a")
    with db.writing() as session:
        driver = Driver(session)
        (raw,) = driver.rows(f"SELECT {driver.names(columns)} FROM authors")
        decoded = driver.decoder(Author.__table__, columns)(raw)
        table = Author.__table__
        expected = session.execute(select(*[table.c[name] for name in columns])).one()
    assert decoded == list(expected)
    assert decoded[2].tzinfo is not None


def test_driver_errors_are_sqlalchemy_errors(db: Database) -> None:
    """The PostgreSQL race retry in collect.py catches SQLAlchemy's exceptions."""
    with pytest.raises(IntegrityError), db.writing() as session:
        driver = Driver(session)
        encode = driver.encoder(Cursor.__table__, ("source_id", "hashtag", "state", "updated_at"))
        driver.insert(
            "cursors",
            ("source_id", "hashtag", "state", "updated_at"),
            [encode((12345, "t", {}, datetime.now(UTC)))],  # no such source
        )


def test_raw_json_text_is_kept_as_received(db: Database) -> None:
    registered_event(db, mastodon=("https://a.example",))
    first = post(1)
    text_received = json.dumps({**first.raw, "note": "kia ora ✨"}, ensure_ascii=False)
    kept = replace(first, raw=json.loads(text_received), raw_json=text_received)
    with db.writing() as session:
        source = session.scalar(select(EventSource))
        save_page(session, source, "swrs26", page([kept, post(2)]), Policy())
    with db.reading() as session:
        stored = {p.uri: p.raw for p in session.scalars(select(Post))}
        (as_text,) = session.execute(
            text("SELECT CAST(raw AS TEXT) FROM posts WHERE uri = :uri"), {"uri": first.uri}
        ).one()
    assert stored == {first.uri: kept.raw, post(2).uri: post(2).raw}
    assert as_text == text_received  # not serialised again


def test_sqlite_checkpoints_the_wal_every_ten_thousand_pages(sqlite_url: str) -> None:
    database = Database(sqlite_url)
    with database.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    database.dispose()
    assert pages == WAL_CHECKPOINT_PAGES == 10_000
