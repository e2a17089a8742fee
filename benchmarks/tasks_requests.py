"""The request-count measurements over the loopback sandboxes (see :mod:`benchmarks.tasks`).

Each collects a tag from a sandbox world of N posts with the real collector, counts the
timeline or search requests against the minimum (one per full page), then runs again
from the cursor it ended with (an idle run).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import data

SLUG = data.SLUG
MASTODON_PAGE = 40
BLUESKY_PAGE = 100


def _retry() -> Any:
    from backchannel.collectors.retry import RetryPolicy

    return RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_rate_limit_sleep=2.0)


def _mastodon_world(n: int, instances: list[str], start: datetime = data.START) -> Any:
    from backchannel.sandbox import mastodon_text as text
    from backchannel.sandbox.mastodon_world import MastodonWorld

    world = MastodonWorld()
    for name in instances:
        world.add_instance(name)
    authors = [
        world.add_account(f"talker{i}", instances[i % len(instances)], seen_by=instances)
        for i in range(20)
    ]
    # Every post's HTML is the same but for its number: render it once per home instance
    # (rendering each took most of the time of building a 100,000-post world).
    rendered: dict[str, str] = {}
    for i in range(n):
        author = authors[i % len(authors)]
        if author.home not in rendered:
            body = f"Talk note NUMBER #{data.TAG}"
            rendered[author.home] = text.to_html(
                body, author.home, world.instances.__contains__
            ).html
        world.add_post(
            author,
            html=rendered[author.home].replace("NUMBER", str(i)),
            created_at=start + data.SPAN * (i / max(n, 1)),
        )
    return world


def _unmetered(server: Any) -> None:
    """These benchmarks count requests; a realistic rate budget (300 per 5 minutes)
    would turn a 100,000-post walk into a test of waiting instead."""
    from backchannel.sandbox.httpbase import RateBudget

    server.budget = RateBudget(limit=10**9)


def _window(start: datetime = data.START) -> Any:
    from backchannel.collectors.base import Window

    return Window(start - timedelta(hours=1), start + data.SPAN + timedelta(hours=1))


def _recent() -> datetime:
    """An event that ended yesterday: Pixelfed's feed gives nothing older than six
    months, and every kind is measured on the same event."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now - data.SPAN - timedelta(days=1)


def task_requests_mastodon(args: dict[str, Any]) -> dict[str, Any]:
    from backchannel.collectors.mastodon.collector import MastodonCollector
    from backchannel.sandbox.mastodon_server import MastodonSandbox

    n = args["n"]
    world = _mastodon_world(n, ["kea.example"])
    timeline = "/api/v1/timelines/tag/"
    with MastodonSandbox(world) as sandbox:
        server = sandbox.instances["kea.example"]
        _unmetered(server)

        def run(cursor: Any) -> tuple[int, int, Any]:
            before_t, before_all = len(server.requests_to(timeline)), len(server.request_log)
            collector = MastodonCollector(server.base_url, policy=_retry(), timeout=10.0)
            got, last = 0, cursor
            for page in collector.collect(data.TAG, _window(), cursor):
                got += len(page.posts)
                last = page.cursor
            collector.close()
            t = len(server.requests_to(timeline)) - before_t
            return got, t, (len(server.request_log) - before_all - t, last)

        got, first, (other_first, cursor) = run(None)
        idle_got, idle, (other_idle, _) = run(cursor)
    return {"posts": got, "minimum": math.ceil(n / MASTODON_PAGE), "requests": first,
            "other": other_first, "idle_requests": idle, "idle_other": other_idle,
            "idle_posts": idle_got}  # fmt: skip


def task_requests_bluesky(args: dict[str, Any]) -> dict[str, Any]:
    from backchannel.collectors.bluesky.collector import BlueskyCollector
    from backchannel.sandbox.bluesky import BlueskySandbox, World

    n = args["n"]
    window = _window()
    world = World(hashtags=[data.TAG], window=(window.start, window.end))
    world.login = world.add_account(
        "archivist.bsky.example", "Archivist", app_password="abcd-efgh-ijkl-mnop", avatar=False
    )
    world.add_bulk(data.TAG, n, data.START, data.START + data.SPAN)
    world.clock = window.end + timedelta(hours=2)
    search = "/xrpc/app.bsky.feed.searchPosts"
    state = Path(tempfile.mkdtemp(prefix="bench-bsky-", dir=args.get("work")))
    with BlueskySandbox(world) as sandbox:
        _unmetered(sandbox.server)

        def run(cursor: Any) -> tuple[int, int, int, Any]:
            before_s, before_all = len(sandbox.requests_to(search)), len(sandbox.request_log)
            collector = BlueskyCollector(
                sandbox.base_url, sandbox.handle, sandbox.app_password,
                state / "session.json", policy=_retry(), timeout=10.0, clock=world.now,
            )  # fmt: skip
            got, last = 0, cursor
            for page in collector.collect(data.TAG, window, cursor):
                got += len(page.posts)
                last = page.cursor
            collector.close()
            s = len(sandbox.requests_to(search)) - before_s
            return got, s, len(sandbox.request_log) - before_all - s, last

        got, first, other_first, cursor = run(None)
        idle_got, idle, other_idle, _ = run(cursor)
    shutil.rmtree(state, ignore_errors=True)
    return {"posts": got, "minimum": math.ceil(n / BLUESKY_PAGE), "requests": first,
            "other": other_first, "idle_requests": idle, "idle_other": other_idle,
            "idle_posts": idle_got}  # fmt: skip


def task_concurrency(args: dict[str, Any]) -> dict[str, Any]:
    """Three Mastodon sources with added latency through the collect service:
    one at a time (concurrency 1), then all at once (concurrency 3), fresh databases."""
    from backchannel.collect.service import collect
    from backchannel.config import load_config
    from backchannel.events import EventSpec, create_event
    from backchannel.sandbox.mastodon_server import MastodonSandbox
    from backchannel.store.db import Database

    names = ["kea.example", "tui.example", "ruru.example"]
    world = _mastodon_world(args["n"], names)
    work = Path(tempfile.mkdtemp(prefix="bench-concurrency-", dir=args.get("work")))
    timings = {}
    with MastodonSandbox(world) as sandbox:
        for server in sandbox.instances.values():
            server.faults.latency = args.get("latency", 0.05)
            _unmetered(server)
        for workers in (1, 3):
            folder = work / f"c{workers}"
            folder.mkdir()
            (folder / "config.toml").write_text(
                f'[database]\nurl = "sqlite:///{folder / "db.sqlite"}"\n'
                '[collect]\nuser_agent = "backchannel-bench (+https://backchannel.example)"\n'
                f"concurrency = {workers}\n",
                encoding="utf-8",
            )
            config = load_config(folder / "config.toml")
            db = Database(config.database_url)
            db.init()
            with db.writing() as session:
                create_event(session, EventSpec(
                    slug=SLUG, title="Bench", hashtags=[data.TAG], start="2026-03-12",
                    end="2026-03-14", timezone="Pacific/Auckland",
                    mastodon=sandbox.source_urls,
                ))  # fmt: skip
            started = time.perf_counter()
            results = collect(db, config, SLUG, clock=lambda: data.START + data.SPAN * 2)
            timings[workers] = time.perf_counter() - started
            assert all(r.status == "ok" for r in results), [r.error for r in results]
            db.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return {"sequential": timings[1], "concurrent": timings[3],
            "ratio": timings[3] / timings[1]}  # fmt: skip


def task_requests_kind(args: dict[str, Any]) -> dict[str, Any]:
    """N posts on one server that pages its hashtag as ``kind`` does
    (``backchannel/sandbox/server_kinds.py``), read by the collector as the collect
    service would (told the software, with a token)."""
    from backchannel.collectors.mastodon.collector import MastodonCollector
    from backchannel.sandbox.mastodon_server import MastodonSandbox

    n, kind = args["n"], args["kind"]
    start = _recent()
    world = _mastodon_world(n, ["kea.example"], start)
    timeline = "/api/v1/timelines/tag/"
    with MastodonSandbox(world) as sandbox:
        server = sandbox.instances["kea.example"]
        _unmetered(server)
        server.use(kind)

        def run(cursor: Any) -> tuple[int, int, int, Any]:
            before_t, before_all = len(server.requests_to(timeline)), len(server.request_log)
            collector = MastodonCollector(server.base_url, "bench-token", policy=_retry(),
                                          timeout=10.0, software=kind)  # fmt: skip
            got, last = 0, cursor
            for page in collector.collect(data.TAG, _window(start), cursor):
                got += len(page.posts)
                last = page.cursor
            collector.close()
            t = len(server.requests_to(timeline)) - before_t
            return got, t, len(server.request_log) - before_all - t, last

        got, first, other_first, cursor = run(None)
        idle_got, idle, other_idle, _ = run(cursor)
    return {"posts": got, "minimum": math.ceil(n / MASTODON_PAGE), "requests": first,
            "other": other_first, "idle_requests": idle, "idle_other": other_idle,
            "idle_posts": idle_got}  # fmt: skip


def task_requests_misskey(args: dict[str, Any]) -> dict[str, Any]:
    """N notes on a Misskey server (20 authors), read through notes/search-by-tag."""
    from backchannel.collectors.misskey.collector import PAGE_LIMIT, MisskeyCollector
    from backchannel.sandbox.misskey_server import MisskeyServer
    from backchannel.sandbox.misskey_world import MisskeyWorld

    n = args["n"]
    start = _recent()
    world = MisskeyWorld()
    users = [world.add_user(f"talker{i}") for i in range(20)]
    for i in range(n):
        world.add_note(users[i % len(users)], f"Talk note {i} #{data.TAG}",
                       created_at=start + data.SPAN * (i / max(n, 1)))  # fmt: skip
    search = "/api/notes/search-by-tag"
    with MisskeyServer(world) as server:
        _unmetered(server)

        def run(cursor: Any) -> tuple[int, int, int, Any]:
            before_s, before_all = len(server.requests_to(search)), len(server.request_log)
            collector = MisskeyCollector(server.base_url, policy=_retry(), timeout=10.0)
            got, last = 0, cursor
            for page in collector.collect(data.TAG, _window(start), cursor):
                got += len(page.posts)
                last = page.cursor
            collector.close()
            s = len(server.requests_to(search)) - before_s
            return got, s, len(server.request_log) - before_all - s, last

        got, first, other_first, cursor = run(None)
        idle_got, idle, other_idle, _ = run(cursor)
    return {"posts": got, "minimum": math.ceil(n / PAGE_LIMIT), "requests": first,
            "other": other_first, "idle_requests": idle, "idle_other": other_idle,
            "idle_posts": idle_got}  # fmt: skip
