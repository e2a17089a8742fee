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


def matching_posts(dialect: str, query: str) -> ColumnElement[bool] | None:
    """A condition true for the posts that hold every word of ``query``; None when the
    query has no words."""
    words = words_of(query)
    if not words:
        return None
    if dialect == "sqlite":
        expression = " ".join(f'"{word}"*' for word in words)
        ids = text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts")
        return Post.id.in_(ids.bindparams(fts=expression).columns(column("rowid", Integer)))
    terms = " & ".join(f"{word}:*" for word in words)
    document: Any = literal_column(PG_DOCUMENT)
    return document.op("@@")(func.to_tsquery("simple", terms))


def bare_fts5(session: Any, query: str, limit: int = 50) -> list[int]:
    """The same first page by hand-written SQL on the index (the ids of the matching
    posts in time order): the baseline the studio's search is measured against."""
    expression = " ".join(f'"{word}"*' for word in words_of(query))
    rows = session.execute(
        text("SELECT posts.id FROM posts_fts JOIN posts ON posts.id = posts_fts.rowid "
             "WHERE posts_fts MATCH :fts ORDER BY posts.created_at, posts.uri LIMIT :limit"),
        {"fts": expression, "limit": limit},
    )  # fmt: skip
    return [row[0] for row in rows]
