"""A damaged database is refused before anything is written into it (issue 20)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from backchannel.sandbox import conference
from tests.helpers import run_cli
from tests.sandbox_env import sandbox_env


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_corrupt_database_is_refused_before_any_write(tmp_path: Path) -> None:
    path = tmp_path / "data" / "a.db"
    with sandbox_env(tmp_path / "data", f"sqlite:///{path}") as env:
        first = run_cli("collect", conference.SLUG, "--no-media", config=env.config_path)
        assert first.exit_code == 0, first.output
        env.db.dispose()
        # Checkpoint the WAL into the file, then 64 KiB of garbage in its middle.
        import sqlite3

        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        assert size > 1 << 20
        with path.open("r+b") as handle:
            handle.seek(size // 2)
            handle.write(bytes(range(256)) * 256)
        before = _digest(path)

        again = run_cli("collect", conference.SLUG, "--no-media", config=env.config_path)
        assert again.exit_code == 1
        (line,) = again.output.strip().splitlines()
        assert line.startswith(f"Error: {path} is damaged (")
        assert line.endswith(
            "nothing was written. Run `backchannel db check` for the details, then restore "
            "a copy (`db upgrade` leaves one beside it as a.db.<revision>.<time>.bak)"
        )
        assert _digest(path) == before  # not one byte written
        for command in (["event", "add-source", conference.SLUG, "--mastodon",
                         "https://x.example"], ["recheck"], ["media", "fetch"]):  # fmt: skip
            refused = run_cli(*command, config=env.config_path)
            assert refused.exit_code == 1 and "is damaged" in refused.output, command
        assert _digest(path) == before

        checked = run_cli("db", "check", config=env.config_path)
        assert checked.exit_code == 1
        assert "is damaged" in checked.output.splitlines()[-1]


def test_a_file_that_is_not_a_database_is_named_plainly(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    path.write_bytes(b"this is not a database at all\n" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{path}"\n', encoding="utf-8")
    result = run_cli("event", "list", config=config)
    assert result.exit_code == 1
    assert result.output.strip().startswith(
        f"Error: {path} is damaged (file is not a database): nothing was written."
    )


def test_db_check_on_a_sound_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8")
    assert run_cli("init", config=config).exit_code == 0
    checked = run_cli("db", "check", config=config)
    assert checked.exit_code == 0 and checked.output.strip().endswith(": ok")


def test_db_check_refuses_an_empty_file_and_a_missing_one(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{path}"\n', encoding="utf-8")
    missing = run_cli("db", "check", config=config)
    assert missing.exit_code == 1 and "the file does not exist" in missing.output
    assert not path.exists()  # the check made nothing
    path.write_bytes(b"")
    empty = run_cli("db", "check", config=config)
    assert empty.exit_code == 1 and "the file is empty" in empty.output, empty.output


def test_status_says_a_damaged_database_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    path.write_bytes(b"this is not a database at all\n" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{path}"\n', encoding="utf-8")
    result = run_cli("status", config=config)
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"Error: {path} is damaged (")
