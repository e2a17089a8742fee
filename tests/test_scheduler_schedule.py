"""The schedule as pure functions: phases, intervals, the end; and the run lock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from backchannel.collect.runlock import STALE_AFTER, RunLock, current_holder
from backchannel.collect.schedule import Cadence, collection_phase, next_collection, next_recheck
from backchannel.collectors.base import Window
from backchannel.errors import ConflictError
from backchannel.store.db import Database
from backchannel.store.models import SchedulerLock

START = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=10))
CADENCE = Cadence(
    collect_every=timedelta(minutes=5),
    after_every=timedelta(minutes=60),
    after_for=timedelta(days=7),
    recheck_every=timedelta(hours=24),
    recheck_for=timedelta(days=30),
)


def test_phases_follow_the_window_then_the_days_after() -> None:
    assert collection_phase(WINDOW, CADENCE, START - timedelta(minutes=1)) == "before"
    assert collection_phase(WINDOW, CADENCE, START) == "during"
    assert collection_phase(WINDOW, CADENCE, WINDOW.end) == "during"
    assert collection_phase(WINDOW, CADENCE, WINDOW.end + timedelta(days=1)) == "after"
    assert collection_phase(WINDOW, CADENCE, WINDOW.end + timedelta(days=8)) == "done"


def test_collection_waits_for_the_window_then_runs_every_few_minutes() -> None:
    early = START - timedelta(days=2)
    assert next_collection(WINDOW, CADENCE, early) == START
    now = START + timedelta(hours=1)
    assert next_collection(WINDOW, CADENCE, now) == now  # due at once
    assert next_collection(WINDOW, CADENCE, now, previous=now) == now + timedelta(minutes=5)


def test_collection_slows_to_hourly_after_the_window_then_stops() -> None:
    last_during = WINDOW.end - timedelta(minutes=1)
    assert next_collection(WINDOW, CADENCE, last_during, last_during) == last_during + timedelta(
        minutes=5
    )
    after = WINDOW.end + timedelta(hours=3)
    assert next_collection(WINDOW, CADENCE, after, after) == after + timedelta(hours=1)
    near_end = WINDOW.end + timedelta(days=7) - timedelta(minutes=30)
    assert next_collection(WINDOW, CADENCE, near_end, near_end) is None
    assert next_collection(WINDOW, CADENCE, WINDOW.end + timedelta(days=8)) is None


def test_a_trigger_walk_over_the_whole_schedule_ends() -> None:
    times, previous = [], None
    now = START - timedelta(hours=1)
    while (due := next_collection(WINDOW, CADENCE, now, previous)) is not None:
        times.append(due)
        previous = now = due
    during = [t for t in times if t <= WINDOW.end]
    after = [t for t in times if t > WINDOW.end]
    assert times[0] == START and len(during) == 10 * 12 + 1
    assert all(b - a == timedelta(hours=1) for a, b in zip(after, after[1:], strict=False))
    assert times[-1] <= WINDOW.end + timedelta(days=7)
    assert len(after) == 7 * 24


def test_rechecks_run_daily_after_the_event_for_the_configured_days() -> None:
    assert next_recheck(WINDOW, CADENCE, START) == WINDOW.end + timedelta(days=1)
    later = WINDOW.end + timedelta(days=3, hours=2)
    assert next_recheck(WINDOW, CADENCE, later) == WINDOW.end + timedelta(days=4)
    previous = WINDOW.end + timedelta(days=29)
    assert next_recheck(WINDOW, CADENCE, previous, previous) == WINDOW.end + timedelta(days=30)
    assert next_recheck(WINDOW, CADENCE, previous, previous + timedelta(days=1)) is None


def test_second_scale_intervals_from_config_floats() -> None:
    from backchannel.config import ScheduleConfig

    cadence = Cadence.from_config(ScheduleConfig(collect_every_minutes=0.02))
    assert cadence.collect_every == timedelta(seconds=1.2)


# -- the run lock ------------------------------------------------------------------------


def test_a_second_holder_is_refused_and_a_released_lock_is_free(db_url: str) -> None:
    db = Database(db_url)
    db.init()
    first, second = RunLock(db), RunLock(db)
    first.acquire()
    with db.reading() as session:
        holder = current_holder(session)
    assert holder is not None and holder.pid == os.getpid()
    with pytest.raises(ConflictError, match="another `backchannel run` is using"):
        second.acquire()
    assert first.heartbeat()
    first.release()
    second.acquire()
    assert not first.heartbeat(), "a released lock is not the old holder's any more"
    second.release()
    db.dispose()


def test_a_killed_holder_does_not_block_for_ever(db_url: str) -> None:
    db = Database(db_url)
    db.init()
    # A holder on this host whose process is gone is taken over at once ...
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    now = datetime.now(UTC)
    with db.writing() as session:
        session.add(SchedulerLock(name="run", holder="gone", pid=int(dead.stdout), host=socket.gethostname(),
                                  started_at=now, heartbeat_at=now))  # fmt: skip
    lock = RunLock(db)
    lock.acquire()
    lock.release()
    # ... and one on another host once its heartbeat is stale.
    with db.writing() as session:
        session.add(SchedulerLock(name="run", holder="far", pid=1, host="elsewhere.example",
                                  started_at=now, heartbeat_at=now))  # fmt: skip
    with pytest.raises(ConflictError, match="elsewhere.example"):
        RunLock(db).acquire()
    with db.writing() as session:
        row = session.get(SchedulerLock, "run")
        assert row is not None
        row.heartbeat_at = now - STALE_AFTER - timedelta(seconds=1)
    RunLock(db).acquire()
    db.dispose()
