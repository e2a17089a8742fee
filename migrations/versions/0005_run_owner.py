"""run owner and unreadable posts: close runs whose process died; name skipped posts

A collection run killed with ``kill -9`` stayed ``running`` for ever. ``owner`` names
the process that runs it (``host:pid``), so the next start on that host can close it as
``interrupted`` when that process is gone. ``unreadable`` lists the ids (never the
content) of posts a source sent that could not be read, at most 100 a run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("collection_runs", sa.Column("owner", sa.String(length=255), nullable=True))
    op.add_column("collection_runs", sa.Column("unreadable", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_runs") as batch:
        batch.drop_column("unreadable")
        batch.drop_column("owner")
