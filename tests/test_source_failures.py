"""A failing source reads as one short line a person can act on (issue 18).

Each failure is real: the real client libraries (Mastodon.py, atproto) over real
sockets on loopback, against a name that does not resolve, a closed port, a plain-HTTP
server spoken to in TLS, a server that never answers, and the sandbox's 401 and 429.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backchannel.sandbox.httpbase import Fault
from backchannel.sandbox.mastodon_demo import build_demo_world
from backchannel.sandbox.mastodon_server import MastodonSandbox
from tests.helpers import run_cli, write_config

COLUMNS = 100
QUICK = """
[collect]
user_agent = "backchannel-test (+https://archive.test/contact)"
timeout = 1.0
retries = 1
backoff_cap = 0.1
max_rate_limit_sleep = 0.1
[bluesky]
service = "https://bsky.example.invalid"
handle = "archivist.example"
app_password_env = "BACKCHANNEL_TEST_BLUESKY_PASSWORD"
"""


class _Plain(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_http() -> Iterator[str]:
    """A plain-HTTP server, for a client that speaks TLS to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Plain)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def closed_port() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"127.0.0.1:{port}"


@pytest.fixture
def mastodon() -> Iterator[MastodonSandbox]:
    world = build_demo_world()
    with MastodonSandbox(world) as sandbox:
        yield sandbox


def _collect(tmp_path: Path, *sources: str, bluesky: bool = False, wide: bool = False) -> str:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}", QUICK)
    assert run_cli("init", config=config).exit_code == 0
    args = ["event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
            "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC"]  # fmt: skip
    for source in sources:
        args += ["--mastodon", source]
    if bluesky:
        args.append("--bluesky")
    assert run_cli(*args, config=config).exit_code == 0
    result = run_cli("collect", "ev", "--no-media", *(["--wide"] if wide else []), config=config)
    assert result.exit_code == 1
    return result.output


def _failure_lines(output: str) -> list[str]:
    """The lines under the table that say why each source failed."""
    return [line for line in output.split("\n\n")[1].splitlines() if line]


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    monkeypatch.setenv("BACKCHANNEL_TEST_BLUESKY_PASSWORD", "not-a-real-password")


def test_each_network_failure_is_one_short_line(
    tmp_path: Path, plain_http: str, silent: str, closed_port: str
) -> None:
    output = _collect(
        tmp_path,
        "https://mastodon.example.invalid",
        f"http://{closed_port}",
        f"https://{plain_http}",
        f"http://{silent}",
        bluesky=True,
    )
    assert sorted(_failure_lines(output)) == sorted(
        [
            "mastodon.example.invalid: cannot resolve the host name (no network?)",
            f"{closed_port}: the connection was refused (is the URL right?)",
            f"{plain_http}: the TLS connection failed (certificate or protocol)",
            f"{silent}: timed out (the server is slow or unreachable)",
            "bsky.example.invalid: cannot resolve the host name (no network?)",
        ]
    )
    rows = [line for line in output.splitlines() if line.startswith("ev ")]
    assert len(rows) == 5 and all(" failed " in row for row in rows)
    assert all(len(line) <= COLUMNS for line in output.splitlines()), output
    assert "HTTPSConnectionPool" not in output and "Max retries" not in output


def test_wide_adds_the_libraries_own_words(tmp_path: Path, closed_port: str) -> None:
    output = _collect(tmp_path, f"http://{closed_port}", wide=True)
    lines = _failure_lines(output)
    assert lines[0] == f"{closed_port}: the connection was refused (is the URL right?)"
    assert lines[1].startswith(f"  http://{closed_port}: ")
    assert "1 tries in a row" in lines[1] and "Connection refused" in lines[1]


def test_auth_and_rate_limit_name_what_to_do(tmp_path: Path, mastodon: MastodonSandbox) -> None:
    locked, limited = mastodon.instances["kea.example"], mastodon.instances["tui.example"]
    locked.hashtag_feeds = "authenticated"
    limited.faults.add(Fault("ratelimit", path="/api/v1/timelines/tag/", times=100))
    output = _collect(tmp_path, locked.base_url, limited.base_url)
    locked_host = locked.base_url.removeprefix("http://")
    limited_host = limited.base_url.removeprefix("http://")
    assert sorted(_failure_lines(output)) == sorted(
        [
            f"{locked_host}: hashtag feeds need an access token (HTTP 422); "
            "set mastodon.<name>.access_token_env",
            f"{limited_host}: rate limited (HTTP 429) 2 times in a row; try again later",
        ]
    )
    assert all(len(line) <= COLUMNS for line in output.splitlines()), output


def test_the_placeholder_user_agent_reaches_no_real_server(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")  # the default agent
    assert run_cli("init", config=config).exit_code == 0
    args = ["event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--mastodon",
            "https://mastodon.example.invalid", "--start", "2026-03-12", "--end", "2026-03-13",
            "--timezone", "UTC"]  # fmt: skip
    assert run_cli(*args, config=config).exit_code == 0
    output = run_cli("collect", "ev", "--no-media", config=config).output
    assert _failure_lines(output) == [
        f"mastodon.example.invalid: {config}: collect.user_agent: still names "
        "backchannel.example, not you: servers want a contact, "
        'e.g. user_agent = "backchannel (+https://your.site/about)"'
    ]


def test_a_page_that_is_not_json_names_its_host_once(
    tmp_path: Path, mastodon: MastodonSandbox
) -> None:
    broken = mastodon.instances["kea.example"]
    broken.faults.add(Fault("malformed", path="/api/v1/timelines/tag/", times=100))
    output = _collect(tmp_path, broken.base_url)
    host = broken.base_url.removeprefix("http://")
    (line,) = _failure_lines(output)
    assert line.startswith(f"{host}: a timeline page that is not JSON")
    assert line.count(host) == 1, line


def test_the_reasons_posts_were_skipped_are_said_whole_when_the_table_cuts_them() -> None:
    from backchannel.cli.collecting import results_table
    from backchannel.collect.service import SourceResult

    result = SourceResult("swrs26", "mastodon", "https://" + "very-long-host-name." * 4 + "ex")
    result.skipped.update({"unreadable": 1, "not public": 12, "opted out": 3})
    table = results_table([result], max_width=80)
    assert "not pub\u2026" in table.splitlines()[2]  # cut in its column to fit ...
    assert table.splitlines()[-1] == (  # ... and said whole under the table
        "very-long-host-name.very-long-host-name.very-long-host-name.very-long-host-name.ex "
        "skipped not public 12, opted out 3, unreadable 1"
    )
