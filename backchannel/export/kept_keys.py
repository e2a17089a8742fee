"""The posts' keys kept between exports: made again only for the posts whose inputs
may have changed.

A post's key (:class:`backchannel.export.timeline.PostKeys`) digests what its HTML
shows: its own row, its author, media and tags (all stamped when they change: the
post is in the :class:`~backchannel.export.kept_index.Patch`), and what it shows of
other posts or of the pages: the page it sits on, its parent's place and first line,
the conversation it belongs to and the post it quotes. An export after a patched index
makes the key again for

* the posts the patch read again;
* the posts whose page or conversation link changed (new posts move others to the
  next page; a new reply grows a conversation);
* the replies to and quotes of any of these, or of a post that dropped out, and so
  on up quote chains (a quote shows the quoted post whole);

and takes every other key from the last export's (``.backchannel-index/<event>.keys``,
written beside the kept index with the event's fingerprint: another theme, setting or
emoji store makes every key again). Making every key was a tenth of an export after
1% new posts.
"""

from __future__ import annotations

import base64
import json
import logging
from array import array
from pathlib import Path
from typing import Any

from backchannel.export.kept_index import FOLDER, Patch, Pending, stage
from backchannel.export.packed import KEY_BYTES, KeyColumn
from backchannel.export.selection import EventIndex
from backchannel.export.threads import thread_links

log = logging.getLogger(__name__)

FORMAT = 1


def keys_for(
    post_keys: Any,
    index: EventIndex,
    out: Path,
    patch: Patch | None,
    mark: str | None,
    pending: Pending,
) -> KeyColumn:
    """Every post's key (``post_keys``: a ``timeline.PostKeys``), the unchanged ones
    taken from the last export's when they were made from the index ``patch``
    patched; kept for the next export (in ``pending``) with the index's ``mark``."""
    path = out / FOLDER / f"{index.event.slug}.keys.json"
    threads = {post: [link.href, link.posts] for post, link in thread_links(index).items()}
    pages = [post.page for post in index.posts]
    kept = None
    if patch is not None:
        kept = _load(path, post_keys.event_fingerprint, patch.since)
    if kept is None or patch is None:
        keys = post_keys.column()
    else:
        keys = _patched(post_keys, index, kept, patch, threads, pages)
    if mark is not None:
        stage(pending, path, _state(post_keys.event_fingerprint, mark, index, keys, threads, pages))
    return keys


def _patched(
    post_keys: Any,
    index: EventIndex,
    kept: dict[str, Any],
    patch: Patch,
    threads: dict[int, list[Any]],
    pages: list[str],
) -> KeyColumn:
    columns = index.columns
    old_ids: array[int] = kept["ids"]
    old_row = {post: row for row, post in enumerate(old_ids)}
    old_keys: bytes = kept["keys"]
    old_pages: list[str] = kept["pages"]
    old_threads: dict[int, list[Any]] = kept["threads"]
    again: set[int] = set()  # rows whose key is made again
    for row, post in enumerate(columns.ids):
        before = old_row.get(post)
        if (before is None or post in patch.ids or old_pages[before] != pages[row]
                or old_threads.get(post) != threads.get(post)):  # fmt: skip
            again.add(row)
    # Replies and quotes of those (and of posts gone), up the chains.
    dirty = set(patch.uris)
    added = again
    while added:
        dirty.update(columns.uris[row] for row in added)
        added = {row for mapping in (columns.replies, columns.quotes)
                 for row, uri in mapping.items() if uri in dirty and row not in again}  # fmt: skip
        again |= added
    digests = bytearray()
    for post in index.posts:
        row = post.row
        if row in again:
            digests += post_keys.digest(post)
        else:
            at = old_row[columns.ids[row]] * KEY_BYTES
            digests += old_keys[at : at + KEY_BYTES]
    return KeyColumn(bytes(digests))


def _state(fingerprint: str, mark: str, index: EventIndex, keys: KeyColumn,
           threads: dict[int, list[Any]], pages: list[str]) -> str:  # fmt: skip
    """The keys as kept, with the mark of the index they were made from: keys made
    from another (an export that kept its index, then failed before its keys) are
    not taken."""
    return json.dumps({
        "format": FORMAT,
        "fingerprint": fingerprint,
        "mark": mark,
        "ids": base64.b64encode(index.columns.ids.tobytes()).decode("ascii"),
        "keys": base64.b64encode(keys.digests).decode("ascii"),
        "pages": pages,
        "threads": threads,
    }, separators=(",", ":"))  # fmt: skip


def _load(path: Path, fingerprint: str, mark: str) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if (state.get("format"), state.get("fingerprint"), state.get("mark")) != (
            FORMAT, fingerprint, mark,
        ):  # fmt: skip
            return None
        ids = array("q")
        ids.frombytes(base64.b64decode(state["ids"]))
        keys = base64.b64decode(state["keys"])
        pages, threads = state["pages"], state["threads"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("making every key of %s: its kept keys are unreadable (%s)", path.name, exc)
        return None
    if len(keys) != KEY_BYTES * len(ids) or len(pages) != len(ids):
        return None
    return {"ids": ids, "keys": keys, "pages": pages,
            "threads": {int(post): link for post, link in threads.items()}}  # fmt: skip
