"""change counter: triggers count every change to what an archive shows

An export that finds the count it recorded last time knows that nothing it reads
changed, and keeps the event's pages without loading a post (issue 37). Triggers,
not application code, do the counting, so that no write path (collect, recheck,
media, forget, the studio, a hand-written UPDATE) can forget it. The list of tables
is frozen here; ``backchannel.store.changes.WATCHED`` names the same, and the export
trusts the count only when every one of these triggers exists (a later migration
that rebuilds a table on SQLite drops its triggers: it must make them again).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "events", "event_sources", "authors", "posts", "post_sightings", "media", "tags",
    "post_tags", "links", "event_posts", "stories", "story_items", "consent_overrides",
    "exclusions",
)  # fmt: skip
BUMP = "UPDATE change_counter SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite has row triggers only: one per table and kind of change.
        for table in TABLES:
            for kind in ("insert", "update", "delete"):
                op.execute(
                    f"CREATE TRIGGER bc_changes_{table}_{kind} AFTER {kind.upper()} ON {table} "
                    f"BEGIN {BUMP}; END"
                )
        return
    # PostgreSQL: counted at commit (a deferred constraint trigger), once per
    # transaction (a flag local to it). Counted at each statement instead, the counter
    # row would be locked from a transaction's first change to its end, and two
    # writers taking it and a post's row in opposite orders would deadlock.
    op.execute(
        "CREATE FUNCTION bc_count_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF current_setting('backchannel.counted', true) IS DISTINCT FROM 'yes' THEN "
        "PERFORM set_config('backchannel.counted', 'yes', true); "
        f"{BUMP}; END IF; RETURN NULL; END; $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER bc_changes_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION bc_count_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for kind in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS bc_changes_{table}_{kind}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS bc_changes_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bc_count_change()")
    op.drop_table("change_counter")
