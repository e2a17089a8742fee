""" "About this archive": the organiser's contact, the consent policy in force, how to
ask for removal, and how many posts were left out, by reason (never which ones).

The site has one (``about.html``: the defaults and every event) and each event has
its own (``<slug>/about.html``), so the footer's relative link works on every page.
Counts are what the store declined at collection (:mod:`backchannel.consent.exclusions`) plus
what the consent rule leaves out of the stored posts at this export. The files posts
were imported from are named, with what they could not be (re-checked at the source).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.consent import Policy, describe, exclusions
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex
from backchannel.export.writer import SiteWriter
from backchannel.store import ImportRecord, PostSighting


def left_out(session: Session, index: EventIndex) -> list[tuple[str, int]]:
    """Posts of the event left out, by reason, largest first."""
    total: Counter[str] = Counter(index.excluded)
    total.update(exclusions.counts(session, index.event.id))
    return sorted(total.items(), key=lambda item: (-item[1], item[0]))


def write_event_about(
    session: Session, theme: Theme, writer: SiteWriter, index: EventIndex, base: dict[str, Any]
) -> None:
    counts = left_out(session, index)
    writer.write(
        f"{index.event.slug}/about.html",
        theme.get("about.html").render(
            **base, page_kind="about", policy=describe(index.policy), counts=counts,
            left_out=sum(n for _, n in counts), events=(), sources=sources(index),
            imports=imports(session, index), imported_story_only=index.event.imported != "all",
        ),
    )  # fmt: skip


def sources(index: EventIndex) -> list[tuple[str, str]]:
    """Where the event's posts were read: (server, what it runs), in the order added."""
    return [(urlsplit(s.base_url).netloc or s.base_url,
             "a fediverse server" if s.platform != "bluesky" and not s.software else s.software_label)
            for s in index.event.sources]  # fmt: skip


def imports(session: Session, index: EventIndex) -> list[tuple[str, str, int, str]]:
    """The files the event's posts were imported from: (name, the tool that made it or
    its format, posts published that were seen in it, the date it captured them or ""),
    in the order imported."""
    records = session.scalars(
        select(ImportRecord)
        .where(ImportRecord.event_id == index.event.id)
        .order_by(ImportRecord.id)
    ).all()
    if not records:
        return []
    published: Counter[str] = Counter()
    query = select(PostSighting.server, PostSighting.post_id).where(
        PostSighting.server.in_([r.server for r in records])
    )
    for server, post_id in session.execute(query):
        if index.columns.row_of_id(post_id) is not None:
            published[server] += 1
    return [(r.file_name, r.tool or r.format, published[r.server],
             _day(index, r.captured_at)) for r in records]  # fmt: skip


def _day(index: EventIndex, moment: datetime | None) -> str:
    """A capture's date in the archive's words and the event's zone, or ""."""
    if moment is None:
        return ""
    return index.dates.long_date(moment.astimezone(index.zone).date().isoformat())


def write_site_about(
    theme: Theme, writer: SiteWriter, site: Any, events: list[Any], default: Policy
) -> None:
    writer.write(
        "about.html",
        theme.get("about.html").render(
            site=site, root="", event=None, page_kind="about", policy=describe(default),
            counts=(), left_out=0, events=events, sources=(), imports=(),
        ),
    )  # fmt: skip
