"""A database you can copy (issue 33): every command leaves the SQLite file whole
(its write-ahead log checkpointed when the command ends), and ``db backup`` copies a
live database consistently, even while a collection writes to it."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.store import CollectionRun, Database, Event, Post, Story
from tests.helpers import run_cli, run_cli_process, write_config
from tests.test_kill_resume import SCRIPT

START = datetime(2026, 3, 12, 9, tzinfo=UTC)
STORY = "---\ntitle: Day one\nslug: day-one\nevent: ev\n---\n\nThe opening.\n"


def _counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.reading() as session:
            return {name: session.scalar(select(func.count()).select_from(model)) or 0
                    for name, model in (("events", Event), ("stories", Story),
                                        ("posts", Post), ("runs", CollectionRun))}  # fmt: skip
    finally:
        db.engine.dispose()  # not dispose(): that would checkpoint the copy itself


def _world(posts: int) -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example")
    for n in range(posts):
        world.add_post(ana, f"post {n} #swrs26", created_at=START + timedelta(seconds=30 * n))
    return world


def test_the_database_file_copied_alone_after_any_command_holds_what_it_wrote(
    tmp_path: Path,
) -> None:
    with MastodonSandbox(_world(120)) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        live = tmp_path / "live"
        live.mkdir()
        write_config(live, "sqlite:///backchannel.db")
        (live / "story.md").write_text(STORY, encoding="utf-8")
        steps = [
            ["init"],
            ["event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start",
             "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
             server.base_url],
            ["collect", "ev", "--no-media"],
            ["story", "import", "story.md"],
        ]  # fmt: skip
        for n, step in enumerate(steps):
            done = run_cli_process("--config", "config.toml", *step, cwd=live)
            assert done.returncode == 0, done.stderr
            copy = tmp_path / f"copy{n}"
            copy.mkdir()
            shutil.copy(live / "backchannel.db", copy / "backchannel.db")  # the file alone
            assert not (copy / "backchannel.db-wal").exists()
            expected = _counts(f"sqlite:///{live / 'backchannel.db'}")
            assert _counts(f"sqlite:///{copy / 'backchannel.db'}") == expected, step
    assert expected["posts"] == 120 and expected["stories"] == 1


def test_a_backup_taken_during_a_collection_restores_and_opens(tmp_path: Path) -> None:
    with MastodonSandbox(_world(1500)) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        server.faults.latency = 0.03  # a collection of some seconds
        url = f"sqlite:///{tmp_path / 'a.db'}"
        config = write_config(tmp_path, url)
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start",
                       "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
                       server.base_url, config=config).exit_code == 0  # fmt: skip
        collecting = subprocess.Popen(
            [str(SCRIPT), "--config", str(config), "collect", "ev", "--no-media"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            while _counts(url)["posts"] < 200:  # well into its pages
                assert collecting.poll() is None, "the collection ended before the backup"
                time.sleep(0.05)
            backup = tmp_path / "backups" / "ev.db"
            made = run_cli("db", "backup", str(backup), config=config)
            assert collecting.poll() is None, "the collection ended before the backup"
        finally:
            assert collecting.wait(120) == 0
    assert made.exit_code == 0, made.output
    assert f"to {backup}" in made.output
    taken = _counts(f"sqlite:///{backup}")
    assert 200 <= taken["posts"] < 1500  # a moment of the collection, whole

    # Restored where a fresh config points: it opens, checks out and reads.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "backchannel.db")
    again = write_config(restored, f"sqlite:///{restored / 'backchannel.db'}")
    assert run_cli("db", "check", config=again).exit_code == 0
    shown = run_cli("event", "show", "ev", config=again)
    assert shown.exit_code == 0 and "posts" in shown.output
    refused = run_cli("db", "backup", str(backup), config=config)  # never over a backup
    assert refused.exit_code == 1 and "exists already" in refused.output


def test_backup_refuses_postgresql_with_what_to_use_instead(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://someone@db.example/archive")
    done = run_cli("db", "backup", str(tmp_path / "x.db"), config=config)
    assert done.exit_code == 1
    assert "is PostgreSQL: back it up with pg_dump" in done.output
