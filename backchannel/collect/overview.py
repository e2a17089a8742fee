"""What ``backchannel status`` shows: per source its last run, next run, totals,
rate-limit state and last error; per event the media backlog and pending rechecks;
and whether a ``backchannel run`` holds the database. Reads only.

"Next run" comes from the same schedule functions the scheduler's triggers use
(:mod:`backchannel.collect.schedule`), counted from the last run's start, so it is what
``run`` would do (give or take ``schedule.jitter_seconds``) if it is running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.collect.rechecking import pending_rechecks
from backchannel.collect.runlock import Holder, current_holder
from backchannel.collect.schedule import Cadence, collection_phase, next_collection, next_recheck
from backchannel.config import Config
from backchannel.events import collection_window, get_event, list_events
from backchannel.media import media_backlog
from backchannel.store import CollectionRun, Event, EventSource


@dataclass(frozen=True)
class SourceStatus:
    platform: str
    base_url: str
    software: str  # what it runs, as its NodeInfo said (EventSource.software_label)
    last_started: datetime | None
    last_finished: datetime | None
    last_status: str | None  # ok failed interrupted running; None: never collected
    last_new: int
    last_updated: int
    next_run: datetime | None  # None: the schedule has ended
    runs: int
    requests: int  # over all runs
    new: int  # over all runs
    rate_limit: dict[str, Any] | None  # the last headers seen
    last_error: str | None
    last_error_at: datetime | None
    last_skipped: dict[str, int] = field(default_factory=dict)  # reason -> posts, last run
    last_unreadable: list[str] = field(default_factory=list)  # their ids, last run


@dataclass(frozen=True)
class EventStatus:
    slug: str
    title: str
    phase: str  # before during after done
    next_recheck: datetime | None
    media_backlog: int
    pending_rechecks: int
    sources: list[SourceStatus] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    now: datetime
    scheduler: Holder | None  # the live `backchannel run`, if any
    events: list[EventStatus]


def status(
    session: Session, config: Config, event_slug: str | None = None, now: datetime | None = None
) -> Status:
    now = now or datetime.now(UTC)
    cadence = Cadence.from_config(config.schedule)
    events = [get_event(session, event_slug)] if event_slug else list_events(session)
    return Status(now, current_holder(session), [_event(session, e, cadence, now) for e in events])


def _event(session: Session, event: Event, cadence: Cadence, now: datetime) -> EventStatus:
    window = collection_window(event)
    return EventStatus(
        slug=event.slug,
        title=event.title,
        phase=collection_phase(window, cadence, now),
        next_recheck=next_recheck(window, cadence, now),
        media_backlog=media_backlog(session, event.id),
        pending_rechecks=pending_rechecks(session, event.id, now),
        sources=[_source(session, s, cadence, now) for s in event.sources],
    )


def _source(session: Session, source: EventSource, cadence: Cadence, now: datetime) -> SourceStatus:
    last = session.scalar(
        select(CollectionRun)
        .where(CollectionRun.source_id == source.id)
        .order_by(CollectionRun.started_at.desc(), CollectionRun.id.desc())
        .limit(1)
    )
    runs, requests, new = session.execute(
        select(
            func.count(CollectionRun.id),
            func.coalesce(func.sum(CollectionRun.requests), 0),
            func.coalesce(func.sum(CollectionRun.new), 0),
        ).where(CollectionRun.source_id == source.id)
    ).one()
    # An error is shown while it is the latest result: a later ok run put it right.
    failed = last if last is not None and last.status != "ok" and last.error else None
    limited = session.scalar(
        select(CollectionRun.rate_limit)
        .where(CollectionRun.source_id == source.id, CollectionRun.rate_limit.is_not(None))
        .order_by(CollectionRun.started_at.desc(), CollectionRun.id.desc())
        .limit(1)
    )
    window = collection_window(source.event)
    due = next_collection(window, cadence, now, last.started_at if last else None)
    return SourceStatus(
        platform=source.platform,
        base_url=source.base_url,
        software=source.software_label,
        last_started=last.started_at if last else None,
        last_finished=last.finished_at if last else None,
        last_status=last.status if last else None,
        last_new=last.new if last else 0,
        last_updated=last.updated if last else 0,
        next_run=max(due, now) if due else None,
        runs=int(runs),
        requests=int(requests),
        new=int(new),
        rate_limit=limited if isinstance(limited, dict) else None,
        last_error=failed.error if failed else None,
        last_error_at=failed.started_at if failed else None,
        last_skipped=dict(last.skipped or {}) if last else {},
        last_unreadable=list(last.unreadable or []) if last else [],
    )
