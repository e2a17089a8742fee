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
import time
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


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `make dist` builds, installed (its dependencies: this test run's) into
    a folder outside the checkout, as `pip install dist/backchannel-*.whl` puts it."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                    str(REPO)], check=True, capture_output=True)  # fmt: skip
    (wheel,) = out.glob("backchannel-*-py3-none-any.whl")
    target = tmp_path_factory.mktemp("installed")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)  # fmt: skip
    return target


def test_the_quick_start_works_as_written(
    tmp_path: Path, mastodon: MastodonSandbox, installed: Path
) -> None:
    lines = quick_start_lines()
    commands = [line for line in lines if line.startswith("backchannel ")]
    steps = {line.split()[1] for line in commands}
    assert {"init", "doctor", "collect", "event", "story", "export", "serve"} <= steps, lines
    assert lines[0] == "make dist"  # the wheel this test built as the Makefile does
    assert lines[1].startswith("mkdir ") and "cd " in lines[1]  # a folder of its own
    assert "pip install ~/backchannel/dist/backchannel-*.whl" in lines[2]
    assert lines[3] == ". .venv/bin/activate"

    servers = " ".join(server.base_url for server in mastodon.instances.values())
    answers = [
        "organisers@swrs.example", "", "", "swrb13", "SWRS 2026, as in the Quick start",
        " ".join(conference.HASHTAGS), "Pacific/Auckland", "2026-03-12", "2026-03-13",
        servers, "n",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(installed)  # the wheel's backchannel, not the checkout's
    env["COLUMNS"] = "120"
    folder = tmp_path / "archives"
    folder.mkdir()
    where = subprocess.run([sys.executable, "-c", "import backchannel; print(backchannel.__file__)"],
                           cwd=folder, env=env, capture_output=True, text=True, check=True)  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(installed)
    for command in commands:
        if command.startswith("backchannel serve"):
            _serves(command, folder, env)
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True,
            input="\n".join(answers) + "\n" if command == "backchannel init" else None,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if command.startswith("backchannel collect"):
            rows = [row for row in done.stdout.splitlines() if row.startswith("swrb13 ")]
            assert len(rows) == len(mastodon.instances)
            assert all(" ok " in row for row in rows), done.stdout
            assert sum(int(row.split()[4]) for row in rows) > 100  # new posts
    config = (folder / "config.toml").read_text(encoding="utf-8")
    assert "`backchannel config example`" in config  # no file a pip user lacks
    assert (folder / "site" / "swrb13" / "index.html").is_file()
    assert (folder / "site" / "swrb13" / "story-story.html").is_file()


def _serves(command: str, folder: Path, env: dict[str, str]) -> None:
    """``backchannel serve`` runs until stopped: it answers with the archive, then is."""
    import httpx

    child = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=folder, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        for _ in range(200):
            try:
                page = httpx.get("http://127.0.0.1:8000/swrb13/index.html", timeout=1)
                break
            except httpx.TransportError:
                assert child.poll() is None, child.stdout.read() if child.stdout else b""
                time.sleep(0.05)
        assert page.status_code == 200 and "as in the Quick start" in page.text
    finally:
        child.terminate()
        child.wait(10)
