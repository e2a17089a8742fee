"""post change log: PostgreSQL's stamps, an insert-only log read against a snapshot

Migration 0017 stamps changed posts on SQLite. On PostgreSQL a stamp written into the
post's one row would make two writers that change the same posts in opposite orders
wait on each other (the deadlock 0013 avoids). Here each change *adds* a row
(post, the writing transaction's id): rows of different transactions never conflict,
so no writer waits for another (the one unique index only folds a transaction's own
repeats). An export keeps its snapshot (``pg_current_snapshot``) and the next reads
the posts whose logged transaction that snapshot did not see.

The log is pruned of rows older than a week at the end of each collection run
(``backchannel.store.changes.prune_change_log``), and ``post_change_pruned`` keeps the
newest transaction pruned: an export whose snapshot is not past it reads everything.
On SQLite the tables exist (the schema is one) and stay empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As 0017: table -> (changes logged, the posts a row R stands for: a SELECT of ``id``).
LOGGED = {
    "posts": (("insert", "update", "delete"), "SELECT R.id AS id"),
    "event_posts": (("insert", "update", "delete"), "SELECT R.post_id AS id"),
    "authors": (("update",), "SELECT id FROM posts WHERE author_id = R.id"),
    "media": (
        ("insert", "update", "delete"),
        "SELECT R.post_id AS id WHERE R.post_id IS NOT NULL UNION "
        "SELECT id FROM posts WHERE R.post_id IS NULL AND author_id = R.author_id",
    ),
    "post_sightings": (("insert", "delete"), "SELECT R.post_id AS id"),
    "post_tags": (("insert", "delete"), "SELECT R.post_id AS id"),
    "links": (("insert", "delete"), "SELECT R.post_id AS id"),
}


def _log(ids: str) -> str:
    return (
        "INSERT INTO post_change_log (post_id, xid) "
        f"SELECT changed.id, pg_current_xact_id()::text::bigint FROM ({ids}) AS changed "
        "ON CONFLICT DO NOTHING"
    )


def upgrade() -> None:
    op.create_table(
        "post_change_log",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),  # fmt: skip
        sa.PrimaryKeyConstraint("post_id", "xid", name=op.f("pk_post_change_log")),
    )
    op.create_index("ix_post_change_log_xid", "post_change_log", ["xid"])
    op.create_index("ix_post_change_log_logged_at", "post_change_log", ["logged_at"])
    op.create_table(
        "post_change_pruned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_change_pruned")),
    )
    op.execute("INSERT INTO post_change_pruned (id, xid) VALUES (1, 0)")
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (kinds, ids) in LOGGED.items():
        new, old = _log(ids.replace("R.", "NEW.")), _log(ids.replace("R.", "OLD."))
        op.execute(
            f"CREATE FUNCTION bc_log_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' THEN {old}; ELSE {new}; END IF; RETURN NULL; END; $$"
        )
        events = " OR ".join(kind.upper() for kind in kinds)
        op.execute(
            f"CREATE TRIGGER bc_log_{table} AFTER {events} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION bc_log_{table}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOGGED:
            op.execute(f"DROP TRIGGER IF EXISTS bc_log_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS bc_log_{table}()")
    op.drop_table("post_change_pruned")
    op.drop_index("ix_post_change_log_logged_at", table_name="post_change_log")
    op.drop_index("ix_post_change_log_xid", table_name="post_change_log")
    op.drop_table("post_change_log")
