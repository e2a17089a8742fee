"""An event's index kept between exports and patched with the posts changed since.

Reading an event's every post was most of what an export after a few new posts cost
(issue 37). The index the last export read is kept in the site folder
(``.backchannel-index/<event>.json``) with the database's *mark* at that moment
(:func:`backchannel.store.changes.change_mark`) and a fingerprint of everything
event-wide the selection depends on (the consent policy, the export's consent options,
the imported-posts rule, the time zone). The next export, finding the same
fingerprint, asks which posts were stamped since the mark, reads only those
(:func:`backchannel.export.selection.load_index` with ``only``), and merges them into
the kept columns in their chronological places: a changed post that is now hidden,
deleted or left out drops out; one that is new or changed takes its new row.

Anything else (no kept index, another fingerprint, a database without stamps, more
changed posts than a patch is worth, an unreadable file) reads the event whole. The
file holds what the pages publish (the published posts' light rows) and, for the
counts on the About page, the internal ids of the posts left out with their reason:
nothing of their content. It need not be uploaded with the site.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
from array import array
from bisect import bisect_left
from contextlib import suppress
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from backchannel import __version__
from backchannel.consent import imported_rule
from backchannel.export.columns import PostColumns, PostRange
from backchannel.export.selection import (
    AuthorRow,
    EventIndex,
    MediaRow,
    count_sightings,
    day_ranges,
    event_policy,
    load_index,
)
from backchannel.store import Event, change_mark, changed_posts

log = logging.getLogger(__name__)

FOLDER = ".backchannel-index"
FORMAT = 1
# The arrays of PostColumns kept as bytes (pages are not: pagination makes them again).
ARRAYS = ("ids", "created", "authors", "platforms", "languages", "days", "flags", "versions",
          "counts", "tag_sets", "link_sets", "media_sets", "sighting_sets")  # fmt: skip
PATCH_SHARE = 4  # more changed posts than a quarter of the kept ones: read it whole


@dataclass(frozen=True)
class Patch:
    """The posts a patched index read again: their ids, and their URIs before and
    after (a post that dropped out is among them); the mark of the index it patched."""

    ids: frozenset[int]
    uris: frozenset[str]
    since: str


Pending = dict[Path, Path]  # kept file -> its new text, renamed once the site is in place


def stage(pending: Pending, path: Path, text: str) -> None:
    """Write what to keep beside ``path`` now (not held in memory to the end of the
    export); :func:`write_kept` puts it in place. One that cannot be written is only a
    cost: the next export reads its event whole."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
    except OSError as exc:
        log.warning("could not keep %s: %s", path.name, exc)
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        return  # the old one stays: it still says what the database held at its mark
    pending[path] = temporary


def write_kept(pending: Pending) -> None:
    """Put what :func:`stage` wrote in place. Only after the export put the new site in
    place: a failed export leaves the folder as it was (:func:`discard_kept`)."""
    for path, temporary in pending.items():
        try:
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("could not keep %s: %s", path.name, exc)
    pending.clear()


def discard_kept(pending: Pending) -> None:
    for temporary in pending.values():
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
    pending.clear()


def event_index(
    session: Session,
    event: Event,
    out: Path,
    allow_bots: bool,
    default_opt_in: bool,
    locale: str,
    pending: Pending,
) -> tuple[EventIndex, Patch | None, str | None]:
    """The event's index, patched from the kept one when it can be, and kept for the
    next export (in ``pending``); what the patch read (None: read whole); the mark
    the index is kept with (None: not kept)."""
    mark = change_mark(session)  # before any post is read
    wide = _wide_fingerprint(session, event, allow_bots, default_opt_in)
    path = out / FOLDER / f"{event.slug}.json"
    index: EventIndex | None = None
    patch: Patch | None = None
    kept = _load(path, wide) if mark is not None else None
    if kept is not None:
        changed = changed_posts(session, kept["mark"])
        if changed is not None and len(changed) * PATCH_SHARE <= max(len(kept["ids"]), 1000):
            fresh = load_index(session, event, allow_bots, default_opt_in, locale, only=changed)
            try:
                old = _restore(kept, event, fresh)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                log.warning("reading %s whole: its kept index is damaged (%s)", event.slug, exc)
            else:
                index = _merge(old, fresh, changed)
                uris = {old.columns.uris[row] for row, post in enumerate(old.columns.ids)
                        if post in changed}  # fmt: skip
                patch = Patch(frozenset(changed), frozenset(uris.union(fresh.columns.uris)),
                              kept["mark"])  # fmt: skip
    if index is None:
        index = load_index(session, event, allow_bots, default_opt_in, locale)
    if mark is not None:
        stage(pending, path, _state(index, mark, wide))
    return index, patch, mark


def _wide_fingerprint(session: Session, event: Event, allow_bots: bool,
                      default_opt_in: bool) -> str:  # fmt: skip
    """What every post's selection depends on beside its own rows."""
    policy = event_policy(session, event, allow_bots, default_opt_in)
    rule = imported_rule(session, event)
    # The database: a site exported from another one (or a file put in its place)
    # must not be patched with this one's stamps.
    url = session.get_bind().url
    place = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database:
        with suppress(OSError):
            stat = os.stat(url.database)
            place += f"|{stat.st_dev}:{stat.st_ino}"
    parts = [
        FORMAT, __version__, sys.byteorder, place, event.id, event.timezone, allow_bots,
        default_opt_in,
        policy.opt_in, policy.allow_bots, sorted(policy.allowed), sorted(policy.denied),
        rule.story_only, sorted(rule.imported_only), sorted(rule.in_stories),
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def _state(index: EventIndex, mark: str, wide: str) -> str:
    """The index as kept: JSON, the arrays as base64."""
    columns = index.columns
    sets, media_lists, codes = _compacted(columns)
    state: dict[str, Any] = {
        "format": FORMAT,
        "mark": mark,
        "wide": wide,
        "arrays": {name: _b64(codes.get(name, getattr(columns, name))) for name in ARRAYS},
        "uris": list(columns.uris),
        "names": columns.names,
        "sets": sets,
        "media": [[_values(m) for m in media] for media in media_lists],
        "replies": columns.replies,
        "quotes": columns.quotes,
        "edited": {row: moment.isoformat() for row, moment in columns.edited.items()},
        "authors": [_values(a) for a in index.authors.values()],
        "avatars": [_values(m) for m in index.avatars.values()],
        "excluded": index.excluded_posts,
    }
    return json.dumps(state, separators=(",", ":"))


_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (AuthorRow, MediaRow)}


def _values(row: AuthorRow | MediaRow) -> list[Any]:
    """A row's fields, in order (``dataclasses.astuple`` copies deeply: 10x slower)."""
    return [getattr(row, name) for name in _FIELDS[type(row)]]


def _compacted(columns: PostColumns) -> tuple[list[Any], list[Any], dict[str, array[int]]]:
    """The sets and media lists the rows still use (a patch leaves the replaced ones
    behind), and the rows' codes into them."""
    sets: list[tuple[str, ...]] = [()]
    set_codes: dict[int, int] = {0: 0}
    codes: dict[str, array[int]] = {}
    for name in ("tag_sets", "link_sets", "sighting_sets"):
        column = array("I")
        for code in getattr(columns, name):
            new = set_codes.get(code)
            if new is None:
                new = set_codes[code] = len(sets)
                sets.append(columns.sets[code])
            column.append(new)
        codes[name] = column
    media_lists: list[list[Any]] = [[]]
    column = array("I")
    for code in columns.media_sets:
        if code:
            column.append(len(media_lists))
            media_lists.append(columns.media_lists[code])
        else:
            column.append(0)
    codes["media_sets"] = column
    return sets, media_lists, codes


def _load(path: Path, wide: str) -> dict[str, Any] | None:
    """The kept state, if it is this format's and for the same selection."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("reading %s whole: its kept index is unreadable (%s)", path.name, exc)
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("wide") != wide:
        return None
    try:
        state["ids"] = _array("q", state["arrays"]["ids"])
    except (KeyError, TypeError, ValueError):
        return None
    return state


def _b64(values: array[int]) -> str:
    return base64.b64encode(values.tobytes()).decode("ascii")


def _array(kind: str, text: str) -> array[int]:
    values = array(kind)
    values.frombytes(base64.b64decode(text))
    return values


def _restore(state: dict[str, Any], event: Event, fresh: EventIndex) -> EventIndex:
    """The kept index as it was written, for ``event`` (whose policy and zone ``fresh``
    has from this export)."""
    index = EventIndex(event=event, zone=fresh.zone, policy=fresh.policy, locale=fresh.locale)
    columns = index.columns
    kinds = {name: getattr(columns, name).typecode for name in ARRAYS}
    for name in ARRAYS:
        setattr(columns, name, _array(kinds[name], state["arrays"][name]))
    for uri in state["uris"]:
        columns.uris.append(uri)
    columns.pages = array("I", bytes(4 * len(columns.ids)))
    columns.names = list(state["names"])
    columns._codes = {name: code for code, name in enumerate(columns.names)}
    columns.sets = [tuple(values) for values in state["sets"]]
    columns.media_lists = [[MediaRow(*m) for m in media] for media in state["media"]]
    columns.replies = {int(row): uri for row, uri in state["replies"].items()}
    columns.quotes = {int(row): uri for row, uri in state["quotes"].items()}
    columns.edited = {int(row): datetime.fromisoformat(text)
                      for row, text in state["edited"].items()}  # fmt: skip
    index.authors = {row[0]: AuthorRow(*row) for row in state["authors"]}
    index.avatars = {row[2]: MediaRow(*row) for row in state["avatars"]}
    index.excluded_posts = {int(post): reason for post, reason in state["excluded"].items()}
    _check(columns)
    return index


def _check(columns: PostColumns) -> None:
    """A kept file someone changed, or cut: its columns must agree (ValueError)."""
    rows = len(columns.ids)
    lengths = {len(getattr(columns, name)) for name in ARRAYS if name != "counts"}
    if lengths != {rows} or len(columns.counts) != 4 * rows or len(columns.uris) != rows:
        raise ValueError("its columns differ in length")
    if any(row >= rows for mapping in (columns.replies, columns.quotes, columns.edited)
           for row in mapping):  # fmt: skip
        raise ValueError("a row beyond the last")
    for name, limit in (("platforms", len(columns.names)), ("languages", len(columns.names)),
                        ("days", len(columns.names)), ("tag_sets", len(columns.sets)),
                        ("link_sets", len(columns.sets)), ("sighting_sets", len(columns.sets)),
                        ("media_sets", len(columns.media_lists))):  # fmt: skip
        if rows and max(getattr(columns, name)) >= limit:
            raise ValueError(f"a code beyond its list ({name})")


def _merge(kept: EventIndex, fresh: EventIndex, changed: set[int]) -> EventIndex:
    """The kept rows but the changed ones, and ``fresh``'s rows (the changed posts as
    they are now), in the index's order (time, then URI). The kept rows are copied a
    run at a time (slices of the arrays), the few fresh ones a row at a time."""
    index = EventIndex(event=kept.event, zone=kept.zone, policy=kept.policy, locale=kept.locale)
    old, new, columns = kept.columns, fresh.columns, index.columns
    columns.names, columns._codes = old.names, old._codes
    columns.sets, columns.media_lists = old.sets, old.media_lists
    # Codes of fresh's names, sets and media lists in the kept ones'.
    codes = _Codes(
        [columns.code(name) for name in new.names],
        [_set_code(columns, values) for values in new.sets],
        [0] + [_media_code(columns, media) for media in new.media_lists[1:]],
    )
    # Where each fresh row goes among the kept ones (before the first that sorts after
    # it), and which kept rows drop out: in the order of the merged index.
    steps: list[tuple[int, int, int]] = []
    for row in range(len(new.ids)):
        key = (new.created[row], new.uris[row])
        point = bisect_left(range(len(old.ids)), key,
                            key=lambda r: (old.created[r], old.uris[r]))  # fmt: skip
        steps.append((point, 0, row))
    # A scan, not the lookup by id: that is made (two sorts) only for the merged index.
    steps += [(row, 1, row) for row, post in enumerate(old.ids) if post in changed]
    steps.sort()
    moved = array("i", bytes(4 * len(old.ids)))  # kept row -> its row + 1 (0: dropped)
    start = 0
    for point, drop, row in steps:
        _copy_run(old, start, max(start, point), columns, moved)
        start = max(start, point)
        if drop:
            start = row + 1
        else:
            _copy_row(new, row, columns, codes)
    _copy_run(old, start, len(old.ids), columns, moved)
    for name in ("replies", "quotes", "edited"):
        target = getattr(columns, name)
        for row, value in getattr(old, name).items():
            if moved[row]:
                target[moved[row] - 1] = value
    published = set(columns.authors)
    index.authors = {a: row for a, row in {**kept.authors, **fresh.authors}.items()
                     if a in published}  # fmt: skip
    index.avatars = {a: row for a, row in kept.avatars.items()
                     if a in published and a not in fresh.authors}  # fmt: skip
    index.avatars.update({a: row for a, row in fresh.avatars.items() if a in published})
    excluded = {p: r for p, r in kept.excluded_posts.items() if p not in changed}
    excluded.update(fresh.excluded_posts)
    index.excluded_posts = excluded
    counts: dict[str, int] = {}
    for reason in excluded.values():
        counts[reason] = counts.get(reason, 0) + 1
    index.excluded = dict(sorted(counts.items()))
    day_ranges(index)
    columns.finish()
    index.posts = PostRange(columns)
    count_sightings(index)
    return index


@dataclass
class _Codes:
    """Codes of a fresh index's names, sets and media lists in the merged one's."""

    names: list[int]
    sets: list[int]
    media: list[int]


def _set_code(columns: PostColumns, values: tuple[str, ...]) -> int:
    if not values:
        return 0
    columns.sets.append(values)
    return len(columns.sets) - 1


def _media_code(columns: PostColumns, media: list[Any]) -> int:
    columns.media_lists.append(media)
    return len(columns.media_lists) - 1


def _copy_run(source: PostColumns, start: int, stop: int, target: PostColumns,
              moved: array[int]) -> None:  # fmt: skip
    """Append ``source``'s rows ``start`` to ``stop`` (codes shared) to ``target``."""
    if stop <= start:
        return
    at = len(target.ids)
    moved[start:stop] = array("i", range(at + 1, at + 1 + stop - start))
    for name in ARRAYS:
        if name != "counts":
            getattr(target, name).extend(getattr(source, name)[start:stop])
    target.counts.extend(source.counts[4 * start : 4 * stop])  # four a row
    target.pages.extend(array("I", bytes(4 * (stop - start))))
    for row in range(start, stop):
        target.uris.append(source.uris[row])


def _copy_row(source: PostColumns, row: int, target: PostColumns, codes: _Codes) -> None:
    """Append ``source``'s row to ``target``, its codes turned into ``target``'s."""
    at = len(target.ids)
    for name in ("replies", "quotes", "edited"):
        if row in getattr(source, name):
            getattr(target, name)[at] = getattr(source, name)[row]
    target.ids.append(source.ids[row])
    target.uris.append(source.uris[row])
    for name in ("created", "authors", "flags", "versions"):
        getattr(target, name).append(getattr(source, name)[row])
    for name in ("platforms", "languages", "days"):
        getattr(target, name).append(codes.names[getattr(source, name)[row]])
    for name in ("tag_sets", "link_sets", "sighting_sets"):
        getattr(target, name).append(codes.sets[getattr(source, name)[row]])
    target.media_sets.append(codes.media[source.media_sets[row]])
    target.counts.extend(source.counts[4 * row : 4 * row + 4])
    target.pages.append(0)
