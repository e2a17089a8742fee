"""`kill -9` during a collection from each kind of fediverse server, then a run to its
end: every post of the window once, none missing (issue 32).

Each kind pages otherwise (sandbox/server_kinds.py, misskey_server.py): a walk from the
window's start, a walk down from the newest post, ids compared as text or matched
exactly. The collection is killed with SIGKILL as soon as it holds its database, then
twice at random moments of an uninterrupted run's duration, then run to its end. The
seed is printed; ``BACKCHANNEL_KILL_SEED`` replays a failure.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.sandbox.httpbase import RateBudget, SandboxServer
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.sandbox.misskey_server import MisskeyServer
from backchannel.sandbox.misskey_world import MisskeyWorld
from backchannel.sandbox.server_kinds import KINDS
from backchannel.store import CollectionRun, Database, Post
from tests.helpers import write_config
from tests.test_kill_resume import SCRIPT, _until_in_work

START = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
POSTS = 400
TOKEN_ENV = "KILL_KINDS_TOKEN"


@contextmanager
def _server(kind: str) -> Iterator[SandboxServer]:
    """``kind``'s server with POSTS posts of the window (and a few before it)."""
    if kind.startswith("misskey"):
        world = MisskeyWorld(ids="ulid" if kind == "misskey-ulid" else "aidx")
        users = [world.add_user(f"u{i}") for i in range(10)]
        for n in range(POSTS):
            world.add_note(
                users[n % 10], f"post {n} #swrs26", created_at=START + timedelta(minutes=2 * n)
            )
        with MisskeyServer(world) as misskey:
            yield misskey
        return
    mastodon = MastodonWorld()
    mastodon.add_instance("kea.example")
    authors = [mastodon.add_account(f"a{i}", "kea.example") for i in range(10)]
    for n in range(POSTS):
        mastodon.add_post(authors[n % 10], f"post {n} #swrs26",
                          created_at=START + timedelta(minutes=2 * n))  # fmt: skip
    for n in range(20):
        mastodon.add_post(authors[0], f"old {n} #swrs26", created_at=START - timedelta(days=2))
    with MastodonSandbox(mastodon) as sandbox:
        server = sandbox.instances["kea.example"]
        server.use(kind)
        yield server


def _collect(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(SCRIPT), "--config", str(config), "collect", "ev", "--no-media"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.parametrize("kind", [*KINDS, "misskey", "misskey-ulid"])
def test_kill_9_while_collecting_from_each_kind_then_a_run_loses_and_doubles_nothing(
    kind: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("BACKCHANNEL_KILL_SEED", random.randrange(10**6)))
    print(f"BACKCHANNEL_KILL_SEED={seed}")
    chance = random.Random(seed)
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    env[TOKEN_ENV] = "kill-token"
    with _server(kind) as server:
        server.budget = RateBudget(limit=10**6)
        server.faults.latency = 0.01  # long enough to be killed in the middle
        durations = []
        for name in ("reference", "trial"):
            folder = tmp_path / name
            folder.mkdir()
            url = f"sqlite:///{folder / 'a.db'}"
            config = write_config(folder, url, f'[mastodon.kea]\nbase_url = "{server.base_url}"\n'
                                  f'access_token_env = "{TOKEN_ENV}"\n')  # fmt: skip
            for args in (["init"], ["event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
                                    "--start", f"{START:%Y-%m-%d}", "--end",
                                    f"{START + timedelta(days=2):%Y-%m-%d}", "--timezone", "UTC",
                                    "--mastodon", server.base_url]):  # fmt: skip
                subprocess.run([str(SCRIPT), "--config", str(config), *args], env=env,
                               check=True, capture_output=True)  # fmt: skip
            if name == "reference":
                child = _collect(config, env)
                opened = _until_in_work(child, url) or time.monotonic()
                assert child.wait(120) == 0
                durations.append(time.monotonic() - opened)
                continue
            landed = 0
            for after in (0.0, *(chance.uniform(0.05, 0.95) * durations[0] for _ in range(2))):
                child = _collect(config, env)
                if _until_in_work(child, url) is not None:
                    time.sleep(after)
                    if child.poll() is None:
                        os.kill(child.pid, signal.SIGKILL)
                        landed += 1
                child.wait(120)
            assert landed, "no kill landed in the collection's work"
            assert _collect(config, env).wait(120) == 0
            db = Database(url)
            try:
                with db.reading() as session:
                    texts = session.scalars(select(Post.text)).all()
                    uris = session.scalar(select(func.count(func.distinct(Post.uri))))
                    running = session.scalars(
                        select(CollectionRun.id).where(CollectionRun.status == "running")
                    ).all()
            finally:
                db.dispose()
    assert sorted(texts) == sorted(f"post {n} #swrs26" for n in range(POSTS)), kind
    assert uris == len(texts) and running == []
