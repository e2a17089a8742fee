"""The Bluesky collector against the sandbox: real HTTP, the real atproto Client."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backchannel.collectors.base import NormalizedPost, Page, Window
from backchannel.collectors.bluesky.collector import BlueskyCollector
from backchannel.collectors.bluesky.normalize import OPT_OUT_LABEL
from backchannel.collectors.retry import RetryPolicy
from backchannel.errors import (
    Interrupted,
    LoginError,
    MalformedResponseError,
    RetriesExhaustedError,
)
from backchannel.sandbox.bluesky import BlueskySandbox, Fault, World, build_demo_world
from backchannel.sandbox.bluesky_demo_base import CUTOFF

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
CREATE = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
PASSWORD = "abcd-efgh-ijkl-mnop"
START = datetime(2026, 3, 12, tzinfo=UTC)
FAST = RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_rate_limit_sleep=2.0)


@dataclass
class Run:
    posts: list[NormalizedPost] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    @property
    def uris(self) -> list[str]:
        return [post.uri for post in self.posts]

    @property
    def cursor(self) -> dict[str, Any] | None:
        return self.pages[-1].cursor if self.pages else None

    def add(self, page: Page) -> None:
        self.pages.append(page)
        self.posts += page.posts
        self.skipped += page.skipped
        self.requests += page.requests


def run(pages: Iterator[Page]) -> Run:
    result = Run()
    for page in pages:
        result.add(page)
    return result


def collector(sb: BlueskySandbox, tmp_path: Path, **options: Any) -> BlueskyCollector:
    options.setdefault("policy", FAST)
    options.setdefault("timeout", 5.0)
    return BlueskyCollector(
        sb.base_url,
        sb.handle,
        options.pop("password", sb.app_password),
        options.pop("session_path", tmp_path / "state" / "bluesky-session.json"),
        **options,
    )


def small_world(tag: str, *batches: tuple[int, datetime, datetime]) -> World:
    world = World(hashtags=[tag], window=(START - timedelta(days=1), START + timedelta(days=1)))
    world.login = world.add_account(
        "archivist.bsky.example", "Archivist", app_password=PASSWORD, avatar=False
    )
    for n, start, end in batches or ((150, START, START + timedelta(hours=1)),):
        world.add_bulk(tag, n, start, end)
    return world


def all_tagged(world: World, tag: str) -> set[str]:
    return set(world.answer_key().by_tag[tag])


WINDOW = Window(START - timedelta(days=1), START + timedelta(days=1))


@pytest.fixture(scope="module")
def demo() -> Iterator[BlueskySandbox]:
    with BlueskySandbox(build_demo_world()) as sb:
        yield sb


@pytest.fixture
def tiny() -> Iterator[BlueskySandbox]:
    with BlueskySandbox(small_world("tiny")) as sb:
        yield sb


# -- the demo world -------------------------------------------------------------------


def test_demo_world_equals_the_answer_key(demo: BlueskySandbox, tmp_path: Path) -> None:
    key = demo.answer_key()
    window = Window(key.since, key.until)
    with collector(demo, tmp_path) as bsky:
        for tag in demo.world.hashtags:
            result = run(bsky.collect(tag, window, None))
            got = result.uris
            assert len(got) == len(set(got)), "duplicates"
            # Posts deleted once served were rightly collected; recheck removes them.
            # Opted-out authors' posts come with their label: the store's consent rule
            # leaves them out (tests/test_collect_integration.py shows it).
            assert set(got) - key.deleted == key.by_tag[tag]
            labelled = {p.uri for p in result.posts if OPT_OUT_LABEL in p.author.labels}
            assert labelled == key.by_tag[tag] & key.opted_out and labelled
            assert not result.skipped
            assert key.invalid_records & key.by_tag[tag] <= set(got)  # normalised from raw
            assert result.cursor is not None and result.cursor["span"] is None
            assert result.cursor["watermark"] == "2026-03-13T05:30:00.000Z"
            for post in result.posts:
                assert post.raw["uri"] == post.uri and post.platform == "bluesky"
                assert tag in post.tags or f"#{tag}" in post.text.casefold()


def test_idle_second_run_reuses_the_session(demo: BlueskySandbox, tmp_path: Path) -> None:
    key = demo.answer_key()
    window = Window(key.since, key.until)
    session_file = tmp_path / "state" / "bluesky-session.json"
    cursors = {}
    with collector(demo, tmp_path) as first:
        for tag in demo.world.hashtags:
            cursors[tag] = run(first.collect(tag, window, None)).cursor
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    logins = len(demo.requests_to(CREATE))
    with collector(demo, tmp_path) as second:
        for tag in demo.world.hashtags:
            again = run(second.collect(tag, window, cursors[tag]))
            assert again.requests <= 2, f"#{tag}: {again.requests} requests"
            assert again.cursor["watermark"] == cursors[tag]["watermark"]
    assert len(demo.requests_to(CREATE)) == logins  # no createSession: the file was used


def test_incremental_runs_pick_up_late_posts(tmp_path: Path) -> None:
    world = build_demo_world()
    key = world.answer_key()
    window = Window(key.since, key.until)
    tag = world.hashtags[0]
    with BlueskySandbox(world) as sb:
        early = CUTOFF + timedelta(minutes=1)
        with collector(sb, tmp_path, clock=lambda: early) as bsky:
            first = run(bsky.collect(tag, window, None))
        assert first.cursor["watermark"] == "2026-03-13T04:01:00.000Z"
        assert not set(first.uris) & key.late
        world.advance()
        with collector(sb, tmp_path) as bsky:
            second = run(bsky.collect(tag, window, first.cursor))
        key = world.answer_key()  # the late posts have arrived now
        got = set(first.uris) | set(second.uris)
        assert got - key.deleted == key.by_tag[tag]  # opted-out posts: the store decides
        late = (key.late & key.by_tag[tag]) - key.opted_out
        assert late and late <= set(second.uris)
        assert len(second.uris) < len(first.uris) / 3  # only the tail was read again


# -- walking past the search cap --------------------------------------------------------


@pytest.mark.slow
def test_25000_posts_collected_whole_despite_the_cap(tmp_path: Path) -> None:
    world = small_world("big", (25_000, START, START + timedelta(hours=10)))
    with BlueskySandbox(world) as sb:
        sb.server.search_cap = 1_000
        with collector(sb, tmp_path) as bsky:
            result = run(bsky.collect("big", WINDOW, None))
        assert len(result.uris) == len(set(result.uris)) == 25_000
        assert set(result.uris) == all_tagged(world, "big")
        searches = sb.requests_to(SEARCH)
        assert sum("cursor=" not in s for s in searches) >= 25  # until moved at each cap


def test_the_real_10000_cap(tmp_path: Path) -> None:
    world = small_world("cap", (10_300, START, START + timedelta(hours=5)))
    with BlueskySandbox(world) as sb:
        assert sb.server.search_cap == 10_000
        with collector(sb, tmp_path) as bsky:
            result = run(bsky.collect("cap", WINDOW, None))
        assert len(result.uris) == len(set(result.uris)) == 10_300
        assert set(result.uris) == all_tagged(world, "cap")


def test_posts_sharing_a_millisecond_across_the_cap(tmp_path: Path) -> None:
    edge = START + timedelta(hours=1)
    world = small_world(
        "same",
        (10, edge - timedelta(minutes=30), edge - timedelta(minutes=1)),
        (6, edge, edge + timedelta(microseconds=500)),  # six posts, one createdAt
        (8, edge + timedelta(minutes=1), edge + timedelta(minutes=30)),
    )
    with BlueskySandbox(world) as sb:
        sb.server.search_cap = 10
        with collector(sb, tmp_path, page_limit=5) as bsky:
            result = run(bsky.collect("same", WINDOW, None))
    assert len(result.uris) == len(set(result.uris)) == 24
    assert set(result.uris) == all_tagged(world, "same")


def test_a_cap_spent_within_one_millisecond_still_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edge = START + timedelta(hours=1)
    world = small_world(
        "crowd",
        (5, edge - timedelta(minutes=30), edge - timedelta(minutes=1)),
        (30, edge, edge + timedelta(microseconds=500)),
    )
    with BlueskySandbox(world) as sb:
        sb.server.search_cap = 10
        with collector(sb, tmp_path, page_limit=5) as bsky:
            result = run(bsky.collect("crowd", WINDOW, None))
    assert len(result.uris) == len(set(result.uris))
    assert set(all_tagged(world, "crowd")) - set(result.uris)  # the server cannot give more
    assert len(result.pages) < 20
    assert "stepping below" in caplog.text


def test_resume_from_every_page_of_a_walk(tmp_path: Path) -> None:
    world = small_world("walk", (340, START, START + timedelta(hours=3)))
    with BlueskySandbox(world) as sb:
        sb.server.search_cap = 100
        with collector(sb, tmp_path, page_limit=40) as bsky:
            whole = run(bsky.collect("walk", WINDOW, None))
            assert set(whole.uris) == all_tagged(world, "walk")
            assert len(whole.pages) > 10
            for k, page in enumerate(whole.pages[:-1]):
                page.cursor = json.loads(json.dumps(page.cursor))  # as the store keeps it
                done = {p.uri for earlier in whole.pages[: k + 1] for p in earlier.posts}
                rest = run(bsky.collect("walk", WINDOW, page.cursor))
                assert not done & set(rest.uris), f"page {k}: repeats"
                assert done | set(rest.uris) == set(whole.uris), f"page {k}: gaps"
                assert rest.cursor == whole.cursor


# -- sessions ---------------------------------------------------------------------------


def test_session_file_is_0600_even_with_umask_0(tiny: BlueskySandbox, tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with collector(tiny, tmp_path) as bsky:
            bsky.login()
    finally:
        os.umask(old)
    session_file = tmp_path / "state" / "bluesky-session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert PASSWORD not in session_file.read_text()
    assert [p.name for p in session_file.parent.iterdir()] == [session_file.name]


def test_second_collector_makes_no_create_session(tiny: BlueskySandbox, tmp_path: Path) -> None:
    with collector(tiny, tmp_path) as bsky:
        run(bsky.collect("tiny", WINDOW, None))
    assert len(tiny.requests_to(CREATE)) == 1
    with collector(tiny, tmp_path, password=None) as bsky:  # no password needed
        again = run(bsky.collect("tiny", WINDOW, None))
    assert len(again.uris) == 150
    assert len(tiny.requests_to(CREATE)) == 1


def test_expired_token_logs_in_again(tiny: BlueskySandbox, tmp_path: Path) -> None:
    with collector(tiny, tmp_path) as bsky:
        bsky.login()
        tiny.server.expire_sessions()
        result = run(bsky.collect("tiny", WINDOW, None))
    assert len(result.uris) == 150
    assert len(tiny.requests_to(CREATE)) == 2


def test_token_near_expiry_is_refreshed_and_saved(tiny: BlueskySandbox, tmp_path: Path) -> None:
    tiny.server.access_lifetime = 120.0  # inside the SDK's 15-minute refresh margin
    session_file = tmp_path / "state" / "bluesky-session.json"
    with collector(tiny, tmp_path) as bsky:
        bsky.login()
        before = session_file.read_text()
        run(bsky.collect("tiny", WINDOW, None))
    assert tiny.requests_to(REFRESH)
    assert session_file.read_text() != before  # the refreshed tokens were saved
    assert len(tiny.requests_to(CREATE)) == 1
    with collector(tiny, tmp_path) as bsky:  # and they work for the next run
        assert len(run(bsky.collect("tiny", WINDOW, None)).uris) == 150
    assert len(tiny.requests_to(CREATE)) == 1


def test_wrong_password_is_one_attempt_and_names_the_key(
    tiny: BlueskySandbox, tmp_path: Path
) -> None:
    bsky = collector(tiny, tmp_path, password="wrong-password", password_env="BSKY_PW")
    with bsky, pytest.raises(LoginError) as info:
        run(bsky.collect("tiny", WINDOW, None))
    assert "bluesky.app_password_env" in str(info.value) and "BSKY_PW" in str(info.value)
    assert "\n" not in str(info.value)
    assert len(tiny.requests_to(CREATE)) == 1
    assert not tiny.requests_to(SEARCH)


def test_missing_password_makes_no_request(tiny: BlueskySandbox, tmp_path: Path) -> None:
    bsky = collector(tiny, tmp_path, password=None)
    with bsky, pytest.raises(LoginError, match="bluesky.app_password_env"):
        run(bsky.collect("tiny", WINDOW, None))
    assert not tiny.request_log


# -- faults -----------------------------------------------------------------------------


def test_429_is_waited_out(
    tiny: BlueskySandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tiny.server.faults.add(Fault("ratelimit", path=SEARCH, reset_in=0.2))
    with collector(tiny, tmp_path) as bsky:
        result = run(bsky.collect("tiny", WINDOW, None))
        assert 0 < bsky.pacer.slept <= 2.5
    assert len(result.uris) == 150
    assert "rate limit" in caplog.text


def test_429_wait_is_capped_and_bounded(tiny: BlueskySandbox, tmp_path: Path) -> None:
    tiny.server.faults.add(Fault("ratelimit", path=SEARCH, reset_in=3600.0))
    policy = RetryPolicy(attempts=3, backoff_base=0.01, max_rate_limit_sleep=0.05)
    with collector(tiny, tmp_path, policy=policy) as bsky:
        with pytest.raises(RetriesExhaustedError, match="429"):
            run(bsky.collect("tiny", WINDOW, None))
        assert bsky.pacer.slept < 1.0


def test_5xx_upstream_failure_and_dropped_connections_are_survived(
    tiny: BlueskySandbox, tmp_path: Path
) -> None:
    faults = tiny.server.faults
    faults.add(Fault("status", status=502, times=2, path=SEARCH))  # UpstreamFailure
    faults.add(Fault("status", status=500, path=SEARCH))
    faults.add(Fault("drop", path=SEARCH))
    faults.add(Fault("status", status=503, path=SEARCH))
    policy = RetryPolicy(attempts=6, backoff_base=0.01, backoff_cap=0.02)
    with collector(tiny, tmp_path, policy=policy) as bsky:
        result = run(bsky.collect("tiny", WINDOW, None))
    assert len(result.uris) == len(set(result.uris)) == 150
    assert result.pages[0].requests >= 6  # login + the failed tries + the good one


def test_a_long_5xx_burst_gives_up_without_moving_the_cursor(
    tiny: BlueskySandbox, tmp_path: Path
) -> None:
    with collector(tiny, tmp_path) as bsky:
        pages = bsky.collect("tiny", WINDOW, None)
        first = next(pages)
        tiny.server.faults.add(Fault("status", status=502, times=10, path=SEARCH))
        with pytest.raises(RetriesExhaustedError):
            next(pages)
        tiny.server.faults.clear()
        stored = json.dumps(first.cursor)
        rest = run(bsky.collect("tiny", WINDOW, first.cursor))
        assert json.dumps(first.cursor) == stored  # the caller's cursor is never mutated
    assert {p.uri for p in first.posts} | set(rest.uris) == all_tagged(tiny.world, "tiny")


def test_malformed_page_raises_and_yields_nothing_of_it(
    tiny: BlueskySandbox, tmp_path: Path
) -> None:
    with collector(tiny, tmp_path) as bsky:
        pages = bsky.collect("tiny", WINDOW, None)
        first = next(pages)
        tiny.server.faults.add(Fault("malformed", path=SEARCH))
        with pytest.raises(MalformedResponseError):
            next(pages)
        rest = run(bsky.collect("tiny", WINDOW, first.cursor))
    assert len(first.posts) == 100
    assert {p.uri for p in first.posts} | set(rest.uris) == all_tagged(tiny.world, "tiny")
    assert not {p.uri for p in first.posts} & set(rest.uris)


def test_stop_between_pages(tiny: BlueskySandbox, tmp_path: Path) -> None:
    stop = threading.Event()
    with collector(tiny, tmp_path, stop=stop) as bsky:
        pages = bsky.collect("tiny", WINDOW, None)
        next(pages)
        stop.set()
        with pytest.raises(Interrupted):
            next(pages)


def test_stop_during_a_rate_limit_wait(tiny: BlueskySandbox, tmp_path: Path) -> None:
    stop = threading.Event()
    tiny.server.faults.add(Fault("ratelimit", path=SEARCH, reset_in=30.0))
    policy = RetryPolicy(max_rate_limit_sleep=30.0)
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = datetime.now(UTC)
    with collector(tiny, tmp_path, stop=stop, policy=policy) as bsky:
        with pytest.raises(Interrupted):
            run(bsky.collect("tiny", WINDOW, None))
    assert datetime.now(UTC) - started < timedelta(seconds=5)
    timer.cancel()


def test_a_tag_only_in_a_facet_counts(tmp_path: Path) -> None:
    world = small_world("tiny", (3, START, START + timedelta(minutes=5)))
    author = world.add_account("odd.bsky.example", "Odd", avatar=False)
    # Tagged for search through a facet whose visible text is something else:
    # a tag in facets counts (the search index says so); our own check agrees.
    world.post(
        author,
        "see this",
        created_at=START + timedelta(minutes=6),
        facets=[
            {
                "index": {"byteStart": 0, "byteEnd": 3},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "tiny"}],
            }
        ],
    )
    with BlueskySandbox(world) as sb, collector(sb, tmp_path) as bsky:
        result = run(bsky.collect("tiny", WINDOW, None))
    assert len(result.uris) == 4 and not result.skipped


def test_an_earlier_window_start_is_collected_again(tiny: BlueskySandbox, tmp_path: Path) -> None:
    later = Window(START + timedelta(minutes=30), WINDOW.end)
    with collector(tiny, tmp_path) as bsky:
        first = run(bsky.collect("tiny", later, None))
        assert len(first.uris) == 75
        widened = run(bsky.collect("tiny", WINDOW, first.cursor))
    assert set(widened.uris) == all_tagged(tiny.world, "tiny")


def test_a_cursor_from_elsewhere_is_ignored(tiny: BlueskySandbox, tmp_path: Path) -> None:
    with collector(tiny, tmp_path) as bsky:
        result = run(bsky.collect("tiny", WINDOW, {"max_id": "12345"}))
    assert len(result.uris) == 150


def test_tag_check() -> None:
    from backchannel.collectors.bluesky.collector import _carries_tag
    from backchannel.collectors.bluesky.normalize import normalize_post_view

    def post(text: str) -> NormalizedPost:
        did = "did:plc:abc"
        return normalize_post_view(
            {
                "uri": f"at://{did}/app.bsky.feed.post/1",
                "cid": "c",
                "author": {"did": did, "handle": "a.example"},
                "record": {"text": text, "createdAt": "2026-03-12T00:00:00Z"},
                "indexedAt": "2026-03-12T00:00:00Z",
            }
        )

    assert _carries_tag(post("so good (#SWRS26)"), "swrs26")
    assert _carries_tag(post("#Swrs26!"), "swrs26")
    assert not _carries_tag(post("#swrs26x and swrs26"), "swrs26")


def test_one_unreadable_post_is_skipped_not_its_page(tmp_path: Path) -> None:
    world = small_world("tiny", (20, START, START + timedelta(minutes=20)))
    odd = world.add_account("odd.bsky.example", "Odd", avatar=False)
    record = {"$type": "com.example.notapost", "text": "#tiny", "createdAt": "2026-03-12T00:05:00Z"}
    world.add_post(odd, record, tags=["tiny"])
    with BlueskySandbox(world) as sb, collector(sb, tmp_path) as bsky:
        result = run(bsky.collect("tiny", WINDOW, None))
    assert len(result.uris) == 20
    assert result.skipped == Counter({"not a post": 1})


def test_a_refused_search_cursor_restarts_its_query(tiny: BlueskySandbox, tmp_path: Path) -> None:
    with collector(tiny, tmp_path) as bsky:
        first = next(bsky.collect("tiny", WINDOW, None))
        stale = json.loads(json.dumps(first.cursor))
        stale["span"]["cursor"] = "not-a-cursor"
        rest = run(bsky.collect("tiny", WINDOW, stale))
    assert {p.uri for p in first.posts} | set(rest.uris) == all_tagged(tiny.world, "tiny")
    assert rest.cursor["span"] is None
