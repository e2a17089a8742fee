"""`backchannel --help` stays fast: the heavy client libraries are not imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_help_imports_neither_atproto_nor_mastodon() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from backchannel.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "for sub in ('event', 'db', 'collect'):\n"
        "    assert CliRunner().invoke(main, [sub, '--help']).exit_code == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('atproto', 'atproto_client', 'mastodon', 'httpx', 'requests'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_command_help_ends_with_an_example() -> None:
    from click.testing import CliRunner

    from backchannel.cli import main

    def walk(group, path):  # type: ignore[no-untyped-def]
        for name, command in group.commands.items():
            yield [*path, name], command
            if hasattr(command, "commands"):
                yield from walk(command, [*path, name])

    for path, _command in walk(main, []):
        text = CliRunner().invoke(main, [*path, "--help"]).output
        assert "Example:" in text, f"`backchannel {' '.join(path)} --help` shows an example"


def test_database_commands_load_no_migration_or_network_library(tmp_path: Path) -> None:
    """Opening the database needs neither Alembic nor an HTTP client (issue 18)."""
    from tests.helpers import run_cli, write_config

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    assert run_cli("init", config=config).exit_code == 0
    code = (
        "import sys\n"
        "from backchannel.cli import main\n"
        "for argv in (['event', 'list'], ['status'], ['db', 'current']):\n"
        "    try:\n"
        "        main(['--config', sys.argv[1], *argv], standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'httpx', 'requests', 'mastodon', 'atproto', 'jinja2', 'nh3')"
        " or m.startswith('sqlalchemy.dialects.postgresql'))\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
