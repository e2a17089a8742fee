"""Full-text search of posts (migration 0008), the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from backchannel.consent import Policy
from backchannel.store import Database, EventSource, Post, matching_posts, save_page
from tests.factories import page, post, registered_event

TEXTS = {
    1: "Kia ora koutou, the keynote on practice wisdom starts now",
    2: "Practical wisdom for supervision: slides are up",
    3: "Lunch! #swrs26",
    4: "KEYNOTE recording soon",
}


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.init()
    registered_event(database)
    with database.writing() as session:
        source = session.scalars(select(EventSource)).one()
        posts = [post(n, text=text, content_warning="spoilers" if n == 3 else None)
                 for n, text in TEXTS.items()]  # fmt: skip
        save_page(session, source, "swrs26", page(posts), Policy())
    yield database
    database.dispose()


def _found(db: Database, query: str) -> list[int]:
    with db.reading() as session:
        condition = matching_posts(session.get_bind().dialect.name, query)
        assert condition is not None
        uris = session.scalars(select(Post.uri).where(condition))
        return sorted(int(uri.rsplit("/", 1)[1]) for uri in uris)


def test_every_word_must_match_as_a_word_or_its_start_case_ignored(db: Database) -> None:
    assert _found(db, "keynote") == [1, 4]
    assert _found(db, "Keynote wisdom") == [1]
    assert _found(db, "pract") == [1, 2]  # the start of practice and practical
    assert _found(db, "spoilers") == [3]  # the content warning is searched too
    assert _found(db, "absent") == []


def test_search_syntax_in_a_query_is_only_words(db: Database) -> None:
    assert _found(db, '"keynote" OR NEAR(x y) *') == []  # "or", "near", "x", "y": no post
    assert _found(db, '"); DROP TABLE posts; --keynote') == []
    assert _found(db, "keynote*") == [1, 4]
    with db.reading() as session:
        assert matching_posts(session.get_bind().dialect.name, "  *** ") is None


def test_the_index_follows_edits_and_deletions(db: Database) -> None:
    with db.writing() as session:
        session.execute(update(Post).where(Post.uri.endswith("/statuses/4")).values(text="renamed"))
        session.delete(session.scalars(select(Post).where(Post.uri.endswith("/statuses/1"))).one())
    assert _found(db, "keynote") == []
    assert _found(db, "renamed") == [4]
