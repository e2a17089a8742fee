"""Finding an event's posts for the studio: text, filters and order, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from backchannel.curation import schedule_of
from backchannel.store import Author, Event, EventPost, Media, Post, count_matches, matching_posts

PAGE = 50
# Ties by row id: the time index holds it, so no sort by a second column is needed.
SORTS = {
    "time": (Post.created_at, Post.id),
    "replies": (Post.reply_count.desc(), Post.created_at, Post.id),
    "boosts": (Post.repost_count.desc(), Post.created_at, Post.id),
    "likes": (Post.like_count.desc(), Post.created_at, Post.id),
}
COUNT_CAP = 1000  # matches counted exactly up to here; past it, "more than 1,000"
WALK_FROM = 2000  # matches from which the posts are walked in time order
STATES = ("", "included", "hidden", "featured")
_SHOWN = (
    Post.uri, Post.platform, Post.created_at, Post.html, Post.text, Post.content_warning,
    Post.reply_count, Post.repost_count, Post.like_count, Post.author_id,
    Post.reply_to_uri, Post.reply_root_uri,
)  # fmt: skip
_AUTHOR = (Author.handle, Author.display_name)
PLATFORMS = ("", "mastodon", "bluesky", "twitter")


@dataclass(frozen=True)
class PostQuery:
    text: str = ""
    day: str = ""  # YYYY-MM-DD in the event's zone
    platform: str = ""
    state: str = ""  # included, hidden or featured
    author: str = ""  # a handle, with or without @
    has_media: bool = False
    has_replies: bool = False
    session: str = ""  # the title of one of the event's scheduled sessions
    leave_out: frozenset[str] = frozenset()  # post URIs not to show (already in a story)
    sort: str = "time"
    page: int = 1


@dataclass
class Found:
    posts: list[tuple[Post, str]]  # (post, its state in the event)
    total: int  # exact up to COUNT_CAP; COUNT_CAP + 1 means "more"
    pages: int

    @property
    def more(self) -> bool:
        return self.total > COUNT_CAP


def search_posts(session: Session, event: Event, query: PostQuery) -> Found:
    """The posts of ``event`` that match ``query``, one page of them, and how many."""
    dialect = session.get_bind().dialect.name
    # A word most posts hold: walk the posts in time order and stop at the page's
    # end, rather than sort every match (see store.search.matching_posts).
    common = query.sort == "time" and count_matches(session, query.text, WALK_FROM) >= WALK_FROM
    statement = _matching(event, query, dialect, common)
    order = SORTS.get(query.sort, SORTS["time"])
    page = max(1, query.page)
    rows = session.execute(
        statement.order_by(*order)
        .offset((page - 1) * PAGE)
        .limit(PAGE)
        .options(
            # What a post card shows, and no more: not the raw JSON, which is large.
            load_only(*_SHOWN),
            joinedload(Post.author).load_only(*_AUTHOR),
            selectinload(Post.media).load_only(Media.kind, Media.alt, Media.position),
        )
    ).all()
    posts = [(post, state) for post, state in rows]
    if page == 1 and len(posts) < PAGE:
        total = len(posts)  # all of them are here: no need to count
    else:
        # Counting every match of a common word costs more than finding the page:
        # count up to the cap only, from the match list (no order to keep, so walking
        # the posts in time order would only read more of them).
        counted = _matching(event, query, dialect, common=False) if common else statement
        capped = counted.with_only_columns(Post.id).limit(COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
    if total > COUNT_CAP:  # one more page at least while this one is full
        pages = max(-(-total // PAGE), page + 1 if len(posts) == PAGE else page)
    else:
        pages = max(1, -(-total // PAGE))
    return Found(posts, total, pages)


def _matching(
    event: Event, query: PostQuery, dialect: str, common: bool
) -> Select[tuple[Post, str]]:
    # The event's hold on a post as a correlated lookup, not a join, so that the posts
    # table can lead (in time order) when the words are common.
    state = (
        select(EventPost.state)
        .where(EventPost.event_id == event.id, EventPost.post_id == Post.id)
        .scalar_subquery()
    )
    statement = select(Post, state).where(state.is_not(None), Post.deleted_at.is_(None))
    words = matching_posts(dialect, query.text, in_time_order=common)
    if words is not None:
        statement = statement.where(words)
    if query.platform in PLATFORMS[1:]:
        statement = statement.where(Post.platform == query.platform)
    if query.state in STATES[1:]:
        statement = statement.where(state == query.state)
    if query.author.strip():
        handle = query.author.strip().lstrip("@").lower()
        statement = statement.join(Author, Author.id == Post.author_id).where(
            func.lower(Author.handle) == handle
        )
    if query.has_replies:
        statement = statement.where(Post.reply_count > 0)
    if query.leave_out:
        statement = statement.where(Post.uri.not_in(sorted(query.leave_out)))
    if query.session:
        for scheduled in schedule_of(event):
            if scheduled.title == query.session:
                statement = statement.where(
                    Post.created_at >= scheduled.start, Post.created_at < scheduled.end
                )
                break
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


def thread_of(session: Session, event: Event, post: Post) -> list[Post]:
    """The posts of ``post``'s thread this event holds, oldest first (its root, if
    archived, and every reply to it at any depth)."""
    root = post.reply_root_uri or post.uri
    return list(
        session.scalars(
            select(Post)
            .join(EventPost, EventPost.post_id == Post.id)
            .where(EventPost.event_id == event.id, EventPost.state != "hidden")
            .where((Post.uri == root) | (Post.reply_root_uri == root))
            .order_by(Post.created_at, Post.id)
        )
    )


def suggestions(
    session: Session, event: Event, start: datetime, end: datetime, leave_out: frozenset[str],
    limit: int = 3,
) -> list[Post]:  # fmt: skip
    """The most answered and boosted posts of ``event`` between ``start`` and ``end``
    that the story does not hold (hidden ones never)."""
    query = (
        select(Post)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event.id, EventPost.state != "hidden")
        .where(Post.created_at >= start, Post.created_at < end, Post.deleted_at.is_(None))
        .order_by((Post.reply_count + Post.repost_count).desc(), Post.created_at, Post.id)
        .limit(limit + len(leave_out))
        .options(load_only(*_SHOWN), joinedload(Post.author).load_only(*_AUTHOR))
    )
    return [p for p in session.scalars(query) if p.uri not in leave_out][:limit]


def section_windows(
    event: Event, blocks: list[tuple[Any, Post | None]]
) -> dict[int, tuple[int, datetime, datetime]]:
    """For each heading (by index): where its section ends, and the time it covers: its
    session's, when the heading is a scheduled session's title, else the hours of the
    posts under it."""
    sessions = {s.title: s for s in schedule_of(event)}
    windows: dict[int, tuple[int, datetime, datetime]] = {}
    for n, (block, _) in enumerate(blocks):
        if block.kind != "heading":
            continue
        end = n + 1
        while end < len(blocks) and blocks[end][0].kind != "heading":
            end += 1
        if block.text in sessions:
            found = sessions[block.text]
            windows[n] = (end, found.start, found.end)
            continue
        times = [post.created_at for _, post in blocks[n + 1 : end] if post is not None]
        if times:
            first = min(times).replace(minute=0, second=0, microsecond=0)
            last = max(times).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            windows[n] = (end, first, last)
    return windows


def threads_for(session: Session, event: Event, posts: list[Post]) -> dict[str, list[Post]]:
    """The archived threads of ``posts`` (by root URI, oldest first), in one query: for
    a post browser page whose threads can be opened."""
    roots = {p.reply_root_uri or p.uri for p in posts if p.reply_root_uri or p.reply_count}
    if not roots:
        return {}
    found: dict[str, list[Post]] = {}
    query = (
        select(Post)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event.id, EventPost.state != "hidden")
        .where(Post.uri.in_(sorted(roots)) | Post.reply_root_uri.in_(sorted(roots)))
        .order_by(Post.created_at, Post.id)
        .options(load_only(*_SHOWN), joinedload(Post.author).load_only(*_AUTHOR))
    )
    for post in session.scalars(query):
        found.setdefault(post.reply_root_uri or post.uri, []).append(post)
    return {root: thread for root, thread in found.items() if len(thread) > 1}
