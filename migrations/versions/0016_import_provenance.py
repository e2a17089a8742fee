"""import provenance: the tool that made an imported file, and when it captured its posts

Where the file says (twarc2 writes its version and `retrieved_at` on every line; a
Storify story its last update), the About page names them beside the file. Added in
place (no table rebuild on SQLite, which would drop the imports table's triggers).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("tool", sa.String(length=100), nullable=False,
                                       server_default=""))  # fmt: skip
    op.add_column("imports", sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place on SQLite too (3.35 and later): a rebuild would drop the table's triggers.
    op.execute("ALTER TABLE imports DROP COLUMN tool")
    op.execute("ALTER TABLE imports DROP COLUMN captured_at")
