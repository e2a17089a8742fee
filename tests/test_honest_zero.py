"""An honest zero (issue 33): a web server that is not a Mastodon server fails its
source with doctor's line in ``collect`` and ``status``, never "ok" with 0 posts; a
Mastodon server where nobody used the tag is still an ok zero."""

from __future__ import annotations

from pathlib import Path

from backchannel.sandbox.httpbase import Response, SandboxServer
from tests.helpers import run_cli, write_config


class _Homepage(SandboxServer):
    """A web server with a home page and nothing else (every API path: 404)."""

    def routes(self) -> None:
        self.route("GET", "/", lambda request: Response(200, b"<h1>Hello</h1>",
                                                        content_type="text/html"))  # fmt: skip


def test_a_web_server_that_is_not_mastodon_fails_its_source_in_collect_and_status(
    tmp_path: Path,
) -> None:
    with _Homepage() as site:
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
                       "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
                       "--mastodon", site.base_url, config=config).exit_code == 0  # fmt: skip
        done = run_cli("collect", "ev", "--no-media", config=config)
        host = site.base_url.removeprefix("http://")
    line = f"{host}: not a Mastodon server (HTTP 404 for /api/v1/instance)"
    assert done.exit_code == 1
    assert line in done.output
    assert "failed" in done.output and "0 posts: is" not in done.output
    status = run_cli("status", "ev", config=config).output
    assert "not a Mastodon server (HTTP 404 for /api/v1/instance)" in status


def test_add_source_asks_the_server_first_and_keeps_one_that_does_not_answer_only_if_told(
    tmp_path: Path,
) -> None:
    with _Homepage() as site:
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
                       "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
                       config=config).exit_code == 0  # fmt: skip
        refused = run_cli("event", "add-source", "ev", "--mastodon", site.base_url,
                          config=config)  # fmt: skip
        kept = run_cli("event", "add-source", "ev", "--mastodon", site.base_url, "--no-check",
                       config=config)  # fmt: skip
        base_url = site.base_url
    assert refused.exit_code == 1
    assert (f"{base_url}: not a Mastodon server (HTTP 404 for /api/v1/instance) (check the "
            "address; --no-check keeps it anyway)") in refused.output  # fmt: skip
    assert kept.exit_code == 0 and f"added mastodon {base_url}" in kept.output
