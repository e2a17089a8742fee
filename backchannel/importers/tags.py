"""TAGS archives: the "Archive" sheet of Martin Hawksey's Twitter Archiving Google Sheet,
saved as CSV.

A row per tweet, columns named after the API's fields: ``id_str``, ``from_user``,
``text``, ``created_at`` (the API's ``Wed Mar 20 09:15:00 +0000 2013``; the ``time``
column is the sheet's own rendering of it and is not read), ``from_user_id_str``,
``in_reply_to_status_id_str``, ``profile_image_url``, ``status_url``, and
``entities_str``: the tweet's entities as JSON inside the cell.

The trap: a spreadsheet may have turned an id into a number and written it back as
``1.26426E+18``, its last digits lost. Such an id is never guessed at: the tweet's
``status_url`` gives it whole when present; otherwise the row is skipped as "id written
as a float" and named. A row cut short (fewer cells than the header), or one the CSV
reader refuses, is named by its line.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backchannel.importers.base import BATCH, Batch
from backchannel.importers.entities import entities_v1
from backchannel.importers.tweets import Unusable, make_post, media_v1, tweet_id

HEADER = ("id_str", "from_user", "text", "created_at")
_STATUS = re.compile(r"/status(?:es)?/([0-9]{1,25})(?:[/?#]|$)")


def looks_like_tags(header: list[str]) -> bool:
    return all(name in header for name in HEADER)


def read_tags(path: Path) -> Iterator[Batch]:
    """The posts of a TAGS CSV file, :data:`~backchannel.importers.base.BATCH` at a time."""
    csv.field_size_limit(min(sys.maxsize, 1 << 24))  # entities_str cells can be long
    batch = Batch(tool="TAGS")
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if not looks_like_tags(header):
            batch.problems.append("line 1: not a TAGS header (id_str, from_user, text, created_at)")
            yield batch
            return
        rows = iter(reader)
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                batch.read += 1
                batch.skip("unreadable line", f"line {reader.line_num}", str(exc))
                continue
            number = reader.line_num
            batch.position = number
            if not any(cell.strip() for cell in cells):
                continue
            batch.read += 1
            if len(cells) < len(header):
                batch.skipped["unreadable line"] += 1
                batch.problems.append(f"line {number}: cut short ({len(cells)} of "
                                      f"{len(header)} cells)")  # fmt: skip
                continue
            try:
                batch.posts.append(_post(dict(zip(header, cells, strict=False))))
            except Unusable as exc:
                batch.skip(str(exc), f"line {number}")
            if len(batch.posts) >= BATCH:
                yield batch
                batch = batch.after()
    yield batch


def _id(row: dict[str, str]) -> str:
    try:
        return tweet_id(row.get("id_str", ""))
    except Unusable:
        found = _STATUS.search(row.get("status_url", ""))
        if found:  # the permalink keeps every digit the sheet lost
            return found.group(1)
        raise


def _post(row: dict[str, str]) -> Any:
    tweet = _id(row)
    user_id = row.get("from_user_id_str", "").strip()
    if not re.fullmatch(r"[0-9]{1,25}", user_id):
        user_id = ""  # an account known by its name only (or an id the sheet rounded)
    handle = row.get("from_user", "").strip().lstrip("@")
    if not handle:
        raise Unusable("no from_user")
    user = {"id_str": user_id, "screen_name": handle, "name": handle,
            "profile_image_url": row.get("profile_image_url", "")}  # fmt: skip
    try:
        entities = json.loads(row.get("entities_str") or "{}", strict=False)
    except ValueError:
        entities = {}  # the text stays; its links and tags are not marked up
    if not isinstance(entities, dict):
        entities = {}
    media = entities.get("media") if isinstance(entities.get("media"), list) else []
    reply_to = row.get("in_reply_to_status_id_str", "").strip()
    raw = {k: v for k, v in row.items() if v}
    return make_post(
        tweet_id_text=tweet,
        user=user,
        created=row.get("created_at"),
        text=row.get("text", ""),
        entities=entities_v1(entities, {m.get("url") for m in media if isinstance(m, dict)}),
        media=media_v1(media),
        raw=raw,
        language=row.get("user_lang"),
        reply_to=reply_to if re.fullmatch(r"[0-9]{1,25}", reply_to) else None,
    )
