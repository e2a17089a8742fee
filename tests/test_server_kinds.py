"""Servers that page a hashtag otherwise than Mastodon (issue 32): never a flood, never
a silent zero.

95 public posts on the tag, one every 7 minutes, served by the loopback Mastodon
sandbox as each kind of software serves them (sandbox/server_kinds.py: GoToSocial's
ULIDs compared as text, Akkoma's FlakeIds and Friendica's integers in storage order,
Pixelfed's own Snowflakes with media-only feeds and a six-month floor, Mitra ignoring
``min_id``, snac matching ids exactly), with a token where the software wants one. The
real Mastodon.py client over real HTTP collects everything in the window exactly once
on each; no walk asks twice for a page; a second, idle run is cheap.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backchannel.collectors import MastodonCollector, RetryPolicy, Window
from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.mastodon_model import Media
from backchannel.sandbox.mastodon_server import MastodonSandbox, MastodonServer
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.sandbox.server_kinds import KINDS
from backchannel.store import Database, Post
from tests.helpers import run_cli, write_config

# Recent: Pixelfed pages nothing older than six months.
START = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
POSTS = 95
WINDOW = Window(START - timedelta(hours=1), START + timedelta(days=1))
TOKEN = "sandbox-token"
# Every kind, and a server that says nothing of itself with the strictest ids (snac's,
# matched exactly): nothing may be assumed of it.
KIND_NAMES = [*KINDS, "unknown"]


def _world() -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example", display_name="Ana")
    for n in range(POSTS):
        media = [Media(f"m{n}", description="a slide")] if n % 3 == 0 else []
        world.add_post(ana, f"post {n} #swrs26", created_at=START + timedelta(minutes=7 * n),
                       media=media)  # fmt: skip
    # Before the window: never collected, and the walk down stops at them.
    for n in range(30):
        world.add_post(ana, f"old {n} #swrs26", created_at=START - timedelta(days=3, minutes=n))
    return world


def _serve_as(server: MastodonServer, kind: str) -> str | None:
    """Serve as ``kind``; the software name a collector is told (None: not known)."""
    server.budget = RateBudget(limit=10**6)
    server.use("snac" if kind == "unknown" else kind)
    if kind == "unknown":
        server.software = None
    return None if kind == "unknown" else kind


def _run(
    base_url: str, cursor: dict[str, Any] | None, software: str | None = "mastodon"
) -> tuple[list[str], dict[str, Any], int]:
    collector = MastodonCollector(base_url, TOKEN, software=software,
                                  policy=RetryPolicy(attempts=2, backoff_base=0.01))  # fmt: skip
    texts: list[str] = []
    last = cursor
    try:
        for page in collector.collect("swrs26", WINDOW, cursor):
            texts += [post.text for post in page.posts]
            last = page.cursor
        return texts, last or {}, collector.request_count
    finally:
        collector.close()


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_collects_the_window_exactly_once_and_an_idle_run_is_cheap(
    kind: str,
) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        software = _serve_as(server, kind)
        texts, cursor, requests = _run(server.base_url, None, software)
        assert sorted(texts) == sorted(f"post {n} #swrs26" for n in range(POSTS)), kind
        pages = [target for method, target in server.request_log if "/timelines/tag/" in target]
        assert len(pages) == len(set(pages)), "a page was asked for twice"
        minimum = math.ceil(POSTS / 40)
        assert requests <= minimum + 4, (kind, requests)
        again, _, idle = _run(server.base_url, cursor, software)
        assert again == [] or set(again) <= set(texts)
        assert idle <= 2, (kind, idle)  # min_id honoured: one page; elsewhere its top page


def test_a_server_that_repeats_its_newest_page_is_walked_down_not_flooded() -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        _serve_as(server, "mitra")
        server.software = None  # nothing known: it is found out by its answers
        _run(server.base_url, None, None)
        asked = [target for _, target in server.request_log if "/timelines/tag/" in target]
        assert sum("min_id" in target for target in asked) <= 2  # found out, then never
        assert any("max_id" in target for target in asked)


def test_a_source_that_spends_its_requests_is_paused_and_the_next_run_goes_on(
    tmp_path: Path,
) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        config, url = _event(tmp_path, server.base_url, "[collect]\nsource_max_requests = 2\n")
        first = run_cli("collect", "ev", "--no-media", config=config)
        assert first.exit_code == 0, first.output
        assert "its 2 requests for this run are spent" in first.output
        for _ in range(3):  # each run goes on from where the last one stopped
            assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 0
        db = Database(url)
        try:
            with db.reading() as session:
                texts = session.scalars(select(Post.text)).all()
        finally:
            db.dispose()
        assert sorted(texts) == sorted(f"post {n} #swrs26" for n in range(POSTS))


def _event(tmp_path: Path, base_url: str, extra: str = "", tag: str = "swrs26") -> tuple[Path, str]:
    """A set-up archive with the event ``ev`` reading ``#tag`` from ``base_url``."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    config = write_config(tmp_path, url, extra)
    assert run_cli("init", config=config).exit_code == 0
    added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", tag,
                    "--start", f"{START:%Y-%m-%d}", "--end", f"{START + timedelta(days=2):%Y-%m-%d}",
                    "--timezone", "UTC",
                    "--mastodon", base_url, config=config)  # fmt: skip
    assert added.exit_code == 0
    return config, url


@pytest.mark.parametrize(
    ("kind", "shown", "from_start"),
    [("mastodon", "mastodon 4.3.0", True), ("gotosocial", "gotosocial 0.17.0", True),
     ("akkoma", "akkoma 3.13.2", False), ("unknown", "does not say", True)],
)  # fmt: skip
def test_each_source_is_known_by_its_nodeinfo_and_walked_as_its_software_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, shown: str, from_start: bool
) -> None:
    """Where the ids carry the post's time (Mastodon, GoToSocial) the first run starts at
    the window's start (``min_id``); elsewhere (Akkoma's ids are made when a post is
    stored) it walks down from the newest post; a server that says nothing is tried
    from the start and found out."""
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        _serve_as(server, kind)
        monkeypatch.setenv("KEA_TOKEN", TOKEN)
        table = f'[mastodon.kea]\nbase_url = "{server.base_url}"\naccess_token_env = "KEA_TOKEN"\n'
        config, url = _event(tmp_path, server.base_url, table)
        before = run_cli("event", "show", "ev", config=config).output
        assert "not asked yet (at the first collection)" in before
        done = run_cli("collect", "ev", "--no-media", config=config)
        assert done.exit_code == 0, done.output
        assert shown in run_cli("event", "show", "ev", config=config).output
        assert shown in run_cli("status", "ev", config=config).output
        site = tmp_path / "site"
        assert run_cli("export", "ev", "--out", str(site), config=config).exit_code == 0
        about = (site / "ev" / "about.html").read_text(encoding="utf-8")
        label = "a fediverse server" if shown == "does not say" else shown
        assert f"<li>{server.base_url.removeprefix('http://')}: {label}</li>" in about
        asked = [t for _, t in server.request_log if "/timelines/tag/" in t]
        assert ("min_id" in asked[0]) == from_start, asked[:2]
        nodeinfo = [t for _, t in server.request_log if "nodeinfo" in t]
        assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 0
        assert len([t for _, t in server.request_log if "nodeinfo" in t]) == len(nodeinfo)
        db = Database(url)
        try:
            with db.reading() as session:
                texts = session.scalars(select(Post.text)).all()
        finally:
            db.dispose()
        assert sorted(texts) == sorted(f"post {n} #swrs26" for n in range(POSTS))


def test_a_server_whose_api_is_not_what_its_nodeinfo_says_fails_its_source_with_one_line(
    tmp_path: Path,
) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        server.software = ("misskey", "2024.11.0")
        config, _ = _event(tmp_path, server.base_url)
        done = run_cli("collect", "ev", "--no-media", config=config)
        host = server.base_url.removeprefix("http://")
    assert done.exit_code == 1
    assert (f"{host}: /api/notes/search-by-tag answered HTTP 404 (no Misskey API here, "
            "although its NodeInfo names a Misskey)") in done.output  # fmt: skip


def test_a_source_that_served_nothing_says_so(tmp_path: Path) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        config, _ = _event(tmp_path, server.base_url, tag="nobodyuses")
        done = run_cli("collect", "ev", "--no-media", config=config)
        base_url = server.base_url
    assert done.exit_code == 0, done.output
    assert "0 posts: is #nobodyuses used there?" in done.output
    status = run_cli("status", "ev", config=config).output
    assert f"suspicious: {base_url} has served no post in 1 run(s) of the window" in status


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_finds_a_late_post_and_a_recheck_finds_a_deletion(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A post that reaches the server late, with its own (earlier) time, is found by the
    next collection (the re-scan, or the walk from the top where ids are made when a
    post is stored); a post deleted there is found by ``recheck`` and removed."""
    world = _world()
    with MastodonSandbox(world) as sandbox:
        server = sandbox.instances["kea.example"]
        _serve_as(server, kind)
        monkeypatch.setenv("KEA_TOKEN", TOKEN)
        table = (f'[mastodon.kea]\nbase_url = "{server.base_url}"\n'
                 'access_token_env = "KEA_TOKEN"\n'
                 "[collect]\nrescan_every_minutes = 0.001\n")  # fmt: skip
        config, url = _event(tmp_path, server.base_url, table)
        first = run_cli("collect", "ev", "--no-media", config=config)
        assert first.exit_code == 0, first.output
        ana = world.account("ana@kea.example")
        newest = START + timedelta(minutes=7 * (POSTS - 1))
        world.add_post(ana, "late #swrs26", created_at=newest - timedelta(hours=1),
                       arrives={"kea.example": 1})  # fmt: skip
        world.schedule_delete(world.posts["p5"], 1)  # "post 4"
        world.advance()
        time.sleep(0.1)  # past rescan_every
        second = run_cli("collect", "ev", "--no-media", config=config)
        assert second.exit_code == 0, second.output
        checked = run_cli("recheck", "ev", config=config)
        assert checked.exit_code == 0, checked.output
    db = Database(url)
    try:
        with db.reading() as session:
            texts = session.scalars(select(Post.text)).all()
    finally:
        db.dispose()
    expected = [f"post {n} #swrs26" for n in range(POSTS) if n != 4] + ["late #swrs26"]
    assert sorted(texts) == sorted(expected), kind


def test_init_asks_for_a_token_where_the_software_needs_one_and_doctor_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backchannel.config import load_config

    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        _serve_as(server, "gotosocial")
        answers = ["https://swrs.example/about", "", "", "ev", "Ev", "swrs26", "UTC",
                   f"{START:%Y-%m-%d}", f"{START + timedelta(days=2):%Y-%m-%d}",
                   server.base_url, "n", ""]  # fmt: skip
        config = tmp_path / "config.toml"
        done = run_cli("init", config=config, input="\n".join(answers) + "\n")
        assert done.exit_code == 0, done.output
        assert (
            f"{server.base_url} runs gotosocial 0.17.0: its hashtag feed needs a login"
            in done.output
        )
        env = "BACKCHANNEL_127_0_0_1_TOKEN"
        assert f"put the access token for {server.base_url} in ${env}" in done.output
        loaded = load_config(config)
        match = loaded.mastodon_server(server.base_url)
        assert match is not None and match[1].access_token_env == env
        monkeypatch.setenv(env, TOKEN)
        doctor = run_cli("doctor", "ev", config=config)
        assert "runs gotosocial 0.17.0; " in doctor.output
        collected = run_cli("collect", "ev", "--no-media", config=config)
        assert collected.exit_code == 0, collected.output

        # Written by hand without the token's table: doctor says what to add, and where.
        bare = tmp_path / "bare"
        bare.mkdir()
        config, _ = _event(bare, server.base_url)
        doctor = run_cli("doctor", "ev", config=config)
        base_url = server.base_url
    assert doctor.exit_code == 1
    assert (f"runs gotosocial 0.17.0, whose hashtag feed needs a login: set "
            f"mastodon.127_0_0_1.access_token_env (a [mastodon.127_0_0_1] table with base_url = "
            f'"{base_url}"') in doctor.output  # fmt: skip
