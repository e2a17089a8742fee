"""Preview and publish from the studio: the exporter itself, run in the background.

A preview exports one event into the studio's own scratch folder, served under
``/preview/`` to signed-in people only: the same templates and consent rules as the
archive, because it is the archive. Publishing exports into the configured site
folder; its progress (posts written of all) is polled by the page, which refreshes
itself while the export runs (a meta refresh: no script needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.export import ExportOptions, export_site
from backchannel.store import Database
from backchannel.studio.background import Latest, in_background


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
        self._runs: Latest[Run] = Latest()

    def state(self, kind: str, slug: str) -> Run | None:
        return self._runs.state((kind, slug))

    def start(self, kind: str, slug: str) -> None:
        """Start an export of ``slug``, unless one of that kind is running."""
        run = self._runs.begin((kind, slug), lambda: Run(kind))
        if run is None:
            return
        if kind == "preview":  # relative links: it is served under /preview/
            options = ExportOptions.from_config(self.config, out=self.preview_dir, base_url="")
        else:
            options = ExportOptions.from_config(self.config)

        def progress(done: int, total: int) -> None:
            with self._runs.lock:
                run.done, run.total = done, total

        in_background(run, "the export",
                      lambda: export_site(self.db, options, [slug], progress))  # fmt: skip
