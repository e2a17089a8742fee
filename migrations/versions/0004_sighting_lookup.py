"""sighting lookup: an index on post_sightings (server, native_id)

A reply from Mastodon names its parent only by the queried server's local id; the store
resolves it through that server's sightings on every page. Without this index that was
a scan of every sighting, a cost that grew with the archive.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_post_sightings_server_native_id",
        "post_sightings",
        ["server", "native_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_post_sightings_server_native_id", table_name="post_sightings")
