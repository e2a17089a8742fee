"""The Mastodon collector against the loopback sandbox, over real HTTP.

Mastodon.py is not mocked: every test drives ``MastodonCollector.collect`` against
:class:`MastodonSandbox` servers and checks what came back, how many requests it cost
(the servers' own request logs), and how faults are survived or reported.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from backchannel.collectors.base import Page, Window
from backchannel.collectors.failures import host_of
from backchannel.collectors.mastodon.collector import MastodonCollector, default_user_agent
from backchannel.collectors.retry import RetryPolicy
from backchannel.errors import (
    AuthRequiredError,
    Interrupted,
    MalformedResponseError,
    RetriesExhaustedError,
)
from backchannel.sandbox.httpbase import Fault, Response, SandboxServer
from backchannel.sandbox.mastodon_demo import build_demo_world
from backchannel.sandbox.mastodon_server import MastodonSandbox, MastodonServer
from backchannel.sandbox.mastodon_world import MastodonWorld
from tests.helpers import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "mastodon"
FAST = RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_rate_limit_sleep=2.0)
TIMELINE = "/api/v1/timelines/"
T0 = datetime(2026, 3, 12, 0, 0, tzinfo=UTC)
WINDOW = Window(T0 - timedelta(hours=1), T0 + timedelta(days=2))
KEY = "mastodon.kea.access_token_env"


HOUR = timedelta(hours=1)  # the default cadence


def collector(url: str, **kwargs: Any) -> MastodonCollector:
    kwargs.setdefault("policy", FAST)
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("config_key", KEY)
    # Re-scan on every run (as the demo does), unless a test is about the cadence.
    kwargs.setdefault("rescan_every", timedelta(0))
    return MastodonCollector(url, **kwargs)


def run(c: MastodonCollector, tag: str, window: Window, cursor: Any = None) -> list[Page]:
    return list(c.collect(tag, window, cursor))


def uris(pages: list[Page]) -> list[str]:
    return [post.uri for page in pages for post in page.posts]


def above(pages: list[Page], cursor: dict[str, Any] | None) -> list[str]:
    """Uris of posts the forward walk found: ids above the cursor the run started from."""
    floor = int(cursor["min_id"]) if cursor else 0
    return [p.uri for page in pages for p in page.posts if int(p.native_id) > floor]


def timeline_requests(server: MastodonServer) -> list[str]:
    return server.requests_to("/api/v1/timelines/tag/")


# -- a small world for counting and faults -------------------------------------------------


def small_world(posts: int = 100, every: timedelta = timedelta(minutes=1)) -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance("kea.example")
    world.add_instance("tui.example")
    ana = world.add_account("ana", "kea.example", seen_by=["tui.example"])
    for i in range(posts):
        world.add_post(ana, f"Talk note {i} #SWRS26", created_at=T0 + i * every)
    return world


@pytest.fixture
def small() -> Iterator[tuple[MastodonWorld, MastodonSandbox]]:
    world = small_world()
    with MastodonSandbox(world) as sandbox:
        yield world, sandbox


# -- the demo world: completeness --------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_final() -> Iterator[MastodonSandbox]:
    """The demo world driven to its final step (late posts arrived, deletions done)."""
    world = build_demo_world()
    while world.step < world.last_step():
        world.advance()
    with MastodonSandbox(world) as sandbox:
        yield sandbox


def test_full_walk_matches_answer_key(demo_final: MastodonSandbox) -> None:
    key = demo_final.answer_key()
    window = Window(key.window_start, key.window_end)
    for instance in key.sources:
        c = collector(demo_final.url(instance))
        for tag in key.tags:
            pages = run(c, tag, window)
            got = uris(pages)
            assert len(got) == len(set(got)), f"duplicates from {instance} #{tag}"
            assert set(got) == key.by_tag[tag][instance], (instance, tag)
            assert not set(got) & key.not_public
            for page in pages:
                for post in page.posts:
                    assert post.platform == "mastodon" and post.created_at.tzinfo is not None
                    assert tag in post.tags  # matched without regard to case
                    assert window.start <= post.created_at <= window.end
        # one client, one hidden instance request, whatever the number of tags
        assert demo_final.instances[instance].requests_to("/api/v2/instance").__len__() == 1
        c.close()


def test_resume_from_a_mid_walk_cursor_has_no_gaps(demo_final: MastodonSandbox) -> None:
    key = demo_final.answer_key()
    window = Window(key.window_start, key.window_end)
    instance, tag = key.sources[0], key.tags[0]
    first = collector(demo_final.url(instance))
    walk = first.collect(tag, window, None)
    committed = [next(walk), next(walk)]  # then the process "dies"
    walk.close()
    first.close()
    assert len(committed[-1].posts) and committed[-1].cursor["min_id"]

    second = collector(demo_final.url(instance))
    rest = run(second, tag, window, committed[-1].cursor)
    before, after = set(uris(committed)), above(rest, committed[-1].cursor)
    assert not before & set(after), "the forward walk repeated committed posts"
    assert len(after) == len(set(after))
    assert before | set(uris(rest)) == key.by_tag[tag][instance]


def test_late_backdated_posts_are_found_by_the_rescan() -> None:
    world = build_demo_world()
    assert world.step == 0
    with MastodonSandbox(world) as sandbox:
        key = sandbox.answer_key()
        window = Window(key.window_start, key.window_end)
        instance, tag = key.sources[0], key.tags[0]
        c = collector(sandbox.url(instance))
        first = run(c, tag, window)
        late_here = key.by_tag[tag][instance] & key.late
        assert late_here, "the demo world should have late posts on this instance"
        assert not set(uris(first)) & late_here

        world.advance()  # late posts arrive, with ids below the cursor
        second = run(c, tag, window, first[-1].cursor)
        fwd = above(second, first[-1].cursor)
        assert not set(fwd) & late_here, "backdated ids cannot be above the cursor"
        found = set(uris(second)) & late_here
        # the re-scan covers the 6 h before the newest post seen
        newest = max(p.created_at for page in first for p in page.posts)
        reachable = {
            uri for uri in late_here if world.post(uri).created_at >= newest - timedelta(hours=6)
        }
        assert reachable and found == reachable
        assert second[-1].cursor["rescan_since"] is None
        assert second[-1].cursor["rescan_done_until"]
        everything = set(uris(first)) | set(uris(second))
        assert everything - key.deleted - (late_here - reachable) == (
            key.by_tag[tag][instance] - (late_here - reachable)
        )


def test_a_wider_rescan_reaches_older_late_posts() -> None:
    world = build_demo_world()
    with MastodonSandbox(world) as sandbox:
        key = sandbox.answer_key()
        window = Window(key.window_start, key.window_end)
        instance, tag = key.sources[0], key.tags[0]
        c = collector(sandbox.url(instance), rescan=timedelta(days=3))
        first = run(c, tag, window)
        world.advance()
        second = run(c, tag, window, first[-1].cursor)
        got = set(uris(first)) | set(uris(second))
        assert got - key.deleted == key.by_tag[tag][instance]


def test_an_owed_rescan_survives_an_interrupted_run(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    world, sandbox = small
    c = collector(sandbox.url("tui.example"))
    first = run(c, "swrs26", WINDOW)
    ana = world.account("ana@kea.example")
    late = world.add_post(
        ana, "late #swrs26", created_at=T0 + timedelta(minutes=10), arrives={"tui.example": 1}
    )
    world.advance()
    for i in range(5):  # the newest post moves far beyond the late one
        world.add_post(ana, f"next day {i} #swrs26", created_at=T0 + timedelta(hours=20, minutes=i))
    walk = c.collect("swrs26", WINDOW, first[-1].cursor)
    interrupted = next(walk)  # the forward page is committed, then the run dies
    walk.close()
    assert interrupted.cursor["rescan_since"] is not None
    assert interrupted.cursor["newest_at"].startswith("2026-03-12T20:04")
    resumed = run(c, "swrs26", WINDOW, interrupted.cursor)
    assert world.uri(late) in uris(resumed)
    assert resumed[-1].cursor["rescan_since"] is None


# -- request counts ---------------------------------------------------------------------------


def test_request_counts(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    world, sandbox = small
    server = sandbox.instances["tui.example"]
    c = collector(server.base_url)
    first = run(c, "swrs26", WINDOW)
    assert len(uris(first)) == 100
    # 40 + 40 + 20: the short third page ends the walk without asking for an empty one
    assert len(timeline_requests(server)) == math.ceil(100 / 40)
    assert sum(p.requests for p in first) == len(server.request_log) == 1 + 3
    assert first[0].requests == 2  # the hidden GET /api/v2/instance/ is counted

    # An idle re-run (a new client, as each run makes): one empty forward page, then
    # the re-scan of the trailing 6 h (here all 100 posts: 3 pages).
    server.request_log.clear()
    idle = collector(server.base_url)
    again = run(idle, "swrs26", WINDOW, first[-1].cursor)
    fwd = [t for t in timeline_requests(server) if "min_id=" in t]
    rescan = [t for t in timeline_requests(server) if "max_id=" in t]
    assert len(fwd) == 1 and len(fwd) + 1 <= 2  # + the instance request
    assert len(rescan) == math.ceil(100 / 40)
    assert sum(p.requests for p in again) == len(server.request_log) == idle.request_count
    assert above(again, first[-1].cursor) == []

    # N new posts cost about ceil(N / 40) forward requests.
    ana = world.account("ana@kea.example")
    for i in range(50):
        world.add_post(ana, f"Later {i} #swrs26", created_at=T0 + timedelta(hours=3, minutes=i))
    server.request_log.clear()
    third = run(idle, "swrs26", WINDOW, again[-1].cursor)
    fwd = [t for t in timeline_requests(server) if "min_id=" in t]
    assert len(fwd) == math.ceil(50 / 40)
    assert len(above(third, again[-1].cursor)) == 50
    assert sum(p.requests for p in third) == len(server.request_log)  # no instance again


def test_forward_walk_stops_after_the_window(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    narrow = Window(T0, T0 + timedelta(minutes=29, seconds=59))  # posts 0..29
    pages = run(collector(server.base_url), "swrs26", narrow)
    assert len(uris(pages)) == 30
    assert pages[0].skipped["outside window"] == 10  # 30..39 of the first full page
    # the second page is all after the end: the walk stops there, not at the present
    assert len(timeline_requests(server)) == 2


def test_server_without_instance_v2_is_asked_once(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("status", times=50, status=404, path="/api/v2/instance"))
    pages = run(collector(server.base_url), "swrs26", WINDOW)
    assert len(uris(pages)) == 100
    assert len(server.requests_to("/api/v2/instance")) == 1


# -- politeness and faults ------------------------------------------------------------------------


def test_rate_limit_is_waited_out(
    small: tuple[MastodonWorld, MastodonSandbox], caplog: pytest.LogCaptureFixture
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("ratelimit", path=TIMELINE, reset_in=0.4))
    c = collector(server.base_url)
    with caplog.at_level(logging.INFO):
        pages = run(c, "swrs26", WINDOW)
    assert len(set(uris(pages))) == 100
    assert 0.2 < c.slept < 2.0
    assert any("rate limit" in r.getMessage() and "429" in r.getMessage() for r in caplog.records)
    assert sum(p.requests for p in pages) == len(server.request_log)  # the 429 counted too


def test_rate_limit_sleep_is_capped(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("ratelimit", path=TIMELINE, reset_in=3600))
    policy = RetryPolicy(attempts=2, backoff_base=0.01, backoff_cap=0.05, max_rate_limit_sleep=0.1)
    c = collector(server.base_url, policy=policy)
    with pytest.raises(RetriesExhaustedError, match="429"):
        run(c, "swrs26", WINDOW)
    assert c.slept < 1.0


def test_server_error_burst_is_survived(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("status", times=3, status=503, path=TIMELINE))
    c = collector(server.base_url)
    pages = run(c, "swrs26", WINDOW)
    assert len(set(uris(pages))) == 100
    assert pages[0].requests == 1 + 3 + 1  # instance, three 503s, the good answer
    assert c.slept > 0


def test_server_errors_outlasting_the_budget_fail_the_source(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("status", times=100, status=500, path=TIMELINE))
    c = collector(server.base_url)
    with pytest.raises(RetriesExhaustedError, match="HTTP 500"):
        run(c, "swrs26", WINDOW)
    assert len(timeline_requests(server)) == FAST.attempts


def test_dropped_connection_is_retried(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("drop", times=2, path=TIMELINE))
    pages = run(collector(server.base_url), "swrs26", WINDOW)
    assert len(set(uris(pages))) == 100


def test_malformed_page_fails_without_yielding_it(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    c = collector(server.base_url)
    walk = c.collect("swrs26", WINDOW, None)
    good = next(walk)
    server.faults.add(Fault("malformed", path=TIMELINE))
    with pytest.raises(MalformedResponseError):
        next(walk)
    assert len(good.posts) == 40  # only the page before stays, with its cursor
    assert c.request_count == 3  # instance, page 1, the bad page: no retry of a bad page


class OddServer(SandboxServer):
    """A server whose tag timeline answers 200 with valid JSON of the wrong shape."""

    body: Any = None

    def routes(self) -> None:
        self.route("GET", "/api/v2/instance/", lambda request: Response(200, {}))
        self.route("GET", "/api/v1/timelines/tag/*", lambda request: Response(200, self.body))


@pytest.mark.parametrize("body", [{"statuses": []}, ["not a status"]])
def test_page_of_wrong_shape_is_malformed(body: Any) -> None:
    with OddServer() as server:
        server.body = body
        c = collector(server.base_url)
        with pytest.raises(MalformedResponseError):
            run(c, "swrs26", WINDOW)
        assert len(server.requests_to("/api/v1/timelines/")) == 1  # refused, not retried


@pytest.mark.parametrize(
    "status",
    [
        {"id": "1", "uri": "https://x.example/1"},
        {"id": "1", "uri": "u", "created_at": "soon", "content": "", "account": {"id": "2"}},
    ],
)
def test_a_status_of_wrong_shape_is_skipped_and_the_page_goes_on(status: Any) -> None:
    """Issue 20: one stranger's status cannot stop a source; it is counted, not stored."""
    with OddServer() as server:
        server.body = [status]
        pages = run(collector(server.base_url), "swrs26", WINDOW)
        assert [p.posts for p in pages] == [[]]
        assert pages[0].skipped == {"unreadable": 1}
        assert pages[0].unreadable == ["1"]


def test_unreadable_posts_are_counted_in_the_summary_and_named_in_status(
    tmp_path: Path,
) -> None:
    from tests.helpers import run_cli, write_config

    with OddServer() as server:
        server.body = [{"id": "8141", "uri": "https://x.example/1"}]
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
        assert run_cli("init", config=config).exit_code == 0
        added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
                        "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
                        "--mastodon", server.base_url, config=config)  # fmt: skip
        assert added.exit_code == 0
        collected = run_cli("collect", "ev", "--no-media", "--wide", config=config)
        assert collected.exit_code == 0, collected.output
        (row,) = [line for line in collected.output.splitlines() if line.startswith("ev ")]
        assert " unreadable 1 " in row and " ok " in row
        status = run_cli("status", "ev", config=config).output
        assert f"skipped by {server.base_url} in its last run: unreadable 1" in status
        assert f"unreadable posts from {server.base_url} (ids): 8141" in status


def test_raw_json_boosts_and_visibility_over_http() -> None:
    """Real recorded statuses, served as a server sends them."""
    hoot = json.loads(_cassette_status())
    unlisted = {
        **hoot,
        "id": str(int(hoot["id"]) + 1),
        "uri": hoot["uri"] + "-u",
        "visibility": "unlisted",
    }
    original = {**hoot, "id": str(int(hoot["id"]) + 2), "uri": hoot["uri"] + "-o"}
    boost = {**hoot, "id": str(int(hoot["id"]) + 3), "uri": hoot["uri"] + "/activity",
             "content": "", "reblog": original}  # fmt: skip
    window = Window(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 2, tzinfo=UTC))
    with OddServer() as server:
        server.body = [boost, unlisted, hoot]
        (page,) = run(collector(server.base_url), "hoot", window)
    assert [p.uri for p in page.posts] == [original["uri"], hoot["uri"]]
    assert page.posts[0].raw == original and page.posts[0].native_id == original["id"]
    assert page.posts[1].raw == hoot  # byte-for-byte the JSON that was sent
    assert page.skipped == {"not public": 1}


def _cassette_status() -> str:
    data = yaml.safe_load((FIXTURES / "test_hashtag_tl.yaml").read_text(encoding="utf-8"))
    (interaction,) = [i for i in data["interactions"] if "/timelines/tag/" in i["request"]["uri"]]
    return json.dumps(json.loads(interaction["response"]["body"]["string"])[0])


def test_unknown_tag_answered_with_404_is_empty(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("status", status=404, path=TIMELINE))
    pages = run(collector(server.base_url), "nosuchtag", WINDOW)
    # the tag's page, /api/v1/instance once (a 404 from a web server that is not
    # Mastodon would look the same: see test_honest_zero.py) and (a first run finding
    # nothing) its newest page, to tell an empty tag from ids that do not carry the time
    assert [len(p.posts) for p in pages] == [0] and pages[0].requests == 4


@pytest.mark.filterwarnings("ignore::mastodon.errors.MastodonWarning")
@pytest.mark.parametrize("how", ["401", "422"])
def test_auth_required_stops_the_source(
    small: tuple[MastodonWorld, MastodonSandbox], how: str
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    if how == "401":
        server.faults.add(Fault("auth", path=TIMELINE))
    else:
        server.hashtag_feeds = "authenticated"
    c = collector(server.base_url)
    with pytest.raises(AuthRequiredError) as caught:
        run(c, "swrs26", WINDOW)
    message = str(caught.value)
    assert KEY in message and host_of(server.base_url) in message and how in message
    assert "access token" in message
    assert len(timeline_requests(server)) == 1  # at once, no retries


def test_access_token_is_sent(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.hashtag_feeds = "authenticated"
    pages = run(collector(server.base_url, access_token="sekrit"), "swrs26", WINDOW)
    assert len(uris(pages)) == 100


def test_stop_event_interrupts(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    stop = threading.Event()
    c = collector(server.base_url, stop=stop)
    walk = c.collect("swrs26", WINDOW, None)
    next(walk)
    stop.set()
    with pytest.raises(Interrupted):
        next(walk)


def test_stop_event_cuts_a_rate_limit_wait_short(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    server = sandbox.instances["kea.example"]
    server.faults.add(Fault("ratelimit", path=TIMELINE, reset_in=60))
    stop = threading.Event()
    policy = RetryPolicy(attempts=3, max_rate_limit_sleep=60)
    c = collector(server.base_url, stop=stop, policy=policy)
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    try:
        with pytest.raises(Interrupted):
            run(c, "swrs26", WINDOW)
    finally:
        timer.cancel()
    assert c.slept < 5


def test_edit_is_picked_up_by_the_rescan(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    world, sandbox = small
    c = collector(sandbox.url("tui.example"))
    first = run(c, "swrs26", WINDOW)
    target = world.posts["p90"]
    world.edit(target, body="Talk note 90, corrected #SWRS26")
    second = run(c, "swrs26", WINDOW, first[-1].cursor)
    (edited,) = [p for page in second for p in page.posts if p.uri == world.uri(target)]
    assert edited.edited_at is not None and "corrected" in edited.text
    assert edited.native_id == str(world.local_id("tui.example", target))


def test_sources_run_concurrently(small: tuple[MastodonWorld, MastodonSandbox]) -> None:
    world, sandbox = small
    results: dict[str, set[str]] = {}

    def work(name: str) -> None:
        c = collector(sandbox.url(name))
        results[name] = set(uris(run(c, "#SWRS26", WINDOW)))
        c.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("kea.example", "tui.example")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results["kea.example"]) == 100
    assert results["kea.example"] == results["tui.example"]


def test_window_moved_earlier_restarts_the_walk(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _, sandbox = small
    c = collector(sandbox.url("kea.example"))
    late_start = Window(T0 + timedelta(minutes=50), WINDOW.end)
    first = run(c, "swrs26", late_start)
    assert len(uris(first)) == 50
    again = run(c, "swrs26", WINDOW, first[-1].cursor)
    assert len(set(uris(again))) == 100


def test_user_agent_names_a_contact() -> None:
    ua = default_user_agent("https://example.org/archive-contact")
    assert ua.startswith("backchannel/") and "https://example.org/archive-contact" in ua


def test_the_rescan_runs_at_most_once_per_interval(
    small: tuple[MastodonWorld, MastodonSandbox],
) -> None:
    _world, sandbox = small
    server = sandbox.instances["tui.example"]
    first = run(collector(server.base_url, rescan_every=HOUR), "swrs26", WINDOW)
    # A first walk from the window's start counts as a re-scan: the next run is idle.
    assert first[-1].cursor["rescan_done_at"]
    server.request_log.clear()
    second = run(collector(server.base_url, rescan_every=HOUR), "swrs26", WINDOW, first[-1].cursor)
    assert len(server.request_log) == 2
    assert [t for t in timeline_requests(server) if "max_id=" in t] == []
    rescanned = run(
        collector(server.base_url, rescan_every=timedelta(0)), "swrs26", WINDOW, second[-1].cursor
    )
    assert rescanned[-1].cursor["rescan_done_at"] > first[-1].cursor["rescan_done_at"]

    # Within the interval an idle run costs the instance request and one forward page.
    server.request_log.clear()
    idle = run(
        collector(server.base_url, rescan_every=HOUR), "swrs26", WINDOW, rescanned[-1].cursor
    )
    assert len(server.request_log) == 2
    assert [t for t in timeline_requests(server) if "max_id=" in t] == []
    assert idle[-1].cursor["rescan_done_at"] == rescanned[-1].cursor["rescan_done_at"]

    # With no interval (the demo's setting) every run re-scans the trailing span.
    server.request_log.clear()
    eager = collector(server.base_url, rescan_every=timedelta(0))
    run(eager, "swrs26", WINDOW, idle[-1].cursor)
    assert len([t for t in timeline_requests(server) if "max_id=" in t]) == math.ceil(100 / 40)
