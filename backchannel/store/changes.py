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

Migrations 0017 (SQLite: ``post_changes``) and 0018 (PostgreSQL: ``post_change_log``)
stamp each post whose published form may have changed. :func:`change_mark` says what a reading session sees of the stamps
(kept by the export with its index), :func:`changed_posts` which posts were stamped
since such a mark: the next export reads those and keeps the rest of its index.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_SNAPSHOT = re.compile(r"[0-9]{1,20}:[0-9]{1,20}:([0-9]{1,20}(,[0-9]{1,20})*)?")  # xmin:xmax:xip

# The tables whose rows show in an archive: migration 0013's list, and 0015's imports.
WATCHED = (
    "events", "event_sources", "authors", "posts", "post_sightings", "media", "tags",
    "post_tags", "links", "event_posts", "stories", "story_items", "consent_overrides",
    "exclusions", "imports",
)  # fmt: skip


# The stamping triggers (0017 on SQLite, 0018 on PostgreSQL): table -> the changes
# that stamp a post.
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
    """Migration 0017's triggers (SQLite), or 0018's (PostgreSQL)."""
    if dialect == "sqlite":
        return {f"bc_stamp_{table}_{kind}" for table, kinds in STAMPED.items() for kind in kinds}
    return {f"bc_log_{table}" for table in STAMPED}


def _triggers(session: Session) -> tuple[str, set[str]]:
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
    return dialect, set(connection.execute(text(query)).scalars())


def change_mark(session: Session) -> str | None:
    """What ``session`` sees of the post stamps, as text to keep: ``sqlite:<count>``, or
    ``postgresql:<snapshot>``. Taken before reading a post: a change the session does
    not see is stamped after it. None when the stamps cannot be trusted (a trigger is
    missing)."""
    dialect, present = _triggers(session)
    if stamp_trigger_names(dialect) - present:
        return None
    if dialect == "sqlite":
        count = change_count(session)
        return None if count is None else f"sqlite:{count}"
    snapshot = session.connection().execute(text("SELECT pg_current_snapshot()::text")).scalar()
    return f"postgresql:{snapshot}"


def changed_posts(session: Session, mark: str) -> set[int] | None:
    """The ids of the posts stamped since ``mark`` (:func:`change_mark`), posts deleted
    since included; None when the mark is not one this database can answer (then
    every post counts as changed)."""
    dialect, present = _triggers(session)
    kind, _, value = mark.partition(":")
    if kind != dialect or stamp_trigger_names(dialect) - present:
        return None
    connection = session.connection()
    if dialect == "sqlite":
        if not value.isdigit():
            return None
        now = change_count(session)
        if now is None or now < int(value):  # the database went back (a backup restored)
            return None
        query = text("SELECT post_id FROM post_changes WHERE stamp > :value")
        return set(connection.execute(query, {"value": int(value)}).scalars())
    if not _SNAPSHOT.fullmatch(value):
        return None
    xmin = int(value.split(":", 1)[0])
    pruned = connection.execute(text("SELECT xid FROM post_change_pruned WHERE id = 1")).scalar()
    if pruned is None or xmin <= pruned:  # rows it would need may be pruned
        return None
    # A row is the transaction that changed the post: changed since when the mark's
    # snapshot did not see it (running then, or begun after). Those are at or past
    # the snapshot's xmin: the index on xid finds them.
    query = text(
        "SELECT DISTINCT post_id FROM post_change_log WHERE xid >= :xmin "
        "AND NOT pg_visible_in_snapshot(xid::text::xid8, CAST(:value AS pg_snapshot))"
    )
    return set(connection.execute(query, {"xmin": xmin, "value": value}).scalars())


PRUNE_AFTER = timedelta(days=7)
_PRUNE_LOCK = 0x62635F6C6F67  # one pruner at a time (an advisory lock's key)


def prune_change_log(session: Session, older_than: timedelta = PRUNE_AFTER) -> int:
    """Drop PostgreSQL's log rows older than ``older_than`` and move the pruned horizon
    past them (an export kept before it then reads everything). Called at the end of
    each collection run; how many rows went. Nothing on SQLite."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return 0
    if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                              {"key": _PRUNE_LOCK}).scalar():  # fmt: skip
        return 0
    cutoff = datetime.now(UTC) - older_than
    gone = list(connection.execute(
        text("DELETE FROM post_change_log WHERE logged_at < :cutoff RETURNING xid"),
        {"cutoff": cutoff},
    ).scalars())  # fmt: skip
    if gone:
        connection.execute(
            text("UPDATE post_change_pruned SET xid = GREATEST(xid, :top) WHERE id = 1"),
            {"top": max(gone)},
        )
    return len(gone)
