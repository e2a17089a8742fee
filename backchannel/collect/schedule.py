"""When the scheduler collects and rechecks: pure functions of the event window and now.

Collection of an event source has three phases:

* **during**: from the start of the window's margin to its end (``collection_window``),
  every ``schedule.collect_every_minutes``;
* **after**: then every ``schedule.after_event_every_minutes`` for
  ``schedule.after_event_days``;
* **done**: no more collection.

Rechecks run every ``schedule.recheck_every_hours`` after the window ends, for
``schedule.recheck_days``. ``backchannel run`` turns these into APScheduler triggers
(:mod:`backchannel.collect.scheduler`) and ``backchannel status`` shows the next time from the
same functions, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backchannel.collectors import Window
from backchannel.config import ScheduleConfig


@dataclass(frozen=True)
class Cadence:
    collect_every: timedelta
    after_every: timedelta
    after_for: timedelta
    recheck_every: timedelta
    recheck_for: timedelta
    jitter_seconds: float = 0.0

    @classmethod
    def from_config(cls, schedule: ScheduleConfig) -> Cadence:
        return cls(
            collect_every=timedelta(minutes=schedule.collect_every_minutes),
            after_every=timedelta(minutes=schedule.after_event_every_minutes),
            after_for=timedelta(days=schedule.after_event_days),
            recheck_every=timedelta(hours=schedule.recheck_every_hours),
            recheck_for=timedelta(days=schedule.recheck_days),
            jitter_seconds=schedule.jitter_seconds,
        )


def collection_phase(window: Window, cadence: Cadence, moment: datetime) -> str:
    """``before``, ``during``, ``after`` or ``done`` for the collection of ``window``."""
    if moment < window.start:
        return "before"
    if moment <= window.end:
        return "during"
    if moment <= window.end + cadence.after_for:
        return "after"
    return "done"


def collection_interval(window: Window, cadence: Cadence, moment: datetime) -> timedelta | None:
    """How long after a collection at ``moment`` the next one is due (None: no more)."""
    phase = collection_phase(window, cadence, moment)
    if phase in ("before", "during"):
        return cadence.collect_every
    if phase == "after":
        return cadence.after_every
    return None


def next_collection(
    window: Window, cadence: Cadence, now: datetime, previous: datetime | None = None
) -> datetime | None:
    """When a source should next be collected, or None when its schedule has ended.

    ``previous`` is when the last collection was due (the scheduler) or started
    (``status``); with none, collection is due at once, or at the start of the
    window's margin if that is still to come. A time already past means "due now".
    """
    last = window.end + cadence.after_for
    if previous is None:
        due = max(now, window.start)
    else:
        interval = collection_interval(window, cadence, max(previous, window.start))
        if interval is None:
            return None
        due = max(previous + interval, window.start)
    return due if due <= last else None


def next_recheck(
    window: Window, cadence: Cadence, now: datetime, previous: datetime | None = None
) -> datetime | None:
    """When an event's posts should next be rechecked (None: rechecks have ended).

    The first recheck is one interval after the window ends; then one per interval
    until ``recheck_for`` after the end. With no ``previous`` (a fresh scheduler) the
    next due time is the first step of that grid that is not yet past.
    """
    last = window.end + cadence.recheck_for
    step = cadence.recheck_every
    if step <= timedelta(0):
        return None
    if previous is not None:
        due = previous + step
    elif now <= window.end + step:
        due = window.end + step
    else:
        steps = (now - window.end) // step
        due = window.end + step * steps
        if due < now:
            due += step
    due = max(due, window.end + step)
    return due if due <= last else None
