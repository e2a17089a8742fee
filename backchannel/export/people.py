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

from backchannel.export.context import AuthorView, Views
from backchannel.export.dates import TimeView
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex, KeyColumn, PostRows, chunks
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
    keys: KeyColumn,
) -> None:
    by_author: dict[int, PostRows] = {}
    for row, author_id in enumerate(index.columns.authors):
        posts = by_author.get(author_id)
        if posts is None:
            posts = by_author[author_id] = PostRows(index.columns)
        posts.rows.append(row)
    slug = index.event.slug
    template = theme.get("person.html")
    due: list[tuple[str, str, PostRows]] = []
    for author_id, posts in by_author.items():
        digest = hashlib.sha256(event_fingerprint.encode())
        for post in posts:
            digest.update(keys.raw(post))
        unit = f"{slug}/person/{index.authors[author_id].uri}"
        if not writer.keep_unit(unit, digest.hexdigest()):
            due.append((unit, digest.hexdigest(), posts))
    # The texts of a batch of people's posts in one query (one per person cost more
    # than their pages), never the whole event's at once.
    for batch in _batches(due):
        texts = texts_of(session, [p.id for _, _, posts in batch for p in posts])
        for unit, fingerprint, posts in batch:
            with writer.unit(unit, fingerprint):
                author = views.author(posts[0].author_id)
                html = template.render(**base, page_kind="person",
                                       person=PersonPage(author, len(posts)),
                                       posts=_entries(index, posts, texts))  # fmt: skip
                writer.write(f"{slug}/{author.page}", html)


def _batches(
    due: list[tuple[str, str, PostRows]], size: int = 2000
) -> list[list[tuple[str, str, PostRows]]]:
    batches: list[list[tuple[str, str, PostRows]]] = [[]]
    count = 0
    for item in due:
        if batches[-1] and count + len(item[2]) > size:
            batches.append([])
            count = 0
        batches[-1].append(item)
        count += len(item[2])
    return [b for b in batches if b]


def bounded(text: str) -> str:
    """A post's text as these pages show it: up to :data:`TEXT_LIMIT` characters."""
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT].rstrip() + "…"


def texts_of(session: Session, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """The text and content warning of each post of ``ids``."""
    texts: dict[int, tuple[str, str | None]] = {}
    connection = session.connection()  # Core rows: no ORM work per row
    for chunk in chunks(ids):
        query = select(Post.id, Post.text, Post.content_warning).where(Post.id.in_(chunk))
        texts.update((pid, (text or "", cw)) for pid, text, cw in connection.execute(query))
    return texts


def _entries(
    index: EventIndex, posts: PostRows, texts: dict[int, tuple[str, str | None]]
) -> list[PersonPost]:
    entries = []
    for post in posts:
        text, warning = texts.get(post.id, ("", None))
        text = bounded(text)
        parent = index.by_uri.get(post.reply_to_uri) if post.reply_to_uri else None
        entries.append(PersonPost(
            index.dates.time(post.created_at), post.href, text,
            (warning or "").strip() or None,
            index.authors[parent.author_id].handle if parent else None,
            parent.href if parent else None,
            len(post.media), post.featured,
        ))  # fmt: skip
    return entries
