"""The README's Quick start, run line by line as written (issue 18).

Each ``backchannel`` line of the Quick start block runs in a shell, in an empty folder,
with the installed console script on PATH (the install line itself is what ``make``
did for this test run; ``test_packaging`` installs a wheel). ``init`` is answered as
a person would, pointing the event at the loopback sandbox's Mastodon servers and the
demo conference's hashtags and days.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backchannel.sandbox import conference
from backchannel.sandbox.mastodon_demo import build_demo_world
from backchannel.sandbox.mastodon_server import MastodonSandbox
from tests.helpers import REPO


def quick_start_lines() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start with a real event", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = []
    for line in block.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command:
            lines.append(command)
    return lines


@pytest.fixture
def mastodon() -> Iterator[MastodonSandbox]:
    with MastodonSandbox(build_demo_world()) as sandbox:
        yield sandbox


def test_the_quick_start_works_as_written(tmp_path: Path, mastodon: MastodonSandbox) -> None:
    lines = quick_start_lines()
    commands = [line for line in lines if line.startswith("backchannel ")]
    steps = {line.split()[1] for line in commands}
    assert {"init", "doctor", "collect", "event", "story", "export"} <= steps, lines
    assert lines[0].startswith("python3 -m venv .venv") and "pip install" in lines[0]
    assert lines[1] == ". .venv/bin/activate"

    servers = " ".join(server.base_url for server in mastodon.instances.values())
    answers = [
        "organisers@swrs.example", "", "", "swrb13", "SWRS 2026, as in the Quick start",
        " ".join(conference.HASHTAGS), "Pacific/Auckland", "2026-03-12", "2026-03-13",
        servers, "n",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["COLUMNS"] = "120"
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
            input="\n".join(answers) + "\n" if command == "backchannel init" else None,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if command.startswith("backchannel collect"):
            rows = [row for row in done.stdout.splitlines() if row.startswith("swrb13 ")]
            assert len(rows) == len(mastodon.instances)
            assert all(" ok " in row for row in rows), done.stdout
            assert sum(int(row.split()[4]) for row in rows) > 100  # new posts
    assert (tmp_path / "config.toml").is_file()
    assert (tmp_path / "site" / "swrb13" / "index.html").is_file()
    assert (tmp_path / "site" / "swrb13" / "story-story.html").is_file()
