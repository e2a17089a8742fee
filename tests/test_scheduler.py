"""`backchannel run` against the sandbox, as real subprocesses: it collects new posts
as they appear, fetches their media, keeps a live wall, stops cleanly on SIGTERM in the
middle of a collection with nothing lost, refuses a second `run`, and lets a manual
`collect` run beside it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.collect.service import collect
from backchannel.config import load_config
from backchannel.events import EventSpec, create_event
from backchannel.sandbox.mastodon_model import Media as SandboxMedia
from backchannel.store.models import CollectionRun, Cursor, Media, Post
from tests.sandbox_env import SandboxEnv, sandbox_env

SLUG = "live"
TAG = "livewall"
BACKCHANNEL = str(Path(sys.executable).with_name("backchannel"))
WAIT = 90.0  # seconds a condition may take on a busy machine (not a timing assertion)


@dataclass
class Live:
    env: SandboxEnv
    log: Path
    posted: list[str]  # texts, mastodon and bluesky
    _n: int = 0

    def post_mastodon(self, count: int = 1, media: bool = False) -> list[str]:
        world = self.env.sandbox.mastodon.world
        texts = []
        for _ in range(count):
            self._n += 1
            text = f"Live post number {self._n} #{TAG}"
            attrs = {"media": [SandboxMedia(f"live-{self._n}", "A slide")]} if media else {}
            world.add_post("wally@" + self.home, text, created_at=datetime.now(UTC), **attrs)
            texts.append(text)
        self.posted += texts
        return texts

    def post_bluesky(self) -> str:
        world = self.env.sandbox.bluesky.world
        self._n += 1
        text = f"Live skeet number {self._n} #{TAG}"
        author = world.account("wally.bsky.example")
        world.post(author, text, created_at=datetime.now(UTC))
        self.posted.append(text)
        return text

    @property
    def home(self) -> str:
        return self.env.sandbox.mastodon.sources[0]

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        handle = self.log.open("ab")
        return subprocess.Popen(
            [BACKCHANNEL, *args, "run"], env=self.env.env, stdout=handle, stderr=handle
        )


def _configure(env: SandboxEnv, live: bool) -> None:
    text = env.config_path.read_text(encoding="utf-8")
    text = text.replace("[collect]\n", "[collect]\nrescan_hours = 0.0\n")
    text = text.replace("[export]\n", f"[export]\nlive = {str(live).lower()}\n")
    text += (
        "[schedule]\ncollect_every_minutes = 0.02\nafter_event_every_minutes = 0.05\n"
        "jitter_seconds = 0.0\n"
    )
    env.config_path.write_text(text, encoding="utf-8")
    env.config = load_config(env.config_path)


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[Live]:
    with sandbox_env(tmp_path, db_url) as env:
        _configure(env, live=True)
        now = datetime.now(UTC)
        mastodon = env.sandbox.mastodon
        home = mastodon.sources[0]
        mastodon.world.add_account("wally", home, display_name="Wally Wall")
        bluesky = env.sandbox.bluesky.world
        bluesky.clock = None  # this event happens now, on the real clock
        bluesky.add_account("wally.bsky.example", "Wally Sky")
        with env.db.writing() as session:
            create_event(session, EventSpec(
                slug=SLUG, title="Live Event", hashtags=[TAG], timezone="UTC",
                start=(now - timedelta(minutes=30)).isoformat(),
                end=(now + timedelta(hours=2)).isoformat(),
                margin_before="10m", margin_after="10m",
                mastodon=[mastodon.url(home)], bluesky=env.sandbox.bluesky_url,
            ))  # fmt: skip
        yield Live(env, tmp_path / "run.log", [])


def _wait_for(what: str, condition: Callable[[], bool], live: Live) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {WAIT:.0f}s for {what}; log:\n{live.log.read_text()[-3000:]}")
        time.sleep(0.1)


def _texts(live: Live) -> list[str]:
    with live.env.db.reading() as session:
        return list(session.scalars(select(Post.text).where(Post.text.contains(TAG))))


def _shown(text: str) -> str:
    """How a post's text starts in the HTML (its hashtag becomes a link)."""
    return text.split(" #")[0] + " "


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("`run` did not exit within 10 s of SIGTERM")
    return code, time.monotonic() - started


@pytest.mark.slow
def test_run_collects_new_posts_with_media_keeps_a_wall_and_stops_cleanly(live: Live) -> None:
    first = live.post_mastodon(2, media=True) + [live.post_bluesky()]
    process = live.start()
    try:
        _wait_for("the first posts", lambda: set(first) <= set(_texts(live)), live)

        def media_done() -> bool:
            with live.env.db.reading() as session:
                states = session.scalars(
                    select(Media.fetch_state).join(Post, Media.post_id == Post.id)
                    .where(Post.text.in_(first))
                ).all()  # fmt: skip
            return len(states) == 2 and all(s == "done" for s in states)

        _wait_for("their media", media_done, live)
        later = live.post_mastodon(1) + [live.post_bluesky()]
        _wait_for(
            "posts that appeared while running", lambda: set(later) <= set(_texts(live)), live
        )
        wall = live.env.config.site_dir / SLUG / "wall.html"
        newest, oldest = _shown(later[0]), _shown(first[0])
        _wait_for("the wall", lambda: wall.exists() and newest in wall.read_text(), live)
        page = wall.read_text()
        assert '<meta http-equiv="refresh"' in page
        assert page.index(newest) < page.index(oldest), "newest first"

        # Now a long collection (many pages, a slow server), stopped in the middle.
        for server in live.env.sandbox.mastodon.instances.values():
            server.faults.latency = 0.4
        live.post_mastodon(240)

        def mid_collection() -> bool:
            with live.env.db.reading() as session:
                return bool(session.scalar(
                    select(func.count()).select_from(CollectionRun)
                    .where(CollectionRun.status == "running", CollectionRun.new > 0)
                ))  # fmt: skip

        _wait_for("a collection with a page committed and more to come", mid_collection, live)
        code, _ = _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, live.log.read_text()[-3000:]
    assert "stopped" in live.log.read_text()
    # Exported after every collection; what the archive lacks was said once.
    assert live.log.read_text().count("warning: [export] base_url is not set") == 1
    with live.env.db.reading() as session:
        statuses = set(session.scalars(select(CollectionRun.status)))
        assert "running" not in statuses and "interrupted" in statuses
        assert session.scalar(select(func.count()).select_from(Cursor))
    stored = _texts(live)
    assert len(stored) == len(set(stored)) and set(stored) < set(live.posted)

    for server in live.env.sandbox.mastodon.instances.values():
        server.faults.latency = 0.0
    results = collect(live.env.db, live.env.config, SLUG)
    assert all(r.status == "ok" for r in results), [(r.base_url, r.error) for r in results]
    stored = _texts(live)
    assert sorted(stored) == sorted(live.posted), "nothing lost, nothing twice"


@pytest.mark.slow
def test_a_second_run_refuses_and_collect_beside_run_is_safe(live: Live) -> None:
    posted = live.post_mastodon(3) + [live.post_bluesky()]
    process = live.start()
    try:
        _wait_for("the first run to collect", lambda: set(posted) <= set(_texts(live)), live)
        second = subprocess.run([BACKCHANNEL, "run"], env=live.env.env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert second.returncode != 0
        assert "another `backchannel run` is using" in second.stderr
        assert f"pid {process.pid}" in second.stderr
        assert second.stdout == ""  # only the refusal: never "scheduler running" first
        for _ in range(3):
            posted += live.post_mastodon(5) + [live.post_bluesky()]
            manual = subprocess.run([BACKCHANNEL, "collect", SLUG], env=live.env.env,
                                    capture_output=True, text=True, timeout=120)  # fmt: skip
            assert manual.returncode == 0, manual.stderr + manual.stdout
            assert "error" not in manual.stderr.lower()
        _wait_for("everything", lambda: set(posted) <= set(_texts(live)), live)
        assert process.poll() is None, "run is still going"
        code, _ = _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, live.log.read_text()[-3000:]
    stored = _texts(live)
    assert sorted(stored) == sorted(posted), "no duplicates, nothing lost"
    assert "Traceback" not in live.log.read_text()
