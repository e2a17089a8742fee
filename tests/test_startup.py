"""`backchannel --help` stays fast: the heavy client libraries are not imported."""

from __future__ import annotations

import subprocess
import sys


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
