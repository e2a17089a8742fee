"""released files: media files to remove once the transaction that let them go commits

A recheck that removed a deleted post (or `forget`, or a changed avatar) deleted its
media rows, committed, then removed the files. Killed in between, the files stayed for
ever with no row naming them. The transaction now also writes each file's sha256 here;
the prune after it (and the next media fetch, recheck or forget) removes the unused
files and then these rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "released_files",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("released_files")
