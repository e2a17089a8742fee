"""``backchannel doctor`` on a healthy set-up and on a broken one (issue 18).

The sources are the sandbox's loopback Mastodon and Bluesky servers, asked through
the real clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backchannel.collect import run_checks
from backchannel.sandbox import conference
from tests.helpers import run_cli
from tests.sandbox_env import SandboxEnv, sandbox_env

SLUG = conference.SLUG


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SandboxEnv]:
    with sandbox_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'a.db'}") as running:
        # A real contact, as `init` writes it (the demo's names backchannel.example).
        text = running.config_path.read_text(encoding="utf-8")
        running.config_path.write_text(
            text.replace("https://backchannel.example/demo", "https://swrs.example/about"),
            encoding="utf-8",
        )
        yield running


def _lines(output: str) -> dict[str, str]:
    """Each check's line by its subject."""
    found = {}
    for line in output.splitlines():
        if line.startswith(("ok    ", "FAIL  ")):
            subject, _, _text = line[6:].partition(": ")
            found[subject] = line
    return found


def test_a_healthy_set_up_passes_every_line(env: SandboxEnv) -> None:
    result = run_cli("doctor", SLUG, config=env.config_path)
    assert result.exit_code == 0, result.output
    lines = _lines(result.output)
    assert all(line.startswith("ok    ") for line in lines.values()), result.output
    subjects = set(lines)
    assert {"config", "database", "contact", "search", "site folder", "disk"} <= subjects
    probed = [s for s in subjects if s.startswith(f"{SLUG} ")]
    assert len(probed) == len(env.sandbox.mastodon_urls) + 1  # and Bluesky
    host = env.sandbox.mastodon_urls[0].removeprefix("http://")
    assert lines[f"{SLUG} mastodon {host}"].endswith(f"#{conference.HASHTAGS[0]} readable")
    assert "runs mastodon 4.3.0; Mastodon " in lines[f"{SLUG} mastodon {host}"]  # NodeInfo
    bluesky = env.sandbox.bluesky_url.removeprefix("http://")
    assert f"logged in as {env.sandbox.bluesky.handle}" in lines[f"{SLUG} bluesky {bluesky}"]
    assert result.output.rstrip().endswith(f"all {len(lines)} checks passed")


def test_a_broken_set_up_says_what_to_do_line_by_line(
    env: SandboxEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    locked, down = env.sandbox.mastodon_urls[0], env.sandbox.mastodon_urls[1]
    env.sandbox.mastodon.server_for(locked).hashtag_feeds = "authenticated"
    env.sandbox.mastodon.server_for(down).stop()
    monkeypatch.delenv("BACKCHANNEL_DEMO_BLUESKY_PASSWORD", raising=False)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    text = env.config_path.read_text(encoding="utf-8")
    text = text.replace("https://swrs.example/about", "https://backchannel.example/about")
    text = text.replace(f"site_dir = {str(env.config.site_dir)!r}", f"site_dir = '{blocker}/site'")
    env.config_path.write_text(text, encoding="utf-8")

    checks = list(run_checks(str(env.config_path), SLUG, min_free=1 << 60))
    failed = {c.subject: c.text for c in checks if not c.ok}
    locked_host, down_host = locked.removeprefix("http://"), down.removeprefix("http://")
    bluesky_host = env.sandbox.bluesky_url.removeprefix("http://")
    assert failed.pop("contact") == (
        "collect.user_agent still names backchannel.example: set it to include your contact "
        "(a web page or mailto:)"
    )
    assert failed.pop(f"{SLUG} mastodon {locked_host}") == (
        "runs mastodon 4.3.0; hashtag feeds need an access token (HTTP 422); set mastodon.<name>.access_token_env"
    )
    assert failed.pop(f"{SLUG} mastodon {down_host}") == (
        "the connection was refused (is the URL right?)"
    )
    assert failed.pop(f"{SLUG} bluesky {bluesky_host}") == (
        f"{env.config_path}: bluesky.app_password_env: environment variable "
        "BACKCHANNEL_DEMO_BLUESKY_PASSWORD is not set (it holds the secret)"
    )
    assert failed.pop("site folder") == f"{blocker} is not a folder"
    assert failed.pop("disk").startswith("only ")
    assert failed == {}
    # The command: one line each, and a non-zero exit.
    result = run_cli("doctor", SLUG, config=env.config_path)
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("checks failed")


def test_a_database_not_yet_created_and_a_broken_config(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    (database,) = [c for c in run_checks(str(config)) if c.subject == "database"]
    assert not database.ok
    assert database.text.endswith("is not initialised: run `backchannel init`")
    assert not (tmp_path / "a.db").exists()
    config.write_text("[collect\n", encoding="utf-8")
    (only,) = list(run_checks(str(config)))
    assert not only.ok and only.subject == "config" and "not valid TOML" in only.text


def test_no_events_is_a_failing_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    assert run_cli("init", config=config).exit_code == 0
    (events,) = [c for c in run_checks(str(config)) if c.subject == "events"]
    assert not events.ok and events.text.startswith("no events yet")


def test_a_server_whose_api_is_not_what_its_nodeinfo_says_is_named_by_doctor(
    env: SandboxEnv,
) -> None:
    """A Mastodon server that says it runs Sharkey is read through Misskey's API, which
    it has not: one line says so."""
    url = env.sandbox.mastodon_urls[0]
    env.sandbox.mastodon.server_for(url).software = ("sharkey", "2024.9.1")
    result = run_cli("doctor", SLUG, config=env.config_path)
    assert result.exit_code == 1
    line = _lines(result.output)[f"{SLUG} mastodon {url.removeprefix('http://')}"]
    assert (
        "/api/meta answered HTTP 404 (no Misskey API here, although its NodeInfo names a Misskey)"
        in line
    )
