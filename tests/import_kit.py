"""What each import test starts from: an archive's config (its site and media in the
test's folder) and one event in UTC, made through the command line."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli, write_config


def archive_with_event(tmp_path: Path, db_url: str, slug: str, tag: str, start: str,
                       end: str) -> Path:  # fmt: skip
    path = write_config(tmp_path, db_url, f"[archive]\nsite_dir = '{tmp_path / 'site'}'\n"
                                          f"media_dir = '{tmp_path / 'media'}'\n")  # fmt: skip
    assert run_cli("init", config=path).exit_code == 0
    added = run_cli("event", "add", slug, "--title", slug.upper(), "--hashtag", tag, "--start",
                    start, "--end", end, "--timezone", "UTC", config=path)  # fmt: skip
    assert added.exit_code == 0, added.output
    return path
