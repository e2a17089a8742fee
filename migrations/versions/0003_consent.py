"""consent: recorded exclusions and takedowns (issue 9)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("post_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("author_handle", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_exclusions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusions")),
        sa.UniqueConstraint(
            "event_id", "post_key_sha256", name=op.f("uq_exclusions_event_id_post_key_sha256")
        ),
    )
    op.create_table(
        "home_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("noindex", sa.Boolean(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("limited", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_checks")),
        sa.UniqueConstraint("author_key_sha256", name=op.f("uq_home_checks_author_key_sha256")),
    )


def downgrade() -> None:
    op.drop_table("home_checks")
    op.drop_table("exclusions")
