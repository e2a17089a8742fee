"""The event commands, and bad input: one line, non-zero exit, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli, run_cli_process, snapshot, write_config

EXAMPLE_ADD = [
    "event", "add", "swrb13", "--title", "SWRB conference 2013", "--hashtag", "swrb13",
    "--start", "2013-11-14", "--end", "2013-11-15", "--timezone", "Pacific/Auckland",
    "--mastodon", "https://mastodon.social", "--mastodon", "https://scholar.social", "--bluesky",
]  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    path = write_config(tmp_path, db_url)
    result = run_cli("init", config=path)
    assert result.exit_code == 0, result.output
    return path


def test_readme_example_in_an_empty_folder(tmp_path: Path) -> None:
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    assert run_cli_process("init", cwd=tmp_path).returncode == 0
    added = run_cli_process(*EXAMPLE_ADD, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    shown = run_cli_process("event", "show", "swrb13", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    # The window in the event's own time zone (NZDT is UTC+13) and in UTC.
    assert "2013-11-14 00:00 NZDT -> 2013-11-16 00:00 NZDT" in shown.stdout
    assert "2013-11-13 11:00 UTC -> 2013-11-15 11:00 UTC" in shown.stdout
    for source in ("https://mastodon.social", "https://scholar.social", "https://bsky.social"):
        assert source in shown.stdout


def test_event_list_is_a_table(config: Path) -> None:
    assert run_cli(*EXAMPLE_ADD, config=config).exit_code == 0
    listed = run_cli("event", "list", config=config)
    header, rule, row = listed.output.splitlines()
    assert header.split() == ["slug", "title", "starts", "hashtags", "sources", "posts"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert row.startswith("swrb13") and "#swrb13" in row and row.split()[-2:] == ["3", "0"]


def test_hashtags_are_normalised(config: Path) -> None:
    args = ["event", "add", "x", "--title", "X", "--hashtag", "#SWRB13", "--hashtag", "Cafe\u0301",
            "--start", "2013-11-14", "--end", "2013-11-15", "--timezone", "UTC"]  # fmt: skip
    assert run_cli(*args, config=config).exit_code == 0
    shown = run_cli("event", "show", "x", config=config).output
    assert "#swrb13 #caf\u00e9" in shown  # no '#', lower case, NFC (one code point)


def test_add_source_and_remove(config: Path) -> None:
    assert run_cli(*EXAMPLE_ADD, config=config).exit_code == 0
    added = run_cli("event", "add-source", "swrb13", "--mastodon", "https://aus.social/",
                    "--no-check", config=config)  # fmt: skip
    assert added.exit_code == 0 and "https://aus.social" in added.output
    again = run_cli("event", "add-source", "swrb13", "--mastodon", "https://aus.social",
                    "--no-check", config=config)  # fmt: skip
    assert again.exit_code == 1 and "already reads" in again.output
    assert run_cli("event", "remove", "swrb13", "--yes", config=config).exit_code == 0
    assert "no events yet" in run_cli("event", "list", config=config).output


BAD_INPUTS = {
    "end before start": (["--end", "2013-11-13"], "before it starts"),
    "unknown timezone": (["--timezone", "Mars/Olympus_Mons"], "unknown time zone"),
    "hashtag with spaces": (["--hashtag", "swrb 13"], "not a hashtag"),
    "malformed URL": (["--mastodon", "mastodon.social"], "not a server URL"),
    "malformed URL with path": (["--mastodon", "https://a.example/@me"], "not a server URL"),
    "bad date": (["--start", "14/11/2013"], "not a date or time"),
}


@pytest.mark.parametrize("case", [k for k in BAD_INPUTS])
def test_bad_input_is_one_line_and_writes_nothing(config: Path, db_url: str, case: str) -> None:
    override, expected = BAD_INPUTS[case]
    args = list(EXAMPLE_ADD)
    for i in range(0, len(override), 2):
        position = args.index(override[i]) + 1
        args[position] = override[i + 1]
    before = snapshot(db_url)
    result = run_cli(*args, config=config)
    assert result.exit_code != 0
    assert result.output.count("\n") == 1, result.output  # one line
    assert expected in result.output
    assert "Traceback" not in result.output
    assert snapshot(db_url) == before


def test_duplicate_slug_is_refused_and_writes_nothing(config: Path, db_url: str) -> None:
    assert run_cli(*EXAMPLE_ADD, config=config).exit_code == 0
    before = snapshot(db_url)
    result = run_cli(*EXAMPLE_ADD, config=config)
    assert result.exit_code != 0 and "already exists" in result.output
    assert result.output.count("\n") == 1
    assert snapshot(db_url) == before


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    assert run_cli_process("init", cwd=tmp_path).returncode == 0
    bad = [*EXAMPLE_ADD[:-1], "--timezone", "Nowhere/Never"]
    plain = run_cli_process(*bad, cwd=tmp_path)
    assert plain.returncode != 0 and "Traceback" not in plain.stderr
    assert plain.stderr.strip().count("\n") == 0
    debug = run_cli_process("--debug", *bad, cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_unknown_event_names_the_known_ones(config: Path) -> None:
    assert run_cli(*EXAMPLE_ADD, config=config).exit_code == 0
    result = run_cli("event", "show", "swrb14", config=config)
    assert result.exit_code == 1 and "no event 'swrb14' (known: swrb13)" in result.output


def test_an_event_without_sources_is_pointed_to_add_source(config: Path) -> None:
    args = ["event", "add", "x", "--title", "X", "--hashtag", "x",
            "--start", "2013-11-14", "--end", "2013-11-15", "--timezone", "UTC"]  # fmt: skip
    added = run_cli(*args, config=config)
    assert added.exit_code == 0
    assert (
        "warning: x has no sources yet, so `collect` has nothing to read: add one with "
        "`backchannel event add-source x --mastodon https://mastodon.social` (or --bluesky)"
    ) in added.output
    collected = run_cli("collect", "x", config=config)
    assert collected.exit_code == 1
    assert collected.output.strip() == (
        "Error: x has no sources: add one with `backchannel event add-source x "
        "--mastodon https://mastodon.social` (or --bluesky)"
    )
