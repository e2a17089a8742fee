"""Local copies of media for the site: the one place that maps a stored file to a URL.

Issue 8 (media preservation) stores files content-addressed under the config's
``media_dir`` and fills ``Media.sha256``, ``local_path`` and ``fetch_state = "done"``.
:meth:`MediaResolver.site_path` copies such a file into the site as
``media/<sha256[:2]>/<sha256>.<ext>`` and returns that path; anything not stored
locally gets ``None``, and the page shows a neutral local placeholder instead.
The archive never points at a remote file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.writer import SiteWriter
from backchannel.store import Media

log = logging.getLogger(__name__)

PLACEHOLDER_IMAGE = "assets/media.svg"
PLACEHOLDER_AVATAR = "assets/avatar.svg"

# What a local copy may be published as; never SVG or HTML (they can carry scripts).
_EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "image/avif": ".avif", "video/mp4": ".mp4", "video/webm": ".webm", "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg", "audio/mp4": ".m4a",
}  # fmt: skip
_SUFFIXES = set(_EXTENSIONS.values()) | {".jpeg"}


class MediaResolver:
    """Copies stored media into the site, once each, and says where they went."""

    def __init__(self, writer: SiteWriter, media_dir: Path | None) -> None:
        self.writer = writer
        self.media_dir = media_dir.resolve() if media_dir else None
        self._emoji: dict[str, str | None] = {}
        self._sizes: dict[str, tuple[int, int] | None] = {}  # sha256 -> the file's pixels

    def site_path(
        self,
        sha256: str | None,
        local_path: str | None,
        content_type: str | None,
        fetch_state: str,
    ) -> str | None:
        """``media/ab/abcd….jpg`` for a stored file (copied into the site), else None."""
        if fetch_state != "done" or not sha256 or not local_path or self.media_dir is None:
            return None
        source = (self.media_dir / local_path).resolve()
        if not source.is_relative_to(self.media_dir) or not source.is_file():
            log.warning("media file %s is missing from %s", local_path, self.media_dir)
            return None
        ext = _EXTENSIONS.get((content_type or "").split(";")[0].strip().lower())
        if ext is None:
            suffix = source.suffix.lower()
            ext = ".jpg" if suffix == ".jpeg" else suffix if suffix in _SUFFIXES else None
        if ext is None:
            return None
        sha = sha256.lower()
        relative = f"media/{sha[:2]}/{sha}{ext}"
        self.writer.copy(relative, source, digest=sha)
        if sha not in self._sizes:
            self._sizes[sha] = pixel_size(source)
        return relative

    def size(self, sha256: str | None) -> tuple[int, int] | None:
        """The width and height of a stored image :meth:`site_path` copied, in pixels,
        read from the file: the server's figures may be an aspect ratio only (Bluesky's
        ``aspectRatio``) or another rendition's, and an image is never shown larger
        than it is."""
        return self._sizes.get(sha256.lower()) if sha256 else None

    def emoji_paths(self, session: Session, urls: set[str]) -> dict[str, str | None]:
        """Local copies of custom emoji, by their remote URL (None: not stored)."""
        missing = sorted(urls - self._emoji.keys())
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found: dict[str, str | None] = dict.fromkeys(chunk)
            rows = session.execute(
                select(
                    Media.remote_url, Media.sha256, Media.local_path, Media.content_type,
                    Media.fetch_state,
                ).where(Media.remote_url.in_(chunk), Media.fetch_state == "done")
                .order_by(Media.id)
            )  # fmt: skip
            for url, sha, path, content_type, state in rows:
                if found.get(url) is None:
                    found[url] = self.site_path(sha, path, content_type, state)
            self._emoji.update(found)
        paths = {url: self._emoji.get(url) for url in urls}
        for path in paths.values():
            if path:
                self.writer.use(path)  # maybe copied for an earlier page: this one needs it too
        return paths


def pixel_size(path: Path) -> tuple[int, int] | None:
    """An image file's width and height from its header (Pillow reads no more), or
    None for a file that is not an image Pillow knows (a video, a damaged file)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - any unreadable file is simply not measured
        return None
    return (width, height) if width > 0 and height > 0 else None
