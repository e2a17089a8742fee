"""The site writer: atomic writes, unchanged files untouched, a manifest, safe cleanup.

Every file the exporter produces goes through :class:`SiteWriter`. It keeps
``.backchannel-manifest.json`` in the site folder: the relative path and SHA-256 of
each file it wrote, and a fingerprint per *unit* (a day of an event, the search index,
the data files ...), so a later export can skip a unit whose inputs did not change.

* A file whose content hash equals the manifest's (and that still exists, with the
  same size) is not written again: its mtime and inode stay as they were.
* A changed file is written to a temporary file beside it (``.bc-*.tmp``). Nothing
  replaces a file of the previous site until every file of this export is written:
  :meth:`SiteWriter.finish` then renames them all into place (quick, and needing no
  space), so a full disk or an error on the way leaves the previous site whole, and
  :meth:`SiteWriter.abort` removes the temporary files.
* At :meth:`SiteWriter.finish`, files that the previous manifest lists and this export
  did not produce are removed, but only if they still hold what the exporter wrote
  (a file someone edited by hand is left, with a warning). A file the exporter never
  wrote is never deleted.
* Temporary files left by an export that was killed are removed when the next starts.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from backchannel.errors import ExportError

log = logging.getLogger(__name__)

MANIFEST = ".backchannel-manifest.json"
MANIFEST_VERSION = 1
_CHUNK = 1 << 20


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_units: int = 0


@dataclass
class _Unit:
    fingerprint: str
    files: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_relative(relative: str) -> str:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts or relative != str(path):
        raise ExportError(f"refusing to write outside the site folder: {relative!r}")
    return relative


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of the site in ``root``; empty when there is none (or none this
    version of the exporter can read)."""
    path = root / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring an unreadable manifest %s: %s", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        log.warning("ignoring a manifest of another version in %s", root)
        return {}
    return data


def published_events(root: Path) -> set[str]:
    """The slugs of the events an export wrote into the site in ``root`` (each has its
    summary unit there): a change re-exports these and never another."""
    units = read_manifest(root).get("units") or {}
    return {name.split("/", 1)[0] for name in units if name.endswith("/summary")}


class SiteWriter:
    """Writes files under ``root`` and records them in the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stats = WriteStats()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create the site folder {root}: {exc}") from exc
        old = self._load_manifest()
        self._old_files: dict[str, dict[str, Any]] = old.get("files", {})
        self._old_units: dict[str, dict[str, Any]] = old.get("units", {})
        self.files: dict[str, dict[str, Any]] = {}  # produced by this export
        self.units: dict[str, _Unit] = {}
        self._open_units: list[_Unit] = []
        self._pending: dict[Path, Path] = {}  # target -> its new content, renamed at finish
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Temporary files of an export that was killed before it finished."""
        for leftover in self.root.rglob(".bc-*.tmp"):
            leftover.unlink(missing_ok=True)

    # -- manifest -----------------------------------------------------------------

    def _load_manifest(self) -> dict[str, Any]:
        return read_manifest(self.root)

    def previous_unit_data(self, name: str) -> dict[str, Any] | None:
        unit = self._old_units.get(name)
        return dict(unit.get("data") or {}) if unit else None

    def previous_text(self, relative: str) -> str | None:
        """A file of the previous export, if it still holds what the exporter wrote
        (read before this export replaces it)."""
        data = self.previous_bytes(relative)
        return data.decode("utf-8") if data is not None else None

    def previous_bytes(self, relative: str) -> bytes | None:
        entry = self._old_files.get(relative)
        if entry is None:
            return None
        try:
            data = (self.root / relative).read_bytes()
        except OSError:
            return None
        if len(data) != entry["size"] or sha256_bytes(data) != entry["sha256"]:
            return None
        return data

    def previous_file(self, relative: str) -> IO[bytes] | None:
        """A file of the previous export opened for reading, if it is still there at
        the size the exporter wrote (for copying parts of a large file)."""
        entry = self._old_files.get(relative)
        target = self.root / relative
        try:
            if entry is None or target.stat().st_size != entry["size"]:
                return None
            return target.open("rb")
        except OSError:
            return None

    def previous_units(self) -> list[str]:
        return sorted(self._old_units)

    # -- units --------------------------------------------------------------------

    def keep_unit(self, name: str, fingerprint: str) -> bool:
        """Carry a unit over unchanged if its fingerprint matches and its files exist."""
        old = self._old_units.get(name)
        if not old or old.get("fingerprint") != fingerprint:
            return False
        if not self._intact(old):
            return False
        files = list(old.get("files") or [])
        unit = _Unit(fingerprint, files, dict(old.get("data") or {}))
        self.units[name] = unit
        for relative in files:
            self.files[relative] = self._old_files[relative]
            for parent in self._open_units:
                parent.files.append(relative)
        self.stats.kept_units += 1
        return True

    @contextmanager
    def unit(self, name: str, fingerprint: str) -> Iterator[_Unit]:
        """Record every file written inside the block as belonging to ``name``."""
        unit = _Unit(fingerprint)
        self._open_units.append(unit)
        try:
            yield unit
        finally:
            self._open_units.remove(unit)
        self.units[name] = unit

    def keep_units(self, prefix: str) -> bool:
        """Keep every unit of the previous export under ``prefix`` if the files of all
        of them are still there as written; otherwise keep none (and say False)."""
        names = sorted(name for name in self._old_units if name.startswith(prefix))
        if not all(self._intact(self._old_units[name]) for name in names):
            return False
        for name in names:
            self.keep_unit(name, self._old_units[name]["fingerprint"])
        return bool(names)

    def _intact(self, old_unit: dict[str, Any]) -> bool:
        """Every file of a previous unit is still there, at the size it was written."""
        for relative in old_unit.get("files") or []:
            entry = self._old_files.get(relative)
            target = self.root / relative
            if entry is None or not target.is_file() or target.stat().st_size != entry["size"]:
                return False
        return True

    def carry_over(self, prefix: str) -> None:
        """Keep every file and unit of a previous export under ``prefix`` as it is
        (an event that this export was not asked to render)."""
        for name, old in self._old_units.items():
            if name.startswith(prefix):
                files = [f for f in old.get("files") or [] if f in self._old_files]
                self.units[name] = _Unit(old["fingerprint"], files, dict(old.get("data") or {}))
        for relative, entry in self._old_files.items():
            if relative.startswith(prefix) and (self.root / relative).is_file():
                self.files[relative] = entry

    # -- writing ------------------------------------------------------------------

    def _record(self, relative: str, digest: str, size: int, changed: bool) -> bool:
        if relative in self.files and self.files[relative]["sha256"] != digest:
            raise ExportError(f"two different files were produced for {relative}")
        self.files[relative] = {"sha256": digest, "size": size}
        for unit in self._open_units:
            unit.files.append(relative)
        if changed:
            self.stats.written += 1
        else:
            self.stats.unchanged += 1
        return changed

    def _unchanged(self, relative: str, digest: str, size: int) -> bool:
        target = self.root / relative
        old = self._old_files.get(relative)
        if old is not None and old["sha256"] == digest and old["size"] == size:
            return target.is_file() and target.stat().st_size == size
        # Not ours before (or changed since): compare with what is on disk.
        return target.is_file() and target.stat().st_size == size and sha256_file(target) == digest

    def write(self, relative: str, content: str | bytes) -> bool:
        """Write a file unless it already holds ``content``. True if it was written."""
        _check_relative(relative)
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest = sha256_bytes(data)
        if relative in self.files and self.files[relative]["sha256"] == digest:
            self.use(relative)
            return False  # produced twice with the same bytes (shared media)
        if self._unchanged(relative, digest, len(data)):
            return self._record(relative, digest, len(data), changed=False)
        self._atomic(relative, lambda handle: handle.write(data))
        return self._record(relative, digest, len(data), changed=True)

    def use(self, relative: str) -> None:
        """A file this export already made is shown by the units open now too: each
        unit lists every file its pages need, so that a unit kept by a later export
        keeps them all, whichever unit happened to make them first."""
        if relative in self.files:
            for unit in self._open_units:
                unit.files.append(relative)

    def copy(self, relative: str, source: Path, digest: str | None = None) -> bool:
        """Copy a file in (media). ``digest`` (when known) saves hashing it again."""
        _check_relative(relative)
        if relative in self.files:
            self.use(relative)
            return False
        size = source.stat().st_size
        digest = digest or sha256_file(source)
        if self._unchanged(relative, digest, size):
            return self._record(relative, digest, size, changed=False)

        def fill(handle: IO[bytes]) -> None:
            with source.open("rb") as src:
                shutil.copyfileobj(src, handle, _CHUNK)

        self._atomic(relative, fill)
        return self._record(relative, digest, size, changed=True)

    @contextmanager
    def stream(self, relative: str) -> Iterator[IO[str]]:
        """A text file to write a large output into; kept only if it changed."""
        _check_relative(relative)
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".bc-", suffix=".tmp", dir=target.parent)
        temp_path = Path(temp)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                yield handle
            digest, size = sha256_file(temp_path), temp_path.stat().st_size
            if self._unchanged(relative, digest, size):
                temp_path.unlink()
                self._record(relative, digest, size, changed=False)
            else:
                os.chmod(temp_path, 0o644)
                self._defer(target, temp_path)
                self._record(relative, digest, size, changed=True)
        except OSError as exc:
            raise ExportError(self._failed(target, exc)) from exc
        finally:
            if temp_path.exists() and self._pending.get(target) != temp_path:
                temp_path.unlink()

    def _atomic(self, relative: str, fill: Any) -> None:
        target = self.root / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".bc-", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    fill(handle)
                os.chmod(temp, 0o644)
                self._defer(target, Path(temp))
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ExportError(self._failed(target, exc)) from exc

    def _defer(self, target: Path, temp: Path) -> None:
        earlier = self._pending.pop(target, None)
        if earlier is not None:
            earlier.unlink(missing_ok=True)
        self._pending[target] = temp

    def _failed(self, target: Path, exc: OSError) -> str:
        """One line for a write that failed; the previous site, if any, is untouched."""
        kept = ("the previous site is left as it was" if self._old_files
                else "no part of the site was put in place")  # fmt: skip
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return f"the disk is full (writing {target}): {kept}; free some space and export again"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"cannot write into {self.root} ({exc.strerror}): {kept}"
        return f"cannot write {target}: {exc}; {kept}"

    def abort(self) -> None:
        """Forget this export's new files: the previous site stays as it was."""
        for temp in self._pending.values():
            temp.unlink(missing_ok=True)
        self._pending.clear()

    # -- finishing ----------------------------------------------------------------

    def finish(self) -> WriteStats:
        """Put every new file in place, remove what the exporter wrote before and no
        longer produces, and save the manifest (last: it describes the new site)."""
        try:
            for target, temp in self._pending.items():
                os.replace(temp, target)
        except OSError as exc:
            self.abort()
            raise ExportError(f"cannot put the new site in place: {exc}") from exc
        self._pending.clear()
        for relative in sorted(set(self._old_files) - set(self.files)):
            self._remove(relative, self._old_files[relative])
        files = {k: self.files[k] for k in sorted(self.files)}
        units = {
            name: {"fingerprint": unit.fingerprint, "files": sorted(set(unit.files)),
                   "data": unit.data}
            for name, unit in sorted(self.units.items())
        }  # fmt: skip

        def fill(handle: Any) -> None:
            # An entry a line, each encoded whole (by json's C encoder: iterencode of the
            # whole manifest, in Python, was a tenth of an export after a few new posts),
            # never the whole text at once (that was the peak of memory on a large event).
            encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
            for name, entries in (("files", files), ("units", units)):
                handle.write(b"{\n" if name == "files" else b",\n")
                handle.write(f'"{name}": {{'.encode())
                for at, (key, value) in enumerate(entries.items()):
                    line = f"{',' if at else ''}\n{encode(key)}: {encode(value)}"
                    handle.write(line.encode("utf-8"))
                handle.write(b"}")
            handle.write(f',\n"version": {MANIFEST_VERSION}\n}}\n'.encode())

        target = self.root / MANIFEST
        self._atomic(MANIFEST, fill)
        written = self._pending.pop(target)
        if target.is_file() and sha256_file(target) == sha256_file(written):
            written.unlink()  # the same: the old file keeps its modification time
        else:
            os.replace(written, target)
        return self.stats

    def _remove(self, relative: str, entry: dict[str, Any]) -> None:
        target = self.root / relative
        if not target.is_file():
            return
        if target.stat().st_size != entry.get("size") or sha256_file(target) != entry.get("sha256"):
            log.warning("leaving %s: it changed since the exporter wrote it", target)
            return
        target.unlink()
        self.stats.removed += 1
        # Remove folders the exporter emptied, never the site root itself.
        parent = target.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
