"""archive over time: scheduler lock, media and recheck state (issue 8)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # -- scheduler: single-instance lock and rate-limit state (issue 8, `run`/`status`) --
    op.create_table(
        "scheduler_locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_locks")),
    )
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rate_limit", sa.JSON(), nullable=True))
    # -- end of the scheduler block --
    # -- media and recheck (issue 8): when each post was last rechecked at its source --
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
    # -- end of the media and recheck block --


def downgrade() -> None:
    # -- media and recheck block --
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
    # -- end of the media and recheck block --
    # -- scheduler block --
    with op.batch_alter_table("collection_runs", schema=None) as batch_op:
        batch_op.drop_column("rate_limit")
    op.drop_table("scheduler_locks")
    # -- end of the scheduler block --
