"""How many changes the tables an archive is made from have seen.

Migration 0013 keeps the count in ``change_counter`` with database triggers on each
table of :data:`WATCHED`, in the same transaction as the change: on SQLite one per row
(its only kind; it has one writer at a time anyway), on PostgreSQL once per transaction
at its commit (so that the counter's row is never held while other rows are awaited). The exporter records
the count with each event it exports; finding the same count the next time, it knows
that nothing the event's pages show has changed and keeps them without reading a post.

:func:`change_count` gives None, and the exporter works as if everything had changed,
when the count cannot be trusted: the row or any one trigger is missing (a table that
a later migration rebuilt on SQLite loses its triggers, a hand-made schema).
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# The tables whose rows show in an archive: migration 0013's list, and 0015's imports.
WATCHED = (
    "events", "event_sources", "authors", "posts", "post_sightings", "media", "tags",
    "post_tags", "links", "event_posts", "stories", "story_items", "consent_overrides",
    "exclusions", "imports",
)  # fmt: skip


def trigger_names(dialect: str) -> set[str]:
    if dialect == "sqlite":
        kinds = ("insert", "update", "delete")
        return {f"bc_changes_{table}_{kind}" for table in WATCHED for kind in kinds}
    return {f"bc_changes_{table}" for table in WATCHED}


def change_count(session: Session) -> int | None:
    """The count now, or None when it cannot be trusted (see the module's text)."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
    missing = trigger_names(dialect) - set(connection.execute(text(query)).scalars())
    if missing:
        log.warning("change triggers missing (%s): every export reads everything",
                    ", ".join(sorted(missing)[:3]))  # fmt: skip
        return None
    value = connection.execute(text("SELECT value FROM change_counter WHERE id = 1")).scalar()
    return int(value) if value is not None else None
