"""imported posts' consent: an event's choice, and imports counted as changes

Posts imported from old files (`backchannel import`) cannot be re-checked at their
source: their authors cannot be asked and their deletions cannot be seen. An event
says what to publish of them: `story-only` (the default: only the posts a story uses,
kept out of search and data downloads) or `all`. The `imports` table is watched by
the change counter of 0013, as the About page names each import. The column is added
in place (no table rebuild on SQLite, which would drop the events table's triggers).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE change_counter SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column("imported", sa.String(length=16), nullable=False, server_default="story-only"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for kind in ("insert", "update", "delete"):
            op.execute(f"CREATE TRIGGER bc_changes_imports_{kind} AFTER {kind.upper()} ON imports "
                       f"BEGIN {BUMP}; END")  # fmt: skip
        return
    op.execute(
        "CREATE CONSTRAINT TRIGGER bc_changes_imports AFTER INSERT OR UPDATE OR DELETE "
        "ON imports DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bc_count_change()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for kind in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS bc_changes_imports_{kind}")
    else:
        op.execute("DROP TRIGGER IF EXISTS bc_changes_imports ON imports")
    # In place on SQLite too (3.35 and later): a rebuild would drop the table's triggers.
    op.execute("ALTER TABLE events DROP COLUMN imported")
