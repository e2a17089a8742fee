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

Migration 0017 stamps each post whose published form may have changed in
``post_changes``. :func:`change_mark` says what a reading session sees of the stamps
(kept by the export with its index), :func:`changed_posts` which posts were stamped
since such a mark: the next export reads those and keeps the rest of its index.
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


# Migration 0017's stamping triggers (SQLite): table -> the changes that stamp a post.
STAMPED = {
    "posts": ("insert", "update", "delete"),
    "event_posts": ("insert", "update", "delete"),
    "authors": ("update",),
    "media": ("insert", "update", "delete"),
    "post_sightings": ("insert", "delete"),
    "post_tags": ("insert", "delete"),
    "links": ("insert", "delete"),
}


def trigger_names(dialect: str) -> set[str]:
    if dialect == "sqlite":
        kinds = ("insert", "update", "delete")
        return {f"bc_changes_{table}_{kind}" for table in WATCHED for kind in kinds}
    return {f"bc_changes_{table}" for table in WATCHED}


def change_count(session: Session) -> int | None:
    """The count now, or None when it cannot be trusted (see the module's text)."""
    dialect, present = _triggers(session)
    missing = trigger_names(dialect) - present
    if missing:
        log.warning("change triggers missing (%s): every export reads everything",
                    ", ".join(sorted(missing)[:3]))  # fmt: skip
        return None
    value = session.connection().execute(text("SELECT value FROM change_counter WHERE id = 1"))
    count = value.scalar()
    return int(count) if count is not None else None


def stamp_trigger_names(dialect: str) -> set[str]:
    """Migration 0017's triggers (SQLite only, so far)."""
    return {f"bc_stamp_{table}_{kind}" for table, kinds in STAMPED.items() for kind in kinds}


def _triggers(session: Session) -> tuple[str, set[str]]:
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
    return dialect, set(connection.execute(text(query)).scalars())


def change_mark(session: Session) -> str | None:
    """What ``session`` sees of the post stamps, as text to keep (``sqlite:<count>``).
    Taken before reading a post: a change the session does not see is stamped after
    it. None when the stamps cannot be trusted (a trigger is missing) or the database
    keeps none (PostgreSQL: see migration 0017)."""
    dialect, present = _triggers(session)
    if dialect != "sqlite" or stamp_trigger_names(dialect) - present:
        return None
    count = change_count(session)
    return None if count is None else f"sqlite:{count}"


def changed_posts(session: Session, mark: str) -> set[int] | None:
    """The ids of the posts stamped since ``mark`` (:func:`change_mark`), posts deleted
    since included; None when the mark is not one this database can answer (then
    every post counts as changed)."""
    dialect, present = _triggers(session)
    kind, _, value = mark.partition(":")
    if dialect != "sqlite" or kind != dialect or not value.isdigit():
        return None
    if stamp_trigger_names(dialect) - present:
        return None
    now = change_count(session)
    if now is None or now < int(value):  # the database went back (a backup restored)
        return None
    query = text("SELECT post_id FROM post_changes WHERE stamp > :value")
    return set(session.connection().execute(query, {"value": int(value)}).scalars())
