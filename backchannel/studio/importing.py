"""Import from the studio: files an organiser uploads, imported in the background.

The upload is refused before it is read when it says it is larger than
``[studio] import_max_mb`` (or does not say its size); the files are kept under the
config's folder (``imports/<event>/<time>/``), beside one another, so that an
archive's companion files (``account.js``, ``profile.js``, ``actor.json``) are found
by the file they go with and are not imported on their own. The import service runs
them one by one on a thread; the organiser's page shows each file's progress, then
the row the command line prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backchannel.collect import import_file
from backchannel.importers import join_story_pages
from backchannel.store import Database
from backchannel.studio.background import Latest, in_background

COMPANIONS = {"account.js", "profile.js", "actor.json"}  # read beside their archive file


@dataclass
class FileProgress:
    name: str
    done: int = 0  # lines (or items) read
    total: int = 0
    result: str = ""  # when finished: read, imported, already there, skipped; or the error


@dataclass
class ImportRun:
    files: list[FileProgress] = field(default_factory=list)
    finished: bool = False
    error: str | None = None


def safe_name(name: str) -> str:
    """A file name from a stranger's upload, made safe to write: no folder, no dot first."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")[:100]
    return cleaned or "upload"


class Importer:
    """One import at a time per event; the state of the latest."""

    def __init__(self, db: Database, config: Any) -> None:
        self.db = db
        self.config = config
        self._runs: Latest[ImportRun] = Latest()

    def folder(self, slug: str) -> Path:
        """A new folder for one upload's files."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.config.resolve("imports") / safe_name(slug) / stamp
        path.mkdir(parents=True, exist_ok=True)
        return path

    def state(self, slug: str) -> ImportRun | None:
        return self._runs.state(slug)

    def start(self, slug: str, paths: list[Path], file_format: str) -> bool:
        """Import ``paths`` (companion files aside) into ``slug``, unless an import runs."""
        primaries = [p for p in paths if p.name not in COMPANIONS]
        if file_format in ("auto", "storify") and len(primaries) > 1:
            primaries = join_story_pages(primaries, primaries[0].parent / "joined")
        run = self._runs.begin(slug, lambda: ImportRun([FileProgress(p.name) for p in primaries]))
        if run is None:
            return False
        in_background(run, "the import", lambda: self._import(run, slug, primaries, file_format))
        return True

    def _import(self, run: ImportRun, slug: str, paths: list[Path], file_format: str) -> None:
        for progress, path in zip(run.files, paths, strict=True):

            def step(done: int, total: int, progress: FileProgress = progress) -> None:
                with self._runs.lock:
                    progress.done, progress.total = done, total

            try:
                got = import_file(self.db, self.config, slug, path, file_format, step)
            except Exception as exc:  # noqa: BLE001 - one bad file does not stop the others
                with self._runs.lock:
                    progress.result = str(exc) or type(exc).__name__
                continue
            skipped = ", ".join(f"{why} {n}" for why, n in sorted(got.skipped.items())) or "none"
            said = (f"{got.format}: {got.read} read, {got.imported} imported, {got.already} "
                    f"already there; skipped: {skipped}; {len(got.problems)} unreadable")  # fmt: skip
            if got.story:
                said += f"; story {got.story} stored"
            with self._runs.lock:
                progress.result = said
