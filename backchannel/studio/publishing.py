"""Preview and publish from the studio: the exporter itself, run in the background.

A preview exports one event into the studio's own scratch folder, served under
``/preview/`` to signed-in people only: the same templates and consent rules as the
archive, because it is the archive. Publishing exports into the configured site
folder; its progress (posts written of all) is polled by the page, which refreshes
itself while the export runs (a meta refresh: no script needed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.export import ExportOptions, export_site
from backchannel.store import Database
from backchannel.studio.background import in_background


@dataclass
class Run:
    kind: str  # preview or publish
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str | None = None

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class Publisher:
    """One export at a time per event and kind; the state of the latest of each."""

    def __init__(self, db: Database, config: Any, preview_dir: Path) -> None:
        self.db = db
        self.config = config
        self.preview_dir = preview_dir
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str], Run] = {}

    def state(self, kind: str, slug: str) -> Run | None:
        with self._lock:
            return self._runs.get((kind, slug))

    def start(self, kind: str, slug: str) -> Run:
        """Start an export of ``slug`` (unless one is running); its run."""
        with self._lock:
            current = self._runs.get((kind, slug))
            if current is not None and not current.finished:
                return current
            run = self._runs[kind, slug] = Run(kind)
        if kind == "preview":  # relative links: it is served under /preview/
            options = ExportOptions.from_config(self.config, out=self.preview_dir, base_url="")
        else:
            options = ExportOptions.from_config(self.config)

        def progress(done: int, total: int) -> None:
            run.done, run.total = done, total

        in_background(run, "the export",
                      lambda: export_site(self.db, options, [slug], progress))  # fmt: skip
        return run
