"""Clean terminal output (issue 33): a log line never lands inside the progress line of
``collect`` on a terminal, and Ctrl-C says what was kept."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from tests.helpers import run_cli, write_config
from tests.test_kill_resume import SCRIPT

START = datetime(2026, 3, 12, 9, tzinfo=UTC)


def _world() -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example")
    for n in range(400):
        world.add_post(ana, f"post {n} #swrs26", created_at=START + timedelta(seconds=60 * n))
    return world


def _on_a_terminal(args: list[str], stop_after: float | None = None) -> str:
    """Run ``backchannel ARGS`` with stderr on a pseudo-terminal; what the terminal got.
    ``stop_after``: send Ctrl-C (SIGINT) after that many seconds."""
    leader, follower = pty.openpty()
    child = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.DEVNULL, stderr=follower,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    os.close(follower)
    seen, started, stopped = b"", time.monotonic(), False
    while True:
        if stop_after is not None and not stopped and time.monotonic() - started > stop_after:
            child.send_signal(signal.SIGINT)
            stopped = True
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                chunk = b""
            if not chunk and child.poll() is not None:
                break
            seen += chunk
        elif child.poll() is not None:
            break
    os.close(leader)
    child.wait(30)
    return seen.decode("utf-8", "replace")


def _visible_lines(output: str) -> list[str]:
    """Each line as it stays on screen: what follows its last carriage return (the
    terminal writes a newline as CR LF)."""
    lines = output.replace("\r\n", "\n").split("\n")
    return [re.sub(r"\x1b\[K", "", line.split("\r")[-1]) for line in lines]


def _event(tmp_path: Path, base_url: str) -> Path:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start",
                   "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
                   base_url, config=config).exit_code == 0  # fmt: skip
    return config


def test_a_warning_during_collect_lands_above_the_progress_line(tmp_path: Path) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        server.use("mitra")  # found out on its second page: a warning mid-collection
        server.software = None
        config = _event(tmp_path, server.base_url)
        output = _on_a_terminal(["--config", str(config), "collect", "ev", "--no-media"])
    lines = _visible_lines(output)
    warnings = [line for line in lines if "WARNING" in line]
    assert warnings, output
    assert all(line.startswith("WARNING") for line in warnings), warnings
    assert any(line.startswith("collecting... 400 new or updated posts") for line in lines), lines


def test_ctrl_c_during_collect_says_what_was_kept(tmp_path: Path) -> None:
    with MastodonSandbox(_world()) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        server.faults.latency = 0.2  # slow enough to be stopped half-way
        config = _event(tmp_path, server.base_url)
        output = _on_a_terminal(["--config", str(config), "collect", "ev", "--no-media"],
                                stop_after=2.5)  # fmt: skip
    lines = _visible_lines(output)
    assert (
        "stopped: every page collected so far is kept; the next `collect` goes on from there"
        in lines
    )
    assert "Aborted!" not in output
