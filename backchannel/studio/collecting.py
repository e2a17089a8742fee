"""Collect now, from the studio: the collect service in the background, with progress.

The organiser's page polls the state of the latest pass (a meta refresh while it
runs): per source, pages and posts so far, then the result line the command line
prints in its table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backchannel.collect import collect
from backchannel.store import Database
from backchannel.studio.background import Latest, in_background


@dataclass
class SourceProgress:
    base_url: str
    pages: int = 0
    new: int = 0
    result: str = ""  # when finished: ok, or the one-line error


@dataclass
class CollectRun:
    sources: dict[str, SourceProgress] = field(default_factory=dict)
    finished: bool = False
    error: str | None = None


class Collector:
    """One collection pass at a time per event; the state of the latest."""

    def __init__(self, db: Database, config: Any) -> None:
        self.db = db
        self.config = config
        self._runs: Latest[CollectRun] = Latest()

    def state(self, slug: str) -> CollectRun | None:
        """See :meth:`Latest.state`: read it before the database."""
        return self._runs.state(slug)

    def start(self, slug: str) -> None:
        """Start a pass over ``slug``'s sources, unless one is running."""
        run = self._runs.begin(slug, CollectRun)
        if run is not None:
            in_background(run, "the collection", lambda: self._collect(run, slug))

    def _collect(self, run: CollectRun, slug: str) -> None:
        def on_page(source: Any, page: Any) -> None:
            with self._runs.lock:  # the collect service's threads, and state() copying
                progress = run.sources.setdefault(source.base_url, SourceProgress(source.base_url))
                progress.pages += 1
                progress.new = source.new

        for result in collect(self.db, self.config, slug, on_page=on_page):
            with self._runs.lock:
                progress = run.sources.setdefault(result.base_url, SourceProgress(result.base_url))
                progress.new = result.new
                progress.result = "ok" if result.status == "ok" else (result.error or "failed")
