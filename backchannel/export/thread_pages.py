"""A page per conversation (``thread-<anchor>.html``): its posts as one, each under the
post it answers, as their text linked to their place in the timeline.

Each page is a unit of its own made from its posts' keys: a new reply renders its
conversation's page again and no other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backchannel.export.context import AuthorView, Views
from backchannel.export.dates import TimeView
from backchannel.export.environment import Theme
from backchannel.export.page_files import thread_file
from backchannel.export.people import bounded, texts_of
from backchannel.export.selection import EventIndex, IndexedPost, KeyColumn
from backchannel.export.threads import threads
from backchannel.export.writer import SiteWriter


@dataclass(frozen=True, slots=True)
class ThreadPost:
    author: AuthorView
    time: TimeView
    href: str  # the post in the timeline
    text: str  # plain text, bounded
    warning: str | None  # its content warning: the text is shown behind it
    depth: int  # 0: the first post; 1: an answer to it ...
    answering: str | None  # the handle of the author it answers
    media: int


def write_thread_pages(
    session: Session,
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    event_fingerprint: str,
    keys: KeyColumn,
) -> None:
    slug = index.event.slug
    template = theme.get("thread.html")
    for members in threads(index).values():
        digest = hashlib.sha256(event_fingerprint.encode())
        for post, depth in members:
            digest.update(f"{keys[post]}:{depth};".encode())
        root = members[0][0]
        unit = f"{slug}/thread/{root.uri}"
        if writer.keep_unit(unit, digest.hexdigest()):
            continue
        with writer.unit(unit, digest.hexdigest()):
            texts = texts_of(session, [post.id for post, _ in members])
            posts = [text_post(views, index, post, texts, depth) for post, depth in members]
            html = template.render(**base, page_kind="thread", posts=posts)
            writer.write(f"{slug}/{thread_file(root)}", html)


def text_post(views: Views, index: EventIndex, post: IndexedPost,
              texts: dict[int, tuple[str, str | None]], depth: int = 0) -> ThreadPost:  # fmt: skip
    """A post as a conversation's or a session's page shows it: who, when, its text."""
    text, warning = texts.get(post.id, ("", None))
    parent = index.by_uri.get(post.reply_to_uri) if post.reply_to_uri else None
    return ThreadPost(
        views.author(post.author_id), index.dates.time(post.created_at), post.href,
        bounded(text), (warning or "").strip() or None, depth,
        index.authors[parent.author_id].handle if parent else None,
        len(post.media),
    )  # fmt: skip
