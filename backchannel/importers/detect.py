"""Which format a file is in, from its first bytes (``import --format auto``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from backchannel.errors import InputError
from backchannel.importers.bluesky_car import looks_like_car
from backchannel.importers.mastodon_outbox import looks_like_outbox
from backchannel.importers.storify_html import looks_like_storify_html
from backchannel.importers.tags import looks_like_tags
from backchannel.importers.twitter_archive import looks_like_archive

_SNIFF = 64 * 1024


def detect_format(path: Path) -> str:
    """The format of ``path``, or an error that names the formats known."""
    with path.open("rb") as handle:
        raw = handle.read(_SNIFF)
    if looks_like_car(raw):
        return "bluesky-car"
    head = raw.decode("utf-8-sig", "replace")
    first = next((line for line in head.splitlines() if line.strip()), "").strip()
    if looks_like_archive(first):
        return "twitter-archive"
    if looks_like_outbox(head):
        return "mastodon-outbox"
    if looks_like_storify_html(head):
        return "storify"
    if first.startswith("{"):
        try:
            data = json.loads(first, strict=False)
        except ValueError:
            data = None
        if isinstance(data, dict) and _looks_like_twarc(data):
            return "twarc"
    if first.startswith("{") and '"elements"' in head and '"content"' in head:
        return "storify"  # one JSON document, maybe over many lines
    if first and looks_like_tags(next(csv.reader([first]), [])):
        return "tags"
    raise InputError(
        f"{path}: not a file backchannel recognises (a Storify story's JSON or HTML, a twarc "
        "JSON-lines capture, a TAGS CSV, a Twitter archive's tweets.js, a Mastodon archive's outbox.json, a Bluesky repository's .car); if it is one, say "
        "which with --format"
    )


def _looks_like_twarc(data: dict[str, object]) -> bool:
    return bool({"id_str", "user", "data", "author_id", "delete"} & set(data)) or (
        "id" in data and "text" in data
    )
