"""The content-addressed media store: ``<media_dir>/<sha[:2]>/<sha><ext>``.

A file is named by the SHA-256 of its bytes, so the same image attached to two posts
(or served under two URLs) is stored once. Files are written to a temporary file in
``<media_dir>/.tmp`` (same file system) and moved into place with ``os.replace``:
a reader never sees half a file. ``Media.local_path`` holds the path relative to
``media_dir``; :class:`backchannel.export.media.MediaResolver` reads it from there.

What may be stored is an allow list of content types, each checked against the
file's first bytes: never SVG or HTML, which can carry scripts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import IO

from backchannel.store import Database, forget_releases, owner_is_gone, releases, run_owner

log = logging.getLogger(__name__)

STALE_SECONDS = 3600.0  # a partial download this old belongs to no live process

IMAGE_TYPES = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
    "image/webp": ".webp", "image/avif": ".avif",
}  # fmt: skip
VIDEO_TYPES = {"video/mp4": ".mp4", "video/webm": ".webm"}
EXTENSIONS = IMAGE_TYPES | VIDEO_TYPES


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file show, among the allowed ones."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "image/avif" if brand in (b"avif", b"avis") else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


def _owner_gone(name: str) -> bool:
    # download-<host>:<pid>-<random>.part; mkstemp's random part holds no "-".
    owner = name.removeprefix("download-").rsplit("-", 1)[0]
    return ":" in owner and owner_is_gone(owner)


def relative_path(sha256: str, content_type: str) -> str:
    return f"{sha256[:2]}/{sha256}{EXTENSIONS[content_type]}"


class MediaStore:
    """Files under one ``media_dir``. Thread-safe: every write has its own temp file."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tmp = self.root / ".tmp"

    def open_temp(self) -> tuple[IO[bytes], Path]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        # The owner (host:pid) in the name lets the next run remove what a killed
        # process left at once, rather than after STALE_SECONDS.
        fd, name = tempfile.mkstemp(
            dir=self._tmp, prefix=f"download-{run_owner()}-", suffix=".part"
        )
        return os.fdopen(fd, "wb"), Path(name)

    def commit(self, temp: Path, sha256: str, content_type: str) -> str:
        """Move a finished temp file into place; its path relative to the root."""
        relative = relative_path(sha256, content_type)
        target = self.root / relative
        if target.is_file() and target.stat().st_size == temp.stat().st_size:
            temp.unlink()  # already stored (shared by another post or URL)
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        return relative

    def has(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def clear_stale(self, older_than: float = STALE_SECONDS) -> int:
        """Remove partial downloads left by a process that died: one of this host whose
        process is gone, or any older than an hour (a live download is cut off at its
        deadline long before). Returns how many."""
        if not self._tmp.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for leftover in self._tmp.glob("download-*.part"):
            try:
                if _owner_gone(leftover.name) or leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another process finished or removed it meanwhile
        if removed:
            log.info("removed %d partial download(s) left in %s", removed, self._tmp)
        return removed

    def discard(self, temp: Path) -> None:
        with contextlib.suppress(OSError):
            temp.unlink()

    def remove(self, sha256: str) -> int:
        """Delete every stored file named by ``sha256``; how many there were."""
        folder = self.root / sha256[:2]
        removed = 0
        for path in folder.glob(f"{sha256}.*") if folder.is_dir() else ():
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def prune(db: Database, media_dir: Path) -> int:
    """Remove the released files (:mod:`backchannel.store.released`) that no ``Media``
    row uses, then their release rows; how many files went. Safe to repeat: run after
    every pass that releases files, and again by the next one after a crash."""
    with db.reading() as session:
        released, unused, latest = releases(session)
    if latest is None:
        return 0
    store = MediaStore(media_dir)
    removed = sum(store.remove(sha) for sha in sorted(unused))
    with db.writing() as session:
        forget_releases(session, released, latest)
    if removed:
        log.info("removed %d media file(s) no post uses any more", removed)
    return removed
