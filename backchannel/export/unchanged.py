"""An event none of whose inputs changed since the last export keeps its pages unread.

An event's *stamp* joins the database's change count
(:func:`backchannel.store.changes.change_count`), the theme (which carries
backchannel's version), every export option and the search tool's version. The
exporter records it with each event it renders; when the next export finds the same
stamp and every file of the event's units still as written, it keeps them all without
loading a post: a live export after a collection that found nothing costs next to
nothing. Without a trustworthy count there is no stamp, and the event is rendered
(which itself re-renders only what changed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from backchannel.export.writer import SiteWriter


def unit_name(slug: str) -> str:
    return f"{slug}/stamp"


def event_stamp(
    count: int | None, slug: str, theme_fingerprint: str, options: Any, search_version: str
) -> str | None:
    if count is None:
        return None
    settings = {k: str(v) for k, v in asdict(options).items() if k != "out"}
    text = json.dumps([count, slug, theme_fingerprint, settings, search_version], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class KeptEvent:
    summary: dict[str, Any]  # the EventView's fields, as the summary unit holds them
    posts: int
    excluded: dict[str, int] = field(default_factory=dict)


def keep_event(writer: SiteWriter, slug: str, stamp: str | None) -> KeptEvent | None:
    """The event's units kept as they were, if its stamp is the last export's."""
    if stamp is None:
        return None
    recorded = writer.previous_unit_data(unit_name(slug))
    if recorded is None or recorded.get("stamp") != stamp:
        return None
    summary = writer.previous_unit_data(f"{slug}/summary")
    if summary is None or not writer.keep_units(f"{slug}/"):
        return None
    return KeptEvent(summary, int(recorded.get("posts") or 0), dict(recorded.get("excluded") or {}))


def record(writer: SiteWriter, slug: str, stamp: str | None, posts: int,
           excluded: dict[str, int]) -> None:  # fmt: skip
    """What the next export compares with (a unit of no files)."""
    with writer.unit(unit_name(slug), stamp or "") as unit:
        unit.data = {"stamp": stamp, "posts": posts, "excluded": excluded}
