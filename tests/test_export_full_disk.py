"""An export is never half-done: a full disk or a read-only folder leaves the previous
site whole (issue 20). The disk is real: a small tmpfs mounted for the test (CI runs as
root; a machine where it cannot be mounted fails here rather than skipping)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backchannel.sandbox import conference
from tests.helpers import run_cli
from tests.sandbox_env import SandboxEnv, sandbox_env


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[SandboxEnv]:
    with sandbox_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'a.db'}") as running:
        collected = run_cli("collect", conference.SLUG, "--no-media", config=running.config_path)
        assert collected.exit_code == 0, collected.output
        yield running


def _files(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def _retitle(env: SandboxEnv, title: str) -> None:
    """A new site title: every page of the next export changes."""
    text = env.config_path.read_text(encoding="utf-8")
    start = text.index("title = ")
    end = text.index("\n", start)
    env.config_path.write_text(text[:start] + f'title = "{title}"' + text[end:], encoding="utf-8")


def test_a_full_disk_leaves_the_previous_site_whole(env: SandboxEnv, disk: Path) -> None:
    site = disk / "site"
    first = run_cli("export", "--out", str(site), config=env.config_path)
    assert first.exit_code == 0, first.output
    before = _files(site)
    assert len(before) > 50

    _retitle(env, "A new title for every page")
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, free - 400_000))  # room for a few pages only
    full = run_cli("export", "--out", str(site), config=env.config_path)
    assert full.exit_code == 1
    (line,) = full.output.strip().splitlines()[-1:]
    assert line.startswith("Error: the disk is full (writing ")
    assert line.endswith("the previous site is left as it was; free some space and export again")
    assert _files(site) == before  # not one file of the previous site changed
    assert not list(site.rglob(".bc-*.tmp"))

    filler.unlink()
    again = run_cli("export", "--out", str(site), config=env.config_path)
    assert again.exit_code == 0, again.output
    assert "A new title for every page" in (site / "index.html").read_text(encoding="utf-8")


def test_a_read_only_folder_is_named_and_left_alone(env: SandboxEnv, disk: Path) -> None:
    site = disk / "site"
    assert run_cli("export", "--out", str(site), config=env.config_path).exit_code == 0
    before = _files(site)
    _retitle(env, "Another title")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    refused = run_cli("export", "--out", str(site), config=env.config_path)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        f"Error: cannot write into {site} (Read-only file system): the previous site is left "
        "as it was"
    )
    assert _files(site) == before


def test_temporary_files_of_a_killed_export_are_removed(env: SandboxEnv, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run_cli("export", "--out", str(site), config=env.config_path).exit_code == 0
    leftover = site / conference.SLUG / ".bc-abc123.tmp"
    leftover.write_text("half a page", encoding="utf-8")
    assert run_cli("export", "--out", str(site), config=env.config_path).exit_code == 0
    assert not leftover.exists()


def test_a_failed_first_export_does_not_speak_of_a_previous_site(tmp_path: Path) -> None:
    import errno

    from backchannel.export.writer import SiteWriter

    first = SiteWriter(tmp_path / "new-site")  # nothing was ever exported there
    line = first._failed(tmp_path / "new-site/index.html", OSError(errno.ENOSPC, "No space"))
    assert "previous site" not in line and "no part of the site was put in place" in line
