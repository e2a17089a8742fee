"""The collect service: cursor -> pages -> store, one transaction per page.

Used alike by ``backchannel collect``, the scheduler and the demo. Sources run
concurrently, each with its own collector and client; every page is committed
together with the cursor that follows it, so a run killed at any moment resumes
cleanly. One failing source never stops the others: its error is recorded on its
:class:`CollectionRun` and reported, and what the others got is committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from backchannel.collect.coverage import discover_sources
from backchannel.collect.sources import Clock, bounds, make_collector
from backchannel.collectors import (
    Collector,
    HomeServerLookup,
    Page,
    budget_left,
    budget_until,
    read_nodeinfo,
)
from backchannel.config import Config
from backchannel.consent import HomeSignals, Policy, event_policy
from backchannel.errors import BackchannelError, BudgetSpent, Interrupted, SourceError
from backchannel.events import collection_window
from backchannel.store import (
    CollectionRun,
    Database,
    Event,
    EventSource,
    PageResult,
    add_to_run,
    close_dead_runs,
    finish_run,
    load_cursor,
    save_page,
    start_run,
)

log = logging.getLogger(__name__)

PAGE_TRIES = 3
RACE_STATES = ("40P01", "40001")  # PostgreSQL: deadlock detected, serialization failure


@dataclass
class SourceResult:
    """What one source's pass did, for the summary table."""

    event: str
    platform: str
    base_url: str
    requests: int = 0
    new: int = 0
    updated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    error: str | None = None  # one short line
    detail: str | None = None  # the long story behind it, for -v
    status: str = "ok"  # ok failed interrupted paused (its budget spent: resumes next run)
    seconds: float = 0.0
    discovered: bool = False  # added by discovery during this pass


ProgressCallback = Callable[[SourceResult, PageResult], None]


def collect(
    db: Database,
    config: Config,
    event_slug: str | None = None,
    source_url: str | None = None,
    stop: threading.Event | None = None,
    on_page: ProgressCallback | None = None,
    clock: Clock | None = None,
    budget: float | None = None,
) -> list[SourceResult]:
    """Run one collection pass over the chosen events and sources.

    Each source stops where it is once it has taken ``collect.source_budget`` seconds
    or made ``collect.source_max_requests`` requests, and every source once the pass
    has taken ``budget`` seconds (when given): its status is then ``paused``, its
    cursor saved, and the next pass goes on from there.

    Events with ``discover`` on then gain the busiest home servers that are not yet
    sources (up to ``collect.discover_max_sources``), which are collected at once.
    ``clock`` replaces "now" for the collectors (the sandbox runs on its own time).
    """
    stop = stop or threading.Event()
    ends = time.monotonic() + budget if budget else None
    with db.writing() as session:
        close_dead_runs(session)
    with db.reading() as session:
        query = select(EventSource).join(Event).order_by(Event.slug, EventSource.id)
        if event_slug:
            query = query.where(Event.slug == event_slug)
        if source_url:
            query = query.where(EventSource.base_url == source_url.rstrip("/"))
        source_ids = list(session.scalars(query.with_only_columns(EventSource.id)))
    if not source_ids:
        return []
    home = HomeSignals(
        db,
        HomeServerLookup(config.collect.user_agent, config.collect.timeout, bounds(config)),
        timedelta(hours=config.consent.noindex_ttl_hours),
    )
    try:
        results = _collect_sources(db, config, source_ids, stop, on_page, home, clock, ends)
        if source_url is None and not stop.is_set():
            added = _discover(db, config, event_slug)
            results += _collect_sources(db, config, added, stop, on_page, home, clock, ends)
        return results
    finally:
        home.close()


def _collect_sources(
    db: Database,
    config: Config,
    source_ids: list[int],
    stop: threading.Event,
    on_page: ProgressCallback | None,
    home: HomeSignals,
    clock: Clock | None,
    ends: float | None = None,
) -> list[SourceResult]:
    if not source_ids:
        return []
    workers = max(1, min(config.collect.concurrency, len(source_ids)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
        futures = [
            pool.submit(_collect_source, db, config, source_id, stop, on_page, home, clock, ends)
            for source_id in source_ids
        ]
        return [future.result() for future in futures]


def _discover(db: Database, config: Config, event_slug: str | None) -> list[int]:
    """Add missing home servers as sources of events that ask for it; their ids."""
    with db.writing() as session:
        query = select(Event).where(Event.discover.is_(True))
        if event_slug:
            query = query.where(Event.slug == event_slug)
        added = []
        for event in session.scalars(query):
            for source in discover_sources(session, event, config.collect.discover_max_sources):
                log.info("%s: discovered %s", event.slug, source.base_url)
                added.append(source.id)
        return added


def _collect_source(
    db: Database,
    config: Config,
    source_id: int,
    stop: threading.Event,
    on_page: ProgressCallback | None,
    home: HomeSignals,
    clock: Clock | None,
    ends: float | None = None,
) -> SourceResult:
    started = time.monotonic()
    own = started + config.collect.source_budget
    with budget_until(own if ends is None else min(own, ends)):
        return _collect_source_within(db, config, source_id, stop, on_page, home, clock,
                                      started)  # fmt: skip


def _collect_source_within(
    db: Database,
    config: Config,
    source_id: int,
    stop: threading.Event,
    on_page: ProgressCallback | None,
    home: HomeSignals,
    clock: Clock | None,
    started: float,
) -> SourceResult:
    with db.writing() as session:
        source = session.get(EventSource, source_id)
        assert source is not None
        event = source.event
        result = SourceResult(event.slug, source.platform, source.base_url)
        result.discovered = source.discovered
        hashtags = list(event.hashtags)
        window = collection_window(event)
        policy = event_policy(
            session, event, config.consent.default_policy == "opt-in", config.consent.allow_bots
        )
        run_id = start_run(session, source).id
    collector: Collector | None = None
    try:
        _software(db, config, source_id)  # known before the collector is chosen
        with db.reading() as session:
            source = _source(session, source_id)
            collector = make_collector(config, source, stop, clock)
        for hashtag in hashtags:
            with db.reading() as session:
                cursor = load_cursor(session, _source(session, source_id), hashtag)
            for page in collector.collect(hashtag, window, cursor):
                page.posts = home.apply(page.posts)
                page_result = _store_page(db, source_id, hashtag, page, policy, run_id)
                result.requests += page.requests
                result.new += page_result.new
                result.updated += page_result.updated
                result.skipped.update(page_result.skipped)
                if on_page:
                    on_page(result, page_result)
                if stop.is_set():
                    raise Interrupted("stopped after committing the page in hand")
                if budget_left() == 0:
                    raise BudgetSpent("its time for this run ran out")
                if result.requests >= config.collect.source_max_requests:
                    raise BudgetSpent(f"its {config.collect.source_max_requests:,} requests "
                                      "for this run are spent")  # fmt: skip
    except BudgetSpent as exc:
        spent = time.monotonic() - started
        result.status = "paused"
        result.error = (f"paused after {spent:.0f} s: {exc}; the pages so far are saved and "
                        "the next collection goes on from there")  # fmt: skip
        log.info("%s %s: %s", source_url_label(result), result.event, result.error)
    except Interrupted as exc:
        result.status, result.error = "interrupted", str(exc)
    except SourceError as exc:
        result.status, result.error, result.detail = "failed", str(exc), exc.detail
        log.info("%s %s failed: %s", source_url_label(result), result.event, exc.detail or exc)
    except BackchannelError as exc:
        result.status, result.error = "failed", str(exc)
        log.info("%s failed: %s", source_url_label(result), exc)
    finally:
        extra = _unpaged_requests(collector, result.requests)
        result.requests += extra
        if collector is not None:
            collector.close()
        result.seconds = time.monotonic() - started
        rate_limit = getattr(collector, "rate_limit", None)
        with db.writing() as session:
            finish_run(session, run_id, result.status, result.error, extra)
            _note_rate_limit(session, run_id, rate_limit)
    return result


def _software(db: Database, config: Config, source_id: int) -> str | None:
    """What a Mastodon-API source runs: read from its NodeInfo once (its first
    collection) and kept on the source; "" when it does not say."""
    with db.reading() as session:
        source = _source(session, source_id)
        platform, base_url, known = source.platform, source.base_url, source.software
    if platform != "mastodon" or known is not None:
        return known
    found = read_nodeinfo(base_url, config.user_agent_for(base_url), config.collect.timeout,
                          bounds(config))  # fmt: skip
    with db.writing() as session:
        source = _source(session, source_id)
        source.software = found.name if found else ""
        source.software_version = found.version if found else ""
    log.info("%s runs %s", base_url, found or "software it does not name")
    return found.name if found else ""


def _note_rate_limit(session: Session, run_id: int, rate_limit: object) -> None:
    """Keep the source's last rate-limit headers on the run (for ``backchannel status``)."""
    run = session.get(CollectionRun, run_id)
    if run is not None and isinstance(rate_limit, dict):
        run.rate_limit = dict(rate_limit)


def _source(session: Session, source_id: int) -> EventSource:
    source = session.get(EventSource, source_id)
    assert source is not None
    return source


def _store_page(
    db: Database, source_id: int, hashtag: str, page: Page, policy: Policy, run_id: int
) -> PageResult:
    # Two sources can meet the same new post at once. On SQLite the writes are
    # serialised; on PostgreSQL the loser of that race gets an IntegrityError (or, rarely,
    # a deadlock), and trying the page again finds the winner's rows and merges into them.
    for attempt in range(1, PAGE_TRIES + 1):
        try:
            with db.writing() as session:
                source = _source(session, source_id)
                page_result = save_page(session, source, hashtag, page, policy)
                add_to_run(session, run_id, page.requests, page_result, page.unreadable)
                return page_result
        except DBAPIError as exc:
            if not _lost_a_race(exc):
                # One post the database refuses (a value too long for its column...)
                # must not stop the source: store the page post by post.
                return _store_post_by_post(db, source_id, hashtag, page, policy, run_id)
            if attempt == PAGE_TRIES:
                raise
            log.info("a concurrent source wrote the same rows first; trying the page again")
    raise AssertionError("unreachable")


def _store_post_by_post(
    db: Database, source_id: int, hashtag: str, page: Page, policy: Policy, run_id: int
) -> PageResult:
    """The page again, each post in its own savepoint; those refused are skipped as
    ``unstorable`` (logged by id, never content). Posts and cursor still commit together."""
    total = PageResult(skipped=Counter(page.skipped))
    refused: list[str] = []
    with db.writing() as session:
        source = _source(session, source_id)
        for post in page.posts:
            try:
                with session.begin_nested():
                    got = save_page(session, source, hashtag, Page([post], page.cursor), policy)
            except DBAPIError as exc:
                total.skipped["unstorable"] += 1
                refused.append(post.native_id)
                log.warning("%s: could not store post %s (%s)", source.base_url,
                            post.native_id, type(exc.orig).__name__)  # fmt: skip
                continue
            total.new += got.new
            total.updated += got.updated
            total.skipped.update(got.skipped)
        save_page(session, source, hashtag, Page([], page.cursor), policy)  # the cursor
        add_to_run(session, run_id, page.requests, total, [*page.unreadable, *refused])
    return total


def _lost_a_race(exc: DBAPIError) -> bool:
    """A unique-key clash, a deadlock or a serialisation failure: worth one more try."""
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in RACE_STATES


def _unpaged_requests(collector: Collector | None, counted: int) -> int:
    """Requests the collector made that no committed page counted (failed tries)."""
    total = getattr(collector, "request_count", None)
    return max(0, total - counted) if isinstance(total, int) else 0


def source_url_label(result: SourceResult) -> str:
    return f"{result.platform} {result.base_url}"
