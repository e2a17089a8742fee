"""studio sessions held on the server, sign-in links that work once, undo history per
person and story, addresses in the log

A session is a row (`studio_sessions`); the browser's cookie holds only a random key
whose SHA-256 the row keeps, so signing out, removing an account, changing its role or
`backchannel studio sessions end` ends it everywhere. A sign-in link (`studio_links`)
works once. Undo and redo are kept per person and story (`studio_history`), not in the
cookie. The action log records the address of each action, so wrong passwords slow
down the address and the name they came from rather than lock a name out for everyone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "studio_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("who", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=True),
        sa.Column("csrf", sa.String(length=100), nullable=False),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "studio_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "studio_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("who", sa.String(length=300), nullable=False),
        sa.Column("event_id", sa.Integer(),
                  sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),  # fmt: skip
        sa.Column("story", sa.String(length=100), nullable=False),
        sa.Column("undo", sa.JSON(), nullable=False),
        sa.Column("redo", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("who", "event_id", "story"),
    )
    with op.batch_alter_table("studio_actions") as batch:
        batch.add_column(
            sa.Column("address", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("studio_actions") as batch:
        batch.drop_column("address")
    op.drop_table("studio_history")
    op.drop_table("studio_links")
    op.drop_table("studio_sessions")
