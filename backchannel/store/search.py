"""Full-text search of posts, the one function over SQLite FTS5 and PostgreSQL.

Migration 0008 builds the index: an FTS5 table kept in step with ``posts`` by triggers
on SQLite, a GIN index on a ``tsvector`` on PostgreSQL. :func:`matching_posts` turns a
person's words into a condition on ``Post.id``: every word must appear (as a word, or
the start of one), in the text or the content warning, case ignored (and accents,
on SQLite: PostgreSQL's `simple` configuration keeps them).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Integer, column, func, literal_column, text

from backchannel.store.models import Post

# The expression the PostgreSQL index is built on (migration 0008): queries must use it
# exactly, or PostgreSQL will not use the index.
PG_DOCUMENT = "to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(content_warning, ''))"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8


def words_of(query: str) -> list[str]:
    """The words searched for: letters and digits only, so that no input is syntax."""
    return _WORD.findall(query.lower())[:MAX_WORDS]


def matching_posts(
    dialect: str, query: str, in_time_order: bool = False
) -> ColumnElement[bool] | None:
    """A condition true for the posts that hold every word of ``query``; None when the
    query has no words.

    ``in_time_order`` (SQLite): the words are common (:func:`count_matches`), so the
    posts should be walked in time order and each one checked, which stops at the end
    of a page, instead of every match being looked up and sorted. ``posts.id + 0``
    keeps SQLite from looking posts up by id from the match list, so it walks the
    time index instead."""
    words = words_of(query)
    if not words:
        return None
    if dialect == "sqlite":
        ids = text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts")
        ids = ids.bindparams(fts=_fts_expression(words)).columns(column("rowid", Integer))
        return (Post.id + 0).in_(ids) if in_time_order else Post.id.in_(ids)
    terms = " & ".join(f"{word}:*" for word in words)
    document: Any = literal_column(PG_DOCUMENT)
    return document.op("@@")(func.to_tsquery("simple", terms))


def count_matches(session: Any, query: str, cap: int) -> int:
    """How many posts hold the words of ``query``, counted up to ``cap`` (SQLite: from
    the index alone, well under a millisecond); 0 elsewhere or without words."""
    words = words_of(query)
    if not words or session.get_bind().dialect.name != "sqlite":
        return 0
    capped = (
        "SELECT count(*) FROM (SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts LIMIT :cap)"
    )
    return int(session.scalar(text(capped), {"fts": _fts_expression(words), "cap": cap}))


def _fts_expression(words: list[str]) -> str:
    return " ".join(f'"{word}"*' for word in words)


# The same first page (the ids of the matching posts in time order) by hand-written SQL
# on the index, three ways: the baseline the studio's search is measured against is the
# fastest of them for each query, a floor rather than one plan that may be slow.
BARE_FIRST_PAGES = {
    # every match looked up, then sorted by time
    "sorted": "SELECT posts.id FROM posts_fts JOIN posts ON posts.id = posts_fts.rowid "
    "WHERE posts_fts MATCH :fts ORDER BY posts.created_at, posts.id LIMIT :limit",
    # the posts walked in time order, each checked against the match list: stops at a page
    "walked": "SELECT id FROM posts WHERE id + 0 IN "
    "(SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts) "
    "ORDER BY created_at, id LIMIT :limit",
    # the planner's own choice between the two
    "planned": "SELECT id FROM posts WHERE id IN "
    "(SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts) "
    "ORDER BY created_at, id LIMIT :limit",
}


def bare_first_page(session: Any, query: str, how: str, limit: int = 50) -> list[int]:
    """The first page of ``query`` by the bare SQL ``BARE_FIRST_PAGES[how]`` (SQLite)."""
    rows = session.execute(
        text(BARE_FIRST_PAGES[how]), {"fts": _fts_expression(words_of(query)), "limit": limit}
    )
    return [row[0] for row in rows]
