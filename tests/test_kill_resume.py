"""`kill -9` at random moments leaves what an uninterrupted run leaves (issue 20).

Two archives of the same event are made from the same loopback servers (two Mastodon
servers and Bluesky): a reference, each step run once without interruption, and a
trial, where each step (`collect`, `media fetch`, `recheck`, `import` of a twarc capture,
`story import`, `export`)
is killed with SIGKILL several times (once as soon as it holds its database, which it
does from the start of its work to its end, then at random moments of its reference
duration) and then run to its end; every kill lands after the step opened its
database, never in the interpreter's start-up. Between collecting and rechecking, the servers delete and edit posts, the
same for both. Then the two databases hold the same posts, authors, sightings, tags,
links, media and stories (compared field by field, ids and clock times aside), the two
media folders the same files and no partial download, the two sites the same files,
and no run is left `running`.

The seed is printed, and ``BACKCHANNEL_KILL_SEED`` replays a failure.
"""

from __future__ import annotations

import filecmp
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, select
from sqlalchemy.orm import selectinload

from backchannel.config import load_config
from backchannel.sandbox.bluesky import BlueskySandbox
from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.images import png
from backchannel.sandbox.mastodon_model import Media
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.store import Author, CollectionRun, Database, Post, Story
from tests.helpers import write_config
from tests.twarc_files import tweet_v1, user_v1, write_lines

TAG = "swrs26"
START = datetime(2026, 3, 12, 9, tzinfo=UTC)
SERVERS = ("kea.example", "tui.example")
PER_SERVER = 900
BLUESKY = 900
KILLS = 3
PASSWORD_ENV = "KILL_TEST_BLUESKY_PASSWORD"
SCRIPT = Path(sys.executable).with_name("backchannel")


def _mastodon() -> MastodonWorld:
    world = MastodonWorld()
    for name in SERVERS:
        world.add_instance(name)
    for n, name in enumerate(SERVERS):
        authors = [world.add_account(f"a{i}", name, display_name=f"A {i}") for i in range(30)]
        for i in range(PER_SERVER):
            world.add_post(
                authors[i % 30], f"post {i} from {name} #{TAG}",
                created_at=START + timedelta(seconds=30 * i + n),
                media=[Media(f"m{n}-{i}", description=f"image {i}")] if i % 4 == 0 else [],
            )  # fmt: skip
    return world


def _bluesky() -> World:
    world = World(hashtags=[TAG], window=(START - timedelta(days=1), START + timedelta(days=2)))
    world.login = world.add_account(
        "archivist.bsky.example", "Archivist", app_password="app-pass", avatar=False
    )
    authors = [world.add_account(f"b{i}.bsky.example", f"B {i}") for i in range(30)]
    for i in range(BLUESKY):
        embed = None
        if i % 5 == 0:
            blob = world.add_blob(png(f"bsky-{i}", 24, 24), "image/png")
            embed = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": f"{i}"}]}
        world.post(
            authors[i % 30], f"bluesky {i} #{TAG}", created_at=START + timedelta(seconds=30 * i),
            embed=embed,
        )  # fmt: skip
    return world


@dataclass
class Servers:
    mastodon: MastodonSandbox
    bluesky: BlueskySandbox


@pytest.fixture  # fresh worlds for each database: the test changes them
def servers() -> Iterator[Servers]:
    with MastodonSandbox(_mastodon()) as mastodon, BlueskySandbox(_bluesky()) as bluesky:
        # Two archives, each step run up to four times: more than the sandbox's
        # realistic 300 requests per 5 minutes, after which the clients (rightly) wait
        # for the window to reset. Rate limits are tested elsewhere.
        for name in SERVERS:
            mastodon.instances[name].budget = RateBudget(limit=1_000_000)
        bluesky.server.budget = RateBudget(limit=1_000_000)
        yield Servers(mastodon, bluesky)


def _archive(folder: Path, servers: Servers, url: str) -> Path:
    folder.mkdir()
    config = write_config(
        folder, url,
        f"[archive]\nsite_dir = '{folder / 'site'}'\nmedia_dir = '{folder / 'media'}'\n"
        f'[bluesky]\nservice = "{servers.bluesky.base_url}"\n'
        f'handle = "{servers.bluesky.handle}"\napp_password_env = "{PASSWORD_ENV}"\n'
        "[collect]\ntimeout = 10.0\n",
    )  # fmt: skip
    _run(config, "init")
    mastodon = [servers.mastodon.url(name) for name in SERVERS]
    _run(
        config, "event", "add", "ev", "--title", "Ev", "--hashtag", TAG, "--start",
        "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--bluesky",
        *[arg for url in mastodon for arg in ("--mastodon", url)],
    )  # fmt: skip
    return config


def _command(config: Path, *args: str) -> list[str]:
    return [str(SCRIPT), "--config", str(config), *args]


def _env(servers: Servers) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    env[PASSWORD_ENV] = servers.bluesky.app_password
    return env


_ENV: dict[str, str] = {}


def _database_of(config: Path) -> str:
    return load_config(config).database_url


def _holds_open(pid: int, url: str) -> bool:
    """Whether process ``pid`` holds the database at ``url`` open (its SQLite file, or a
    connection to PostgreSQL): a command does from the start of its work to its end,
    never during the interpreter's start-up."""
    try:
        targets = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # gone (or a descriptor closed while listed: look again)
        return False
    if url.startswith("sqlite"):
        return url.removeprefix("sqlite:///") in targets
    sockets = {t[len("socket:[") : -1] for t in targets if t.startswith("socket:[")}
    port = f"{make_url(url).port or 5432:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()  # local, remote (hex address:port), state ... inode
            if fields[2].endswith(f":{port}") and fields[3] == "01" and fields[9] in sockets:
                return True
    return False


def _until_in_work(child: subprocess.Popen[Any], database: str) -> float | None:
    """Wait until ``child`` holds its database open; when that was, or None if it ended
    first."""
    while not _holds_open(child.pid, database):
        if child.poll() is not None:
            return None
        time.sleep(0.005)
    return time.monotonic()


def _run(config: Path, *args: str) -> float:
    """Run a step to its end; how long it worked (from opening its database to its end)."""
    began = time.monotonic()
    child = subprocess.Popen(_command(config, *args), env=_ENV or None, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    opened = _until_in_work(child, _database_of(config)) or began
    output, _ = child.communicate(timeout=120)
    assert child.returncode == 0, f"{args}: {output}"
    return time.monotonic() - opened


def _kill_at(config: Path, args: tuple[str, ...], after: float) -> bool:
    """Start the step and SIGKILL it ``after`` seconds into its work (counted from when
    it opened its database: its start-up is over); True when the kill landed, False
    when the step had ended by then (a resumed step has less left to do)."""
    child = subprocess.Popen(
        _command(config, *args), env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        if _until_in_work(child, _database_of(config)) is None:
            return False
        time.sleep(after)
        if child.poll() is not None:
            return False
        os.kill(child.pid, signal.SIGKILL)
        return True
    finally:
        child.wait()


STEPS: tuple[tuple[str, ...], ...] = (
    ("collect", "ev", "--no-media"),
    ("media", "fetch", "ev"),
    ("recheck", "ev"),
    ("import", "ev", "CAPTURE", "--no-media"),
    ("story", "import", "STORY"),
    ("export", "ev"),
)


def _capture(path: Path) -> Path:
    """A twarc capture of the event's hashtag, for `import` (issue 35)."""
    people = [user_v1(str(300 + n), f"person{n}", f"Person {n}") for n in range(40)]
    tweets = [tweet_v1(str(700000000000000000 + i), f"Tweet {i} from the room #{TAG}",
                       people[i % 40], created=f"Thu Mar 12 {10 + i // 400:02d}:{i % 60:02d}:00 +0000 2026")
              for i in range(2000)]  # fmt: skip
    return write_lines(path, tweets)


def _change_the_sources(servers: Servers) -> None:
    """Deletions and edits at the sources, for recheck to find (once, for both)."""
    world = servers.mastodon.world
    keys = sorted(world.posts)
    for key in keys[5::40]:
        world.delete(key)
    for key in keys[7::40]:
        world.edit(key, body=f"edited {key} #{TAG}")
    bluesky = servers.bluesky.world
    uris = sorted(bluesky.posts)
    for uri in uris[3::30]:
        bluesky.delete(uri)


def _fingerprint(db_url: str) -> dict[str, Any]:
    """What the archive holds, without ids, clock times or raw JSON."""
    db = Database(db_url)
    try:
        with db.reading() as session:
            posts = session.scalars(
                select(Post).options(
                    selectinload(Post.sightings), selectinload(Post.media),
                    selectinload(Post.tags), selectinload(Post.links),
                    selectinload(Post.author),
                )
            ).all()  # fmt: skip
            authors = session.scalars(select(Author)).all()
            stories = session.scalars(select(Story).options(selectinload(Story.items))).all()
            return {
                "posts": sorted(
                    (
                        p.platform, p.uri, p.url, p.author.uri, p.text, p.html,
                        p.content_warning, p.cid, p.deleted_at is None, p.edited_at,
                        p.reply_count, p.repost_count, p.like_count,
                        tuple(sorted((s.server, s.native_id) for s in p.sightings)),
                        tuple(t.name for t in p.tags), tuple(link.url for link in p.links),
                        tuple((m.position, m.kind, m.remote_url, m.alt, m.fetch_state,
                               m.sha256, m.local_path) for m in p.media),
                    )
                    for p in posts
                ),
                "authors": sorted(
                    (a.platform, a.uri, a.handle, a.display_name, a.bio_text, a.avatar_url)
                    for a in authors
                ),
                "stories": sorted(
                    (s.slug, s.title, tuple((i.position, i.kind, i.level, i.text, i.post_ref,
                                             i.annotation) for i in s.items))
                    for s in stories
                ),
                "running": session.scalars(
                    select(CollectionRun.id).where(CollectionRun.status == "running")
                ).all(),
            }  # fmt: skip
    finally:
        db.dispose()


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# Pagefind's index files (named by their hash), the export's manifest and its kept
# index (row ids, the change count) depend on the order rows were inserted in, which
# concurrent sources make differ between any two runs, killed or not. They are
# compared by shape: the same files in each folder.
_BUILT_FROM_ROW_ORDER = ("pagefind/", ".backchannel-manifest.json", ".backchannel-index/")


def _unclocked(path: Path) -> bytes:
    data = path.read_bytes()
    return re.sub(rb"<updated>[^<]*</updated>", b"", data) if path.suffix == ".atom" else data


# The search index is split into groups by post id (export/search_records.py), and a
# PostgreSQL sequence is not rolled back by a kill: the trial's ids there have gaps the
# reference's have not, so its groups are named, filled and counted otherwise (a gap can
# add a group). Only that the event has them is compared; tests/test_search.py checks
# what they hold.
_ID_GROUP = re.compile(r"^pagefind/[^/]+/g\d+(/|$)")


def _shape(root: Path) -> dict[str, int]:
    """Files per folder, and every file outside Pagefind's by name; the search index's
    id groups of an event as present or not."""
    shape: dict[str, int] = {}
    for name in _files(root):
        if name.startswith(".backchannel-index/"):
            continue  # kept on SQLite only (the reference's database), not on PostgreSQL
        if _ID_GROUP.match(name):
            shape[name.split("/")[1] + " id groups"] = 1
            continue
        key = name.rsplit("/", 1)[0] if name.startswith("pagefind/") else name
        shape[key] = shape.get(key, 0) + 1
    return shape


def test_kill_9_at_random_moments_then_resume_equals_an_uninterrupted_run(
    servers: Servers, db_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("BACKCHANNEL_KILL_SEED", random.randrange(10**6)))
    print(f"BACKCHANNEL_KILL_SEED={seed}")
    chance = random.Random(seed)
    _ENV.update(_env(servers))
    # The trial on SQLite, and on PostgreSQL where the tests have one; the reference on
    # SQLite: the two must hold the same archive either way.
    reference = _archive(tmp_path / "reference", servers, f"sqlite:///{tmp_path / 'ref.db'}")
    trial = _archive(tmp_path / "trial", servers, db_url)
    story = tmp_path / "story.md"
    capture = _capture(tmp_path / "capture.jsonl")
    for n, template in enumerate(STEPS):
        names = {"STORY": str(story), "CAPTURE": str(capture)}
        step = tuple(names.get(arg, arg) for arg in template)
        if step[0] == "recheck":
            _change_the_sources(servers)
        if step[0] == "story":  # every post the archive holds, drafted once for both
            drafted = subprocess.run(
                _command(reference, "story", "draft", "ev", "--slug", "all"), env=_ENV,
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            story.write_text(drafted.stdout, encoding="utf-8")
        took = _run(reference, *step)
        # The first kill comes as soon as the step works (it cannot have ended yet); the
        # others at random moments of its reference duration.
        landed = [_kill_at(trial, step, 0.0)]
        landed += [_kill_at(trial, step, chance.uniform(0.05, 0.95) * took)
                   for _ in range(KILLS - 1)]  # fmt: skip
        assert landed[0], f"{step}: the first kill did not land in the step's work"
        resumed = _run(trial, *step)
        print(f"{' '.join(step)}: {took:.1f} s of work uninterrupted, {resumed:.1f} s resumed, "
              f"{sum(landed)} of {KILLS} kills in its work")  # fmt: skip
        if n == 0:  # nothing lost or doubled by the collection itself
            assert _fingerprint(db_url)["posts"]
    expected = _fingerprint(_database_of(reference))
    got = _fingerprint(db_url)
    assert got["running"] == [] and expected["running"] == []
    assert len(got["posts"]) == len(expected["posts"])
    assert got == expected
    for name in ("media", "site"):
        left, right = reference.parent / name, trial.parent / name
        assert _shape(right) == _shape(left), name
        same = [f for f in _files(left) if not f.startswith(_BUILT_FROM_ROW_ORDER)]
        differ, unreadable = filecmp.cmpfiles(left, right, same, shallow=False)[1:]
        assert unreadable == [], name
        # A story's feed says when the story was last imported: a clock time.
        differ = [f for f in differ if _unclocked(left / f) != _unclocked(right / f)]
        assert differ == [], name
