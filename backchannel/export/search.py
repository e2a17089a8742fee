"""The search index, built by Pagefind (its PyPI package ships the binary).

What is indexed, and in which groups, is :mod:`backchannel.export.search_records`.
The site holds:

* ``pagefind/``: Pagefind's script, worker and WebAssembly, with a one-page index of
  its own that no event's search matches (the page has no ``event`` filter). It only
  depends on Pagefind's version, so it is made once.
* ``pagefind/<event>/<group>/``: one index bundle per group of posts, merged in the
  browser with ``mergeIndex``; ``pagefind/<event>/groups.json`` lists them.
* ``pagefind/<event>/places/<page>.json``: which later page of a day holds which post.

Only groups whose fingerprint changed are indexed, each by its own Pagefind run, on
background threads (one per core: Pagefind is a separate process, so it works while
the pages are rendered). Its output goes through the site writer like any other
file, so unchanged files stay untouched, and it is copied in the order the runs were
started, so the manifest does not depend on which run finished first.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sqlalchemy.orm import Session

from backchannel.errors import ExportError
from backchannel.export.search_records import day_places, plan_groups, write_group_pages
from backchannel.export.selection import EventIndex
from backchannel.export.writer import SiteWriter

log = logging.getLogger(__name__)

ROOT = "pagefind"
RUNTIME_UNIT = "pagefind/runtime"
# The stock UI (it needs inline styles the CSP forbids) and the playground: not copied.
_SKIP = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "playground")
# What a merged bundle needs: the browser uses the runtime's script and WebAssembly.
_BUNDLE = ("index/", "fragment/", "filter/")
_RUNTIME_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Search</title></head>'
    "<body data-pagefind-body><p>search</p></body></html>\n"
)


def pagefind_binary() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError as exc:
        raise ExportError("search needs the pagefind package: pip install 'pagefind[bin]'") from exc
    binary = get_executable()
    if binary is None or not Path(binary).exists():
        raise ExportError("the pagefind binary is missing: pip install 'pagefind[bin]'")
    return Path(binary)


def pagefind_version() -> str:
    for package in ("pagefind_bin", "pagefind"):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


@dataclass
class _Run:
    """One Pagefind run over a folder of pages, into ``<temp>/out``."""

    unit: str
    fingerprint: str
    target: str  # where its files go in the site
    temp: tempfile.TemporaryDirectory[str]
    future: Future[None]
    runtime: bool = False


class SearchBuild:
    """The search index of one export: :meth:`add_event` per rendered event (as soon
    as its posts are paginated), :meth:`carry_over` per event kept as it was, then
    :meth:`finish`."""

    def __init__(self, writer: SiteWriter) -> None:
        self.writer = writer
        self.version = pagefind_version()
        sweep_leftovers()
        self._runs: list[_Run] = []
        self._executor: ThreadPoolExecutor | None = None
        self._binary: Path | None = None

    def add_event(self, session: Session, index: EventIndex) -> None:
        slug = index.event.slug
        groups = plan_groups(index, self.version)
        for group in groups:
            unit = f"{ROOT}/{slug}/{group.key}"
            if self.writer.keep_unit(unit, group.fingerprint):
                continue
            self._start(unit, group.fingerprint, unit,
                        lambda site, group=group: write_group_pages(session, index, group, site))  # fmt: skip
        places = day_places(index)
        listing = {"groups": [g.key for g in groups], "paged": sorted(places)}
        self.writer.write(f"{ROOT}/{slug}/groups.json", _json(listing))
        for entry, pages_of in sorted(places.items()):
            self.writer.write(f"{ROOT}/{slug}/places/{entry}.json", _json(pages_of))

    def carry_over(self, slug: str) -> None:
        self.writer.carry_over(f"{ROOT}/{slug}/")

    def finish(self) -> bool:
        """Wait for the runs and copy their output in. False when nothing was indexed."""
        runtime_fp = f"{self.version}:{_RUNTIME_PAGE}"
        if not self.writer.keep_unit(RUNTIME_UNIT, runtime_fp):
            self._start(RUNTIME_UNIT, runtime_fp, ROOT, _runtime_page, True)
        try:
            for run in self._runs:
                run.future.result()
                output = Path(run.temp.name) / "out"
                with self.writer.unit(run.unit, run.fingerprint):
                    for path in sorted(output.rglob("*")):
                        relative = path.relative_to(output).as_posix()
                        if path.is_file() and _wanted(relative, run.runtime):
                            self.writer.copy(f"{run.target}/{relative}", path)
        finally:
            self.close()
        return bool(self._runs)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for run in self._runs:
            run.temp.cleanup()

    def _start(
        self,
        unit: str,
        fingerprint: str,
        target: str,
        write: Callable[[Path], None],
        runtime: bool = False,
    ) -> None:
        """Write the pages to index (``write`` fills the folder it is given), then run
        Pagefind over them on a worker thread."""
        if self._binary is None:
            self._binary = pagefind_binary()
        if self._executor is None:
            workers = max(1, min(4, os.cpu_count() or 1))
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="pagefind")
        temp = tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)
        site = Path(temp.name) / "site"
        site.mkdir()
        write(site)
        command = [
            str(self._binary), "--site", str(site), "--output-path", str(Path(temp.name) / "out"),
            "--force-language", "en", "--silent",
        ]  # fmt: skip
        log.info("indexing %s (%d pages) with pagefind", unit,
                 sum(1 for path in site.rglob("*.html")))  # fmt: skip
        future = self._executor.submit(_run_pagefind, command)
        self._runs.append(_Run(unit, fingerprint, target, temp, future, runtime))


def _runtime_page(site: Path) -> None:
    (site / "index.html").write_text(_RUNTIME_PAGE, encoding="utf-8")


TEMP_PREFIX = "backchannel-pagefind-"
LEFTOVER_AGE = 2 * 3600  # seconds: older than any run (an hour at most) can be


def sweep_leftovers() -> int:
    """Remove the temporary folders of exports killed while Pagefind ran (a killed
    process cannot clean up after itself); a folder younger than any run may be another
    export's, and stays. Returns how many went."""
    import shutil
    import time

    gone = 0
    limit = time.time() - LEFTOVER_AGE
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < limit:
                shutil.rmtree(folder)
                gone += 1
        except OSError:
            continue  # another user's, or gone meanwhile: not ours to worry about
    if gone:
        log.info("removed %d temporary folders of interrupted exports", gone)
    return gone


def _wanted(relative: str, runtime: bool) -> bool:
    if runtime:
        return not relative.startswith(_SKIP)
    return (
        relative == "pagefind-entry.json"
        or relative.endswith(".pf_meta")
        or relative.startswith(_BUNDLE)
    )


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n"


def _run_pagefind(command: list[str]) -> None:
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        raise ExportError(f"pagefind could not run: {exc}") from exc
    _yield_to_exporter(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=3600)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.communicate()
        raise ExportError("pagefind took more than an hour") from exc
    if process.returncode != 0:
        raise ExportError(f"pagefind failed: {(stderr or stdout).strip()[:500]}")


def _yield_to_exporter(pid: int) -> None:
    """Pagefind works while the pages are rendered, and would take every core it can:
    at a lower priority it takes what the exporter (the slower of the two) leaves."""
    if hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, pid, 10)
        except OSError:
            pass  # it has finished already, or may not be reniced: it only runs sooner
