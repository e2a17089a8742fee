"""Small things an organiser meets on the second day (issue 33): ``status`` shows an
error only while it is the latest result; coverage suggests only public fediverse
servers; a window of years needs ``--yes``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backchannel.collect.coverage import _suggestible
from backchannel.sandbox.httpbase import Fault, RateBudget
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from tests.helpers import run_cli, write_config

START = datetime(2026, 3, 12, 9, tzinfo=UTC)


def test_status_shows_an_error_only_while_it_is_the_latest_result(tmp_path: Path) -> None:
    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example")
    for n in range(5):
        world.add_post(ana, f"post {n} #swrs26", created_at=START + timedelta(minutes=n))
    with MastodonSandbox(world) as sandbox:
        server = sandbox.instances["kea.example"]
        server.budget = RateBudget(limit=10**6)
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}",
                              "[collect]\nretries = 1\nbackoff_cap = 0.1\n")  # fmt: skip
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start",
                       "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC", "--mastodon",
                       server.base_url, config=config).exit_code == 0  # fmt: skip
        server.faults.add(Fault("status", status=500, path="/api/v1/timelines/", times=10))
        assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 1
        failed = run_cli("status", "ev", config=config).output
        server.faults.clear()
        assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 0
        later = run_cli("status", "ev", config=config).output
    assert "last error of" in failed and "HTTP 500" in failed
    assert "last error of" not in later and "ok: 5 new" in later


@pytest.mark.parametrize(
    ("origin", "local_ok", "suggested"),
    [("https://scholar.social", False, True), ("https://bsky.brid.gy", False, False),
     ("https://web.brid.gy", False, False), ("https://mostr.pub", False, False),
     ("http://localhost:3000", False, False), ("http://127.0.0.1:8080", False, False),
     ("http://10.0.0.7", False, False), ("http://127.0.0.1:8080", True, True),
     ("https://bsky.brid.gy", True, False)],
)  # fmt: skip
def test_coverage_suggests_only_public_fediverse_servers(
    origin: str, local_ok: bool, suggested: bool
) -> None:
    assert _suggestible(origin, local_ok) is suggested


def test_a_window_of_years_needs_yes(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    assert run_cli("init", config=config).exit_code == 0
    args = ["event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start",
            "2023-03-12", "--end", "2026-03-13", "--timezone", "UTC"]  # fmt: skip
    refused = run_cli(*args, config=config)
    assert refused.exit_code == 1
    assert "ev's window is 1,098 days long (2023-03-12 to 2026-03-13)" in refused.output
    assert "add --yes if that is right" in refused.output
    assert "ev" not in run_cli("event", "list", config=config).output.split()
    assert run_cli(*args, "--yes", config=config).exit_code == 0
