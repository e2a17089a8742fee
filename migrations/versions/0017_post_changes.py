"""post changes: triggers stamp each post whose published form may have changed

An export after new posts should read those posts, not the event's every post (issue
37). ``post_changes`` holds one row per post with the *stamp* of its last change,
written by triggers on every table a post's row in the export's index is made from:
the post, its event rows (hidden, featured), its author (and so its consent verdict),
its media (stored, described, avatars), tags, links and sightings. As with 0013,
triggers and not application code, so that no write path can forget.

The stamp says *when*, in a way an export can compare with the moment it read:

* SQLite: the change counter of 0013 plus one. SQLite has one writer at a time and a
  reader sees a committed state, so a change an export did not see has a stamp above
  the count that export recorded.
* PostgreSQL: no triggers yet, and every export reads every post as before. A stamp
  written by each changing transaction into the post's row would make two writers
  that change the same posts in different orders (an author, then a post; the post,
  then its author) wait on each other: the deadlock migration 0013 avoids by counting
  at commit (test_export_unchanged shows it). An insert-only log (one row per post
  and transaction, read against the export's snapshot) avoids the locks; it needs a
  pruning rule first.

Deleted rows stamp too (the post's id stays in the table without its post): the next
export learns that the post is gone. The list of triggers is frozen here;
``backchannel.store.changes`` names the same, and trusts the stamps only when every
one exists.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (changes that stamp, the posts a row R stands for: a SELECT of their ``id``)
STAMPED = {
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


def _upsert(ids: str, stamp: str) -> str:
    # ``WHERE true``: SQLite reads ON CONFLICT after a bare SELECT as a join's ON.
    return (
        f"INSERT INTO post_changes (post_id, stamp) SELECT changed.id, {stamp} "
        f"FROM ({ids}) AS changed WHERE true "
        "ON CONFLICT (post_id) DO UPDATE SET stamp = excluded.stamp"
    )


def upgrade() -> None:
    op.create_table(
        "post_changes",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_post_changes")),
    )
    op.create_index("ix_post_changes_stamp", "post_changes", ["stamp"])
    if op.get_bind().dialect.name != "sqlite":
        return
    stamp = "(SELECT value + 1 FROM change_counter WHERE id = 1)"
    for table, (kinds, ids) in STAMPED.items():
        for kind in kinds:
            row = "OLD" if kind == "delete" else "NEW"
            op.execute(
                f"CREATE TRIGGER bc_stamp_{table}_{kind} AFTER {kind.upper()} ON {table} "
                f"BEGIN {_upsert(ids.replace('R.', f'{row}.'), stamp)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, (kinds, _) in STAMPED.items():
            for kind in kinds:
                op.execute(f"DROP TRIGGER IF EXISTS bc_stamp_{table}_{kind}")
    op.drop_index("ix_post_changes_stamp", table_name="post_changes")
    op.drop_table("post_changes")
