"""Finding an event's posts for the studio: text, filters and order, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from backchannel.store import Author, Event, EventPost, Media, Post, matching_posts

PAGE = 50
SORTS = {
    "time": (Post.created_at, Post.uri),
    "replies": (Post.reply_count.desc(), Post.created_at, Post.uri),
    "boosts": (Post.repost_count.desc(), Post.created_at, Post.uri),
    "likes": (Post.like_count.desc(), Post.created_at, Post.uri),
}
STATES = ("", "included", "hidden", "featured")
PLATFORMS = ("", "mastodon", "bluesky")


@dataclass(frozen=True)
class PostQuery:
    text: str = ""
    day: str = ""  # YYYY-MM-DD in the event's zone
    platform: str = ""
    state: str = ""  # included, hidden or featured
    author: str = ""  # a handle, with or without @
    has_media: bool = False
    sort: str = "time"
    page: int = 1


@dataclass
class Found:
    posts: list[tuple[Post, str]]  # (post, its state in the event)
    total: int
    pages: int


def search_posts(session: Session, event: Event, query: PostQuery) -> Found:
    """The posts of ``event`` that match ``query``, one page of them, and how many."""
    statement = _matching(event, query, session.get_bind().dialect.name)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    order = SORTS.get(query.sort, SORTS["time"])
    page = max(1, query.page)
    rows = session.execute(
        statement.order_by(*order)
        .offset((page - 1) * PAGE)
        .limit(PAGE)
        .options(selectinload(Post.author), selectinload(Post.media))
    ).all()
    return Found([(post, state) for post, state in rows], total, max(1, -(-total // PAGE)))


def _matching(event: Event, query: PostQuery, dialect: str) -> Select[tuple[Post, str]]:
    statement = (
        select(Post, EventPost.state)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event.id, Post.deleted_at.is_(None))
    )
    words = matching_posts(dialect, query.text)
    if words is not None:
        statement = statement.where(words)
    if query.platform in PLATFORMS[1:]:
        statement = statement.where(Post.platform == query.platform)
    if query.state in STATES[1:]:
        statement = statement.where(EventPost.state == query.state)
    if query.author.strip():
        handle = query.author.strip().lstrip("@").lower()
        statement = statement.join(Author, Author.id == Post.author_id).where(
            func.lower(Author.handle) == handle
        )
    if query.has_media:
        statement = statement.where(select(Media.id).where(Media.post_id == Post.id).exists())
    if query.day:
        try:
            start = datetime.fromisoformat(query.day).replace(tzinfo=ZoneInfo(event.timezone))
        except ValueError:
            start = None
        if start is not None:
            statement = statement.where(
                Post.created_at >= start, Post.created_at < start + timedelta(days=1)
            )
    return statement
