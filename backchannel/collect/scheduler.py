"""``backchannel run``: APScheduler wiring only; it calls the same services as the CLI.

One collection job per event collects each of its sources (concurrently, exactly as
``backchannel collect EVENT`` does, discovery included), then fetches the new media
(``backchannel media``), then, with ``[export] live = true``, re-exports the event
(only changed pages are rewritten, and a wall page is made). Sources of an event share
its window, so their schedules are the same; one job per event keeps the media pass
and the live export to one per collection. One recheck job per event runs on its own
cadence. When the jobs fire comes from :mod:`backchannel.collect.schedule`.

Every job coalesces, never overlaps itself (``max_instances=1``), runs however late it
is (a sleeping laptop) and carries up to ``schedule.jitter_seconds`` of jitter. Events
and sources registered while ``run`` goes are picked up within :data:`SYNC_EVERY`.

Stopping (:meth:`Scheduler.stop`, which SIGTERM and Ctrl-C call) sets the event every
service watches: a collection finishes the page in hand, commits and returns; no job
starts after it; the scheduler waits for the running ones and releases the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from backchannel.collect.rechecking import recheck
from backchannel.collect.runlock import HEARTBEAT_EVERY, RunLock
from backchannel.collect.schedule import Cadence, next_collection, next_recheck
from backchannel.collect.service import SourceResult, collect
from backchannel.collectors import Window
from backchannel.config import Config
from backchannel.events import collection_window
from backchannel.export import ExportOptions, export_site
from backchannel.media import fetch_media
from backchannel.store import Database, Event

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = timedelta(minutes=5)
SYNC_EVERY = timedelta(seconds=30)  # how soon a newly registered event gets its jobs

# report(event slug, what happened): one line per finished job, for the CLI to show.
Report = Callable[[str, str], None]


class PhaseTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires on the schedule of :mod:`backchannel.collect.schedule` for one event's window."""

    def __init__(self, window: Window, cadence: Cadence, kind: str) -> None:
        self.window = window
        self.cadence = cadence
        self.kind = kind  # "collect" or "recheck"

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        pick = next_collection if self.kind == "collect" else next_recheck
        due = pick(self.window, self.cadence, now, previous_fire_time)
        return self._apply_jitter(due, self.cadence.jitter_seconds or None, now)

    def __str__(self) -> str:
        return f"{self.kind} {self.window.start:%Y-%m-%d %H:%M}..{self.window.end:%H:%M} UTC"


class Scheduler:
    """Runs the jobs until :meth:`stop`; holds the database's scheduler lock meanwhile."""

    def __init__(
        self,
        db: Database,
        config: Config,
        stop_event: threading.Event | None = None,
        report: Report | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.stop_event = stop_event or threading.Event()
        self.report = report or (lambda slug, text: log.info("%s: %s", slug, text))
        self.cadence = Cadence.from_config(config.schedule)
        self.lock = RunLock(db)
        self._windows: dict[str, Window] = {}
        self._export_lock = threading.Lock()  # one site folder, one manifest
        self._told_missing = False  # what the archive lacks is said once, not every run
        workers = max(2, config.collect.concurrency)
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def stop(self) -> None:
        self.stop_event.set()

    def run(self, started: Callable[[], None] | None = None) -> None:
        """Claim the database, run the jobs until stopped, wait for them, release.
        ``started`` is called once the database is claimed (a refused run says only
        that it was refused)."""
        self.lock.acquire()
        try:
            self.sync()
            every = HEARTBEAT_EVERY.total_seconds()
            self._scheduler.add_job(self._heartbeat, IntervalTrigger(seconds=every), id="heartbeat")
            self._scheduler.add_job(
                self.sync, IntervalTrigger(seconds=SYNC_EVERY.total_seconds()), id="sync"
            )
            # A copy of the SQLite file alone holds what was collected until a few
            # minutes ago, even while `run` goes on for days.
            self._scheduler.add_job(self.db.checkpoint, IntervalTrigger(
                seconds=CHECKPOINT_EVERY.total_seconds()), id="checkpoint")  # fmt: skip
            self._scheduler.start()
            if started is not None:
                started()
            while not self.stop_event.wait(0.5):
                pass
            log.info("stopping: finishing the pages in hand")
        finally:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=True)
            self.lock.release()

    # -- jobs -------------------------------------------------------------------------

    def sync(self) -> None:
        """Give every event its jobs; follow changed windows; drop removed events."""
        if self.stop_event.is_set():
            return
        now = datetime.now(UTC)
        with self.db.reading() as session:
            events = [(e.id, e.slug, collection_window(e)) for e in session.scalars(select(Event))]
        wanted: set[str] = set()
        for event_id, slug, window in events:
            for kind, func in (("collect", self._collect_job), ("recheck", self._recheck_job)):
                job_id = f"{kind}:{event_id}"
                wanted.add(job_id)
                if self._windows.get(job_id) == window:
                    continue
                trigger = PhaseTrigger(window, self.cadence, kind)
                self._windows[job_id] = window
                if self._scheduler.get_job(job_id) is not None:
                    self._scheduler.reschedule_job(job_id, trigger=trigger)
                    continue
                pick = next_collection if kind == "collect" else next_recheck
                first = pick(window, self.cadence, now)
                if first is None:
                    log.info("%s: no more %s jobs (its schedule has ended)", slug, kind)
                    continue
                self._scheduler.add_job(
                    func, trigger, args=(slug,), id=job_id, name=f"{kind} {slug}"
                )
                log.info("%s: %s job first due %s", slug, kind, first.isoformat())
        for job_id in set(self._windows) - wanted:
            self._windows.pop(job_id)
            try:
                self._scheduler.remove_job(job_id)
            except JobLookupError:
                pass

    def _heartbeat(self) -> None:
        if not self.lock.heartbeat():
            self.stop()  # another process took the database over: step aside

    def _collect_job(self, slug: str) -> None:
        if self.stop_event.is_set():
            return
        started = time.monotonic()
        results = collect(self.db, self.config, slug, stop=self.stop_event)
        self.report(slug, _summary(results, time.monotonic() - started))
        if self.stop_event.is_set():
            return
        media = fetch_media(self.db, self.config, slug, stop=self.stop_event)
        if media.due:
            self.report(slug, f"media: {media.fetched} fetched, {media.failed} to retry, "
                              f"{media.gone} gone, {media.refused} refused")  # fmt: skip
        self._live_export(slug)

    def _recheck_job(self, slug: str) -> None:
        if self.stop_event.is_set():
            return
        result = recheck(self.db, self.config, slug, stop=self.stop_event)
        self.report(
            slug,
            f"rechecked {result.posts} posts: {result.edited} edited, {result.deleted} deleted, "
            f"{result.unknown} unknown" + (f"; errors: {result.errors}" if result.errors else ""),
        )
        self._live_export(slug)

    def _live_export(self, slug: str) -> None:
        if not self.config.export.live or self.stop_event.is_set():
            return
        with self._export_lock:
            started = time.monotonic()
            options = ExportOptions.from_config(self.config)
            if not self._told_missing:
                self._told_missing = True
                for line in options.missing():
                    self.report(slug, f"warning: {line}")
            result = export_site(self.db, options, (slug,))
            stats = result.stats
            self.report(
                slug,
                f"exported: {stats.written} files written, {stats.unchanged} unchanged "
                f"({time.monotonic() - started:.1f}s)",
            )


def _summary(results: list[SourceResult], seconds: float) -> str:
    new = sum(r.new for r in results)
    updated = sum(r.updated for r in results)
    failed = [f"{r.base_url}: {r.error}" for r in results if r.status == "failed"]
    text = f"collected {len(results)} source(s): {new} new, {updated} updated ({seconds:.1f}s)"
    return text + (f"; failed: {'; '.join(failed)}" if failed else "")
