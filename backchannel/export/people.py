"""A page per person of an event: who they are and what they posted there, in order.

Only what the index publishes: an author left out under the consent rule has no page
and no link, a hidden post is not on it. Each page is a unit of its own, made from
its author's posts' keys (which carry the author's row and avatar), so a new post
renders its author's page again and no other. A post is shown as its text (plain,
escaped, bounded) linked to its place in the timeline, so that the page of someone who
posted a thousand times is still light on a phone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.context import AuthorView, TimeView, Views, time_view
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex, IndexedPost, chunks
from backchannel.export.writer import SiteWriter
from backchannel.store import Post

TEXT_LIMIT = 1000  # characters of a post's text on its author's page


@dataclass(frozen=True, slots=True)
class PersonPost:
    time: TimeView
    href: str  # the post in the timeline
    text: str  # plain text, bounded
    warning: str | None  # its content warning: the text is shown behind it
    reply_to: str | None  # the handle of the archived post it answers
    reply_href: str | None
    media: int
    featured: bool


@dataclass(frozen=True, slots=True)
class PersonPage:
    author: AuthorView
    posts: int


def write_people_pages(
    session: Session,
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    event_fingerprint: str,
    keys: dict[int, str],
) -> None:
    by_author: dict[int, list[IndexedPost]] = {}
    for post in index.posts:
        by_author.setdefault(post.author_id, []).append(post)
    slug = index.event.slug
    template = theme.get("person.html")
    for author_id, posts in by_author.items():
        digest = hashlib.sha256(event_fingerprint.encode())
        for post in posts:
            digest.update(keys[post.id].encode())
        fingerprint = digest.hexdigest()
        row = index.authors[author_id]
        unit = f"{slug}/person/{row.uri}"
        if writer.keep_unit(unit, fingerprint):
            continue
        with writer.unit(unit, fingerprint):
            author = views.author(author_id)
            html = template.render(**base, page_kind="person", person=PersonPage(author, len(posts)),
                                   posts=_entries(session, index, posts))  # fmt: skip
            writer.write(f"{slug}/{author.page}", html)


def _entries(session: Session, index: EventIndex, posts: list[IndexedPost]) -> list[PersonPost]:
    rows: dict[int, tuple[str, str | None]] = {}
    for chunk in chunks([p.id for p in posts]):
        query = select(Post.id, Post.text, Post.content_warning).where(Post.id.in_(chunk))
        rows.update((pid, (text or "", cw)) for pid, text, cw in session.execute(query))
    entries = []
    for post in posts:
        text, warning = rows.get(post.id, ("", None))
        if len(text) > TEXT_LIMIT:
            text = text[:TEXT_LIMIT].rstrip() + "…"
        parent = index.by_uri.get(post.reply_to_uri) if post.reply_to_uri else None
        entries.append(PersonPost(
            time_view(post.created_at, index.zone), post.href, text,
            (warning or "").strip() or None,
            index.authors[parent.author_id].handle if parent else None,
            parent.href if parent else None,
            len(index.media.get(post.id, ())), post.featured,
        ))  # fmt: skip
    return entries
