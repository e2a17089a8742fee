"""The search index, built by Pagefind (its PyPI package ships the binary).

Pagefind reads the timeline pages only (they alone carry ``data-pagefind-body``);
the theme marks what it must not index with ``data-pagefind-ignore``: posts of
authors whose ``indexable`` is false, the whole content behind a content warning,
and navigation. Each post's heading has an id, so every post is its own result.

Pagefind writes into a temporary folder; its files then go through the site writer
like any other, so an unchanged index leaves its files untouched and an index file
no longer produced is removed. When no indexed page changed, Pagefind is not run.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backchannel.errors import ExportError
from backchannel.export.writer import SiteWriter

log = logging.getLogger(__name__)

UNIT = "pagefind"
# The stock UI (it needs inline styles the CSP forbids) and the playground: not copied.
_SKIP = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "playground")


def pagefind_binary() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError as exc:
        raise ExportError("search needs the pagefind package: pip install 'pagefind[bin]'") from exc
    binary = get_executable()
    if binary is None or not Path(binary).exists():
        raise ExportError("the pagefind binary is missing: pip install 'pagefind[bin]'")
    return Path(binary)


def indexed_fingerprint(writer: SiteWriter, pages: list[str]) -> str:
    digest = hashlib.sha256()
    for relative in sorted(pages):
        digest.update(f"{relative}\0{writer.files[relative]['sha256']}\n".encode())
    return digest.hexdigest()


@dataclass
class PendingIndex:
    """A Pagefind run started in the background (it reads only the finished day pages,
    so the rest of the site is written meanwhile)."""

    process: subprocess.Popen[str]
    temp: tempfile.TemporaryDirectory[str]
    fingerprint: str
    pages: int


def start_index(writer: SiteWriter, pages: list[str]) -> PendingIndex | None:
    """Start indexing ``pages`` (timeline pages); None when none of them changed."""
    fingerprint = indexed_fingerprint(writer, pages)
    if writer.keep_unit(UNIT, fingerprint):
        return None
    binary = pagefind_binary()
    temp = tempfile.TemporaryDirectory(prefix="backchannel-pagefind-")
    command = [
        str(binary), "--site", str(writer.root), "--output-path", str(Path(temp.name) / "pagefind"),
        "--glob", "*/[0-9]*.html", "--silent",
    ]  # fmt: skip
    log.info("indexing %d pages with pagefind", len(pages))
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        temp.cleanup()
        raise ExportError(f"pagefind could not run: {exc}") from exc
    return PendingIndex(process, temp, fingerprint, len(pages))


def finish_index(writer: SiteWriter, pending: PendingIndex) -> None:
    """Wait for Pagefind and copy its output into the site through the writer."""
    try:
        try:
            out, err = pending.process.communicate(timeout=3600)
        except subprocess.TimeoutExpired as exc:
            pending.process.kill()
            raise ExportError("pagefind took more than an hour") from exc
        if pending.process.returncode != 0:
            raise ExportError(f"pagefind failed: {(err or out).strip()[:500]}")
        output = Path(pending.temp.name) / "pagefind"
        with writer.unit(UNIT, pending.fingerprint):
            for path in sorted(output.rglob("*")):
                relative = path.relative_to(output).as_posix()
                if path.is_file() and not relative.startswith(_SKIP):
                    writer.copy(f"pagefind/{relative}", path)
    finally:
        pending.temp.cleanup()


def build_index(writer: SiteWriter, pages: list[str]) -> bool:
    """Index ``pages`` and wait for it. False when nothing changed."""
    pending = start_index(writer, pages)
    if pending is None:
        return False
    finish_index(writer, pending)
    return True
