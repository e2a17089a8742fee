"""A slow or an endless server is cut off at the deadline and the cap (issue 20).

Loopback servers that speak just enough HTTP: one sends its body a byte at a time, one
its headers (never ending them), one never stops sending. Collection through the real Mastodon.py and atproto
clients fails that source with one line, in bounded time and memory.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backchannel.collectors import Bounds, RetryPolicy
from backchannel.collectors.bluesky.collector import BlueskyCollector
from backchannel.errors import SourceError
from backchannel.media import MediaStore
from backchannel.media.download import Downloader, Limits, Unavailable
from tests.helpers import run_cli, write_config

HEADERS = {
    "slow": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Content-Length: 10000000\r\n\r\n",
    "endless": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
    "slow-headers": b"HTTP/1.1 200 OK\r\nX-Padding: ",
}


class HostileServer:
    """Answers every request with ``mode``'s headers, then a trickle or a flood."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            try:
                client.recv(65536)  # the request; its details do not matter
                client.sendall(HEADERS[self.mode] + (b"" if "headers" in self.mode else b"["))
                flood = b'{"id": "1", "padding": "' + b"x" * 65000 + b'"},'
                while not self.stopped.is_set():
                    if self.mode == "slow-headers":
                        client.sendall(b"x")  # the headers never end
                        time.sleep(0.05)
                    elif self.mode == "slow":
                        client.sendall(b" ")
                        time.sleep(0.05)
                    else:
                        client.sendall(flood)
            except OSError:
                return  # the client hung up: what it is meant to do

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture(params=["slow", "endless", "slow-headers"])
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    server = HostileServer(request.param)
    yield server
    server.close()


EXPECTED = {
    "slow": "no complete answer within 2 s (the server is too slow)",
    "endless": "the answer was larger than 1 MB",
    "slow-headers": "no complete answer within 2 s (the server is too slow)",
}


def test_collect_from_a_slow_or_endless_mastodon_server_ends(
    tmp_path: Path, hostile: HostileServer
) -> None:
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'a.db'}",
        "[collect]\nrequest_deadline = 2.0\nmax_response_bytes = 1000000\nretries = 1\n"
        "timeout = 10.0\n",
    )  # fmt: skip
    assert run_cli("init", config=config).exit_code == 0
    added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "x", "--start",
                    "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
                    f"http://{hostile.address}", config=config)  # fmt: skip
    assert added.exit_code == 0
    script = Path(sys.executable).with_name("backchannel")
    # A wrapper reports the peak memory of the collect process alone.
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(done.returncode); print(done.stdout); print(done.stderr, file=sys.stderr)\n"
        "print('peak', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-c", wrapper, str(script), "--config", str(config), "collect", "ev",
         "--no-media"],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines[0] == "1", done.stdout + done.stderr
    assert f"{hostile.address}: {EXPECTED[hostile.mode]}" in done.stdout
    peak_kib = int(lines[-1].split()[1])
    assert peak_kib < 300 * 1024, f"peak memory {peak_kib} KiB"


def test_bluesky_from_a_slow_or_endless_server_ends(hostile: HostileServer) -> None:
    collector = BlueskyCollector(
        f"http://{hostile.address}", "archivist.example", "not-a-password",
        policy=RetryPolicy(attempts=1), bounds=Bounds(deadline=2.0, max_bytes=1_000_000),
        timeout=10.0,
    )  # fmt: skip
    try:
        with pytest.raises(SourceError) as caught:
            collector.probe("x")
    finally:
        collector.close()
    assert str(caught.value) == f"{hostile.address}: {EXPECTED[hostile.mode]}"


def test_a_media_download_whose_headers_never_end_stops_at_its_deadline(tmp_path: Path) -> None:
    server = HostileServer("slow-headers")
    downloader = Downloader(
        MediaStore(tmp_path / "media"), Limits(deadline=2.0, timeout=10.0, retries=1),
        "backchannel-test", policy=RetryPolicy(attempts=1),
    )  # fmt: skip
    began = time.monotonic()
    try:
        with pytest.raises(Unavailable) as caught:
            downloader.fetch(f"http://{server.address}/a.png")
    finally:
        downloader.close()
        server.close()
    assert str(caught.value) == "no complete file within 2 s (too slow)"
    assert time.monotonic() - began < 5
    assert list((tmp_path / "media" / ".tmp").glob("*")) == []


def _mastodon_event(tmp_path: Path, hostile: HostileServer, collect: str) -> Path:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}", f"[collect]\n{collect}")
    assert run_cli("init", config=config).exit_code == 0
    added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "x", "--start",
                    "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
                    f"http://{hostile.address}", config=config)  # fmt: skip
    assert added.exit_code == 0
    return config


def test_a_request_that_runs_out_its_deadline_is_tried_once_more_not_five_times(
    tmp_path: Path,
) -> None:
    server = HostileServer("slow")  # drips a byte every 50 ms, for ever
    try:
        config = _mastodon_event(tmp_path, server, "request_deadline = 1.0\n")  # 5 retries
        began = time.monotonic()
        done = run_cli("collect", "ev", "--no-media", config=config)
        took = time.monotonic() - began
    finally:
        server.close()
    assert done.exit_code == 1
    assert "no complete answer within 1 s (the server is too slow), 2 times in a row" in (
        done.output)  # fmt: skip
    assert took < 8, took  # two deadlines and one short backoff, not five of each


@pytest.mark.parametrize("how", ["source_budget", "--budget"])
def test_a_source_that_runs_out_its_budget_is_paused_and_the_run_ends(
    tmp_path: Path, how: str
) -> None:
    server = HostileServer("slow")
    try:
        setting = "source_budget = 2.0\n" if how == "source_budget" else ""
        config = _mastodon_event(tmp_path, server, "request_deadline = 60.0\n" + setting)
        began = time.monotonic()
        extra = ["--budget", "2"] if how == "--budget" else []
        done = run_cli("collect", "ev", "--no-media", *extra, config=config)
        took = time.monotonic() - began
    finally:
        server.close()
    assert done.exit_code == 0, done.output  # paused is not failed: it goes on next run
    assert re.search(r"\bpaused\b", done.output) and "paused after 2 s" in done.output
    assert "the next collection goes on from there" in done.output
    assert took < 8, took  # the request's 60 s deadline ended at the budget


def test_with_the_defaults_a_dripping_server_is_let_go_within_its_source_budget() -> None:
    from backchannel.collectors.mastodon.client import DEADLINE_TRIES
    from backchannel.config import CollectConfig

    defaults, policy = CollectConfig(), RetryPolicy()
    worst = defaults.request_deadline * DEADLINE_TRIES + policy.backoff_base
    assert worst < defaults.source_budget
