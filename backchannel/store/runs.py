"""Collection runs: one row per source per pass, for ``status`` and the summary.

A run is opened by the collect service, counted page by page with its page's
transaction, and finished with its result. Its ``owner`` (``host:pid``) lets a later
start close a run whose process died (``kill -9``) as ``interrupted``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.store.changes import prune_change_log
from backchannel.store.models import CollectionRun, EventSource
from backchannel.store.writer import PageResult

log = logging.getLogger(__name__)

UNREADABLE_KEPT = 100  # ids of unreadable posts kept per run


def run_owner() -> str:
    """This process, as a run's ``owner``: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(session: Session, source: EventSource) -> CollectionRun:
    run = CollectionRun(source_id=source.id, status="running", owner=run_owner())
    session.add(run)
    session.flush()
    return run


def add_to_run(
    session: Session,
    run_id: int,
    requests: int,
    result: PageResult,
    unreadable: Sequence[str] = (),
) -> None:
    run = session.get(CollectionRun, run_id)
    if run is None:
        return
    run.requests += requests
    run.new += result.new
    run.updated += result.updated
    skipped = Counter(run.skipped or {})
    skipped.update(result.skipped)
    run.skipped = dict(skipped)
    if unreadable:
        run.unreadable = [*(run.unreadable or []), *unreadable][:UNREADABLE_KEPT]


def owner_is_gone(owner: str) -> bool:
    """Whether the process named by ``owner`` (``host:pid``, as :func:`run_owner` gives
    it) is known to have ended: on this host and no longer running. A process of
    another host is never known to be gone."""
    owner_host, _, pid = owner.rpartition(":")
    return owner_host == socket.gethostname() and not _alive(pid)


def close_dead_runs(session: Session) -> int:
    """Close as ``interrupted`` the runs left ``running`` by a process of this host that
    is gone (``kill -9``, a power cut). Runs of other hosts are left to them."""
    closed = 0
    for run in session.scalars(select(CollectionRun).where(CollectionRun.status == "running")):
        if run.owner and not owner_is_gone(run.owner):
            continue
        run.status = "interrupted"
        run.error = "its process ended before the run finished (killed?)"
        run.finished_at = datetime.now(UTC)
        closed += 1
    if closed:
        log.info("closed %d collection run(s) whose process had died", closed)
    return closed


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def finish_run(
    session: Session, run_id: int, status: str, error: str | None, extra_requests: int = 0
) -> None:
    run = session.get(CollectionRun, run_id)
    if run is None:
        return
    run.status = status
    run.error = error
    run.requests += extra_requests
    run.finished_at = datetime.now(UTC)
    prune_change_log(session)  # PostgreSQL's log of changed posts: its old rows
