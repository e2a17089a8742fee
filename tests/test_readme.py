"""The README's CLI reference lists exactly the commands that exist."""

from __future__ import annotations

import re

import click

from backchannel.cli import main
from tests.helpers import REPO


def _commands(group: click.Group, prefix: str = "backchannel") -> set[str]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _commands(command, f"{prefix} {name}")
            if command.invoke_without_command:  # a group that is a command too
                found.add(f"{prefix} {name}")
        else:
            found.add(f"{prefix} {name}")
    return found


def test_cli_reference_matches_the_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## CLI reference", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(backchannel [a-z -]+?)`", section, re.MULTILINE))
    assert documented == _commands(main)


def test_readme_shows_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
