"""story revisions and the studio's log: every save of a story kept; who did what

A storyboard was one set of rows, replaced whole by each `story import`. The studio
saves every change as a new revision (its Markdown file, numbered per story) and
refuses a save made on an older revision than the newest; `story import` adds one too.
``studio_actions`` records who did what in the studio, and when.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "story_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id", sa.Integer(), sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "slug", "number"),
    )
    op.create_table(
        "studio_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("studio_actions")
    op.drop_table("story_revisions")
