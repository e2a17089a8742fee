"""A page per session of the event's schedule (``session-<n>.html``): its title and
time, its most answered and most boosted posts, and all its posts as their text,
each linked to its place in the timeline. A post is the session's when the day pages
put it under the session's heading (:class:`~backchannel.export.sections.Sectioner`).
Each page is a unit made from its posts' keys and the schedule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backchannel.export.context import Views
from backchannel.export.environment import Theme
from backchannel.export.people import texts_of
from backchannel.export.sections import Section, Sectioner
from backchannel.export.selection import EventIndex, IndexedPost, KeyColumn
from backchannel.export.thread_pages import text_post
from backchannel.export.threads import answers
from backchannel.export.writer import SiteWriter

TOP = 3  # posts in each of "most answered" and "most boosted"


@dataclass(frozen=True, slots=True)
class SessionPage:
    title: str
    date: str  # "Thursday 14 November 2013"
    start: str
    end: str
    posts: int
    room: str = ""


def write_session_pages(
    session: Session,
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    event_fingerprint: str,
    keys: KeyColumn,
    sectioner: Sectioner,
) -> None:
    members: dict[str, tuple[Section, list[IndexedPost]]] = {}
    for post in index.posts:
        section = sectioner.of(post)
        if section.session:
            members.setdefault(section.key, (section, []))[1].append(post)
    children = answers(index)
    replies = {pid: len(posts) for pid, posts in children.items()}
    template = theme.get("session.html")
    slug = index.event.slug
    for section, posts in members.values():
        digest = hashlib.sha256(f"{event_fingerprint}|{section}".encode())
        for post in posts:
            # Its boosts show here (not in a post's key: the timeline does not show them).
            digest.update(f"{keys[post]}:{replies.get(post.id, 0)}:{post.counts[1]};".encode())
        unit = f"{slug}/session/{section.page}"
        if writer.keep_unit(unit, digest.hexdigest()):
            continue
        with writer.unit(unit, digest.hexdigest()):
            texts = texts_of(session, [post.id for post in posts])
            entries = [text_post(views, index, post, texts) for post in posts]
            by_id = {post.id: entry for post, entry in zip(posts, entries, strict=True)}
            answered = sorted((p for p in posts if p.id in replies),
                              key=lambda p: (-replies[p.id], p.created_at))[:TOP]  # fmt: skip
            boosted = sorted((p for p in posts if p.counts[1]),
                             key=lambda p: (-p.counts[1], p.created_at))[:TOP]  # fmt: skip
            page = SessionPage(section.label, index.dates.date(posts[0].day), section.start,
                               section.end, len(posts), section.room)  # fmt: skip
            html = template.render(
                **base, page_kind="session", session=page, posts=entries,
                answered=[(by_id[p.id], replies[p.id]) for p in answered],
                boosted=[(by_id[p.id], p.counts[1]) for p in boosted],
            )  # fmt: skip
            writer.write(f"{slug}/{section.page}", html)
