"""post search: a full-text index of each post's text and content warning

The studio searches an event's posts by words. SQLite gets an FTS5 table
(``posts_fts``, external content: it holds the index, not a copy of the text) kept in
step by triggers on ``posts``; PostgreSQL gets a GIN index on the same words as a
``tsvector``. ``backchannel.store.search`` is the one function that queries either.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match backchannel.store.search.PG_DOCUMENT, which queries through this index.
PG_DOCUMENT = "to_tsvector('simple', coalesce(text, '') || ' ' || coalesce(content_warning, ''))"

SQLITE = [
    "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content_warning, content='posts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN "
    "INSERT INTO posts_fts(rowid, text, content_warning) "
    "VALUES (new.id, new.text, new.content_warning); END",
    "CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, content_warning) "
    "VALUES ('delete', old.id, old.text, old.content_warning); END",
    "CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, content_warning ON posts BEGIN "
    "INSERT INTO posts_fts(posts_fts, rowid, text, content_warning) "
    "VALUES ('delete', old.id, old.text, old.content_warning); "
    "INSERT INTO posts_fts(rowid, text, content_warning) "
    "VALUES (new.id, new.text, new.content_warning); END",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX posts_search ON posts USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER posts_fts_{trigger}")
        op.execute("DROP TABLE posts_fts")
    else:
        op.execute("DROP INDEX posts_search")
