"""One ``backchannel run`` per database: a lock row with a heartbeat.

The same code works on SQLite and PostgreSQL: a row in ``scheduler_locks`` is claimed
in a write transaction (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` and the
primary key on PostgreSQL), and the holder refreshes ``heartbeat_at`` while it runs.
A second ``run`` finds a live holder and refuses with a message that names it.

A holder that died without releasing (SIGKILL, power loss) never blocks for long: its
row is taken over once its heartbeat is older than :data:`STALE_AFTER`, or at once
when it was on this host and its process no longer exists. Advisory locks were the
alternative, but PostgreSQL's vanish with the connection (a pool reconnect would drop
them silently) and SQLite has none; a row is visible to ``status`` too.

``collect`` and the other commands do not take this lock: every write they make is
already safe beside a running scheduler (one transaction per page, idempotent upserts).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backchannel.errors import ConflictError
from backchannel.store import Database, SchedulerLock

log = logging.getLogger(__name__)

LOCK_NAME = "run"
HEARTBEAT_EVERY = timedelta(seconds=10)
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    started_at: datetime
    heartbeat_at: datetime

    def describe(self, now: datetime | None = None) -> str:
        age = ((now or datetime.now(UTC)) - self.heartbeat_at).total_seconds()
        return (
            f"pid {self.pid} on {self.host}, running since "
            f"{self.started_at:%Y-%m-%d %H:%M:%S} UTC, last heartbeat {max(age, 0):.0f} s ago"
        )


def current_holder(session: Session, name: str = LOCK_NAME) -> Holder | None:
    """Who holds the lock now (a stale holder is not one)."""
    row = session.get(SchedulerLock, name)
    if row is None or _stale(row, datetime.now(UTC)):
        return None
    return Holder(row.pid, row.host, row.started_at, row.heartbeat_at)


def _stale(row: SchedulerLock, now: datetime) -> bool:
    if now - row.heartbeat_at > STALE_AFTER:
        return True
    if row.host == socket.gethostname() and row.pid != os.getpid():
        return not _process_exists(row.pid)
    return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


class RunLock:
    """The scheduler's claim on a database. Use :meth:`acquire`, then :meth:`release`."""

    def __init__(self, db: Database, name: str = LOCK_NAME) -> None:
        self.db = db
        self.name = name
        self.holder = uuid.uuid4().hex
        self.held = False

    def acquire(self) -> None:
        """Claim the lock, or raise ConflictError naming the live holder."""
        try:
            self._claim()
        except IntegrityError:  # PostgreSQL: another process inserted the row first
            self._claim()
        self.held = True
        log.info("holding the scheduler lock of %s", self.db.display_url)

    def _claim(self) -> None:
        now = datetime.now(UTC)
        with self.db.writing() as session:
            row = session.scalar(
                select(SchedulerLock).where(SchedulerLock.name == self.name).with_for_update()
            )
            if row is not None and row.holder != self.holder and not _stale(row, now):
                holder = Holder(row.pid, row.host, row.started_at, row.heartbeat_at)
                raise ConflictError(
                    f"another `backchannel run` is using {self.db.display_url} "
                    f"({holder.describe(now)}); stop it first (a killed one is taken over "
                    f"after {int(STALE_AFTER.total_seconds())} s without a heartbeat)"
                )
            if row is None:
                row = SchedulerLock(name=self.name)
                session.add(row)
            elif row.holder != self.holder:
                log.warning("taking over a stale scheduler lock (pid %s on %s)", row.pid, row.host)
            row.holder, row.pid, row.host = self.holder, os.getpid(), socket.gethostname()
            row.started_at = row.heartbeat_at = now

    def heartbeat(self) -> bool:
        """Refresh the claim. False if the lock is no longer ours (taken over)."""
        with self.db.writing() as session:
            result = session.execute(
                update(SchedulerLock)
                .where(SchedulerLock.name == self.name, SchedulerLock.holder == self.holder)
                .values(heartbeat_at=datetime.now(UTC))
            )
            ours = bool(result.rowcount)  # type: ignore[attr-defined]
        if not ours:
            log.error("the scheduler lock was taken over by another process")
            self.held = False
        return ours

    def release(self) -> None:
        if not self.held:
            return
        with self.db.writing() as session:
            session.execute(
                delete(SchedulerLock).where(
                    SchedulerLock.name == self.name, SchedulerLock.holder == self.holder
                )
            )
        self.held = False
        log.info("released the scheduler lock")
