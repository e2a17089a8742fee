"""After a crash: dead runs closed, partial downloads removed, a closed pipe quiet (issue 20)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from backchannel.media.files import MediaStore
from backchannel.store import CollectionRun, Database, EventSource, close_dead_runs
from backchannel.store.runs import start_run
from tests.helpers import run_cli, write_config

EVENT = ["event", "add", "ev", "--title", "Ev", "--hashtag", "x", "--start", "2026-03-12",
         "--end", "2026-03-13", "--timezone", "UTC", "--mastodon", "https://a.example"]  # fmt: skip


def _setup(tmp_path: Path) -> tuple[Path, Database]:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli(*EVENT, config=config).exit_code == 0
    return config, Database(f"sqlite:///{tmp_path / 'a.db'}")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_whose_process_died_is_closed_as_interrupted(tmp_path: Path) -> None:
    _config, db = _setup(tmp_path)
    host = socket.gethostname()
    try:
        with db.writing() as session:
            source = session.scalars(select(EventSource)).one()
            dead = start_run(session, source)
            dead.owner = f"{host}:{_dead_pid()}"
            mine = start_run(session, source)  # this process: alive
            elsewhere = start_run(session, source)
            elsewhere.owner = "another-host:1"
            ids = dead.id, mine.id, elsewhere.id
        with db.writing() as session:
            assert close_dead_runs(session) == 1
        with db.reading() as session:
            states = [session.get(CollectionRun, i) for i in ids]
            assert [r.status for r in states] == ["interrupted", "running", "running"]
            assert states[0].finished_at is not None and "killed" in (states[0].error or "")
    finally:
        db.dispose()


def test_kill_9_during_collect_leaves_an_interrupted_run_after_the_next_start(
    tmp_path: Path,
) -> None:
    """A real `kill -9` of a collect that waits on a server that never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'a.db'}",
        "[collect]\ntimeout = 30.0\nretries = 1\n",
    )  # fmt: skip
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli(*[*EVENT[:-1], url], config=config).exit_code == 0
    script = Path(sys.executable).with_name("backchannel")
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    child = subprocess.Popen(
        [str(script), "--config", str(config), "collect", "ev", "--no-media"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        for _ in range(200):  # until the run row is committed
            with db.reading() as session:
                if session.scalar(select(CollectionRun.id)) is not None:
                    break
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        with db.reading() as session:
            assert session.scalars(select(CollectionRun.status)).all() == ["running"]
        listener.close()  # the next run fails fast (refused) rather than waiting
        again = run_cli("collect", "ev", "--no-media", config=config)
        assert again.exit_code == 1  # the source is down; the point is the old run
        with db.reading() as session:
            runs = session.scalars(select(CollectionRun).order_by(CollectionRun.id)).all()
            assert [r.status for r in runs] == ["interrupted", "failed"]
    finally:
        db.dispose()
        listener.close()


def test_stale_partial_downloads_are_removed(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    handle, stale = store.open_temp()
    handle.close()
    handle, fresh = store.open_temp()
    handle.close()
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    assert store.clear_stale() == 1
    assert not stale.exists() and fresh.exists()


def test_a_partial_download_of_a_killed_process_is_removed_at_once(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    handle, mine = store.open_temp()
    handle.close()
    dead = mine.with_name(mine.name.replace(f":{os.getpid()}-", f":{_dead_pid()}-"))
    elsewhere = mine.with_name(mine.name.replace(socket.gethostname(), "another-host"))
    for path in (dead, elsewhere):
        path.write_bytes(b"part")
    assert store.clear_stale() == 1
    assert not dead.exists() and mine.exists() and elsewhere.exists()


def test_a_closed_pipe_ends_a_command_quietly(tmp_path: Path) -> None:
    config, db = _setup(tmp_path)
    db.dispose()
    for n in range(40):  # 40 rows of 4,000 characters outlast the pipe's 64 KiB buffer
        args = [*EVENT[:2], f"ev{n}", *EVENT[3:]]
        args[args.index("--title") + 1] = "A long title " * 300
        assert run_cli(*args, config=config).exit_code == 0
    script = Path(sys.executable).with_name("backchannel")
    reader = subprocess.run(
        f"'{script}' --config '{config}' status | head -n 1",
        shell=True, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"},
    )  # fmt: skip
    assert reader.stdout.startswith("scheduler: ")
    assert "Error" not in reader.stderr and "BrokenPipe" not in reader.stderr, reader.stderr
