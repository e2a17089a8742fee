"""source software: what each server says it runs (NodeInfo)

Servers that speak the Mastodon API page a hashtag differently (GoToSocial's ids are
ULIDs, Mitra ignores min_id, Pixelfed serves media posts only unless asked), and the
Misskey family has an API of its own. The collector reads each source's NodeInfo once,
at its first collection, keeps the software's name and version here, and walks the
tag the way that software pages it. None: not asked yet; "": the server did not say.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_sources") as batch:
        batch.add_column(sa.Column("software", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("software_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_sources") as batch:
        batch.drop_column("software_version")
        batch.drop_column("software")
