"""story revisions as deltas: only the newest keeps its whole Markdown

An older revision keeps the line delta that turns the next revision into it, so a
change costs about its own size rather than the story's (12 revisions of a story with
a 1 MB text block took 11 MB). Rows saved before keep their whole text and are read as
they are; the next save of their story turns its newest row into a delta.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("story_revisions") as batch:
        batch.add_column(sa.Column("delta", sa.Text(), nullable=True))
        batch.alter_column("markdown", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    raise NotImplementedError(
        "revisions stored as deltas cannot go back to 0010's whole texts: restore the "
        "backup `backchannel db upgrade` made of a SQLite file, or a dump of PostgreSQL"
    )
