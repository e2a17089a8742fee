"""The only writer of collected data: idempotent upserts, cursors, collection runs.

:func:`save_page` stores one page of posts and the cursor after it inside the
caller's transaction, so the two are committed together or not at all. Storing the
same page twice changes nothing; a newer edit of a post replaces the older version.
Lookups are batched per page (one query per table, not per post); the row-level
writes are in :mod:`backchannel.store_rows`, shared with :mod:`backchannel.store_upkeep`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from backchannel import exclusions
from backchannel.collectors.base import NormalizedAuthor, NormalizedPost, Page
from backchannel.consent import DELETED, Policy, post_exclusion_reason
from backchannel.models import (
    Author,
    CollectionRun,
    Cursor,
    EventSource,
    Post,
    PostSighting,
)
from backchannel.store_rows import (
    author_ids,
    ensure_tag_ids,
    include_all_in_event,
    insert_children,
    is_newer,
    post_fields,
    record_sightings_bulk,
    replace_post,
)
from backchannel.tombstones import buried_reasons, handle_key, key_hash

FORGOTTEN = "forgotten at the author's request"


@dataclass
class PageResult:
    new: int = 0
    updated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def load_cursor(session: Session, source: EventSource, hashtag: str) -> dict[str, Any] | None:
    row = session.scalar(
        select(Cursor).where(Cursor.source_id == source.id, Cursor.hashtag == hashtag)
    )
    return dict(row.state) if row is not None else None


def save_cursor(session: Session, source: EventSource, hashtag: str, state: dict[str, Any]) -> None:
    row = session.scalar(
        select(Cursor).where(Cursor.source_id == source.id, Cursor.hashtag == hashtag)
    )
    if row is None:
        session.add(Cursor(source_id=source.id, hashtag=hashtag, state=state))
    else:
        row.state = state
        row.updated_at = datetime.now(UTC)


def save_page(
    session: Session,
    source: EventSource,
    hashtag: str,
    page: Page,
    policy: Policy,
) -> PageResult:
    """Store a page's posts for the source's event, and the cursor after the page.

    The common work is a few set-based statements per page (SQLAlchemy Core, not the
    unit of work): one query each for tombstones, authors, posts, sightings and event
    rows already there; one multi-row INSERT each for new authors (ids come back with
    ``RETURNING``), posts, tags, links, media, sightings and event rows; UPDATEs only
    for authors, counts and sightings that changed or were seen again. An edit newer
    than the stored post (rare) goes through the ORM, as ``recheck`` does.
    """
    result = PageResult(skipped=Counter(page.skipped))
    now = datetime.now(UTC)
    wanted: dict[str, NormalizedPost] = {}
    left_out: list[tuple[str, str, str]] = []  # (uri, handle, reason), recorded below
    refused: list[NormalizedAuthor] = []
    for post in page.posts:
        if hashtag not in post.tags:
            # A server matched something we do not count as this hashtag; leave it out.
            result.skipped["tag not in post"] += 1
            continue
        reason = post_exclusion_reason(post, policy)
        if reason:
            result.skipped[reason] += 1
            left_out.append((post.uri, post.author.handle, reason))
            refused.append(post.author)
            continue
        wanted.setdefault(post.uri, post)
    for uri, label in _tombstoned(session, wanted.values()).items():
        result.skipped[label] += 1
        left_out.append((uri, "", label))
        del wanted[uri]
    # A new opt-out reaches the posts stored before it: the author's row learns it, and
    # the export (which applies the same rule) stops publishing them.
    author_ids(session, refused, now, add=False)
    exclusions.record(session, source.event_id, left_out, now)
    exclusions.clear(session, source.event_id, wanted)
    if wanted:
        _store_posts(session, source, wanted, now, result)
    save_cursor(session, source, hashtag, page.cursor)
    return result


def _store_posts(
    session: Session,
    source: EventSource,
    wanted: dict[str, NormalizedPost],
    now: datetime,
    result: PageResult,
) -> None:
    server = source.base_url
    authors = author_ids(session, [p.author for p in wanted.values()], now, add=True)
    posts = Post.__table__
    existing = {
        row.uri: row
        for row in session.execute(
            select(
                posts.c.id, posts.c.uri, posts.c.cid, posts.c.edited_at, posts.c.reply_count,
                posts.c.repost_count, posts.c.like_count, posts.c.quote_count,
            ).where(posts.c.uri.in_(list(wanted)))
        )
    }  # fmt: skip
    tag_ids = ensure_tag_ids(session, {t for p in wanted.values() for t in p.tags})
    parents = _parent_uris(session, server, wanted.values())
    new_rows: list[dict[str, Any]] = []
    new_posts: list[NormalizedPost] = []
    known: list[tuple[int, NormalizedPost]] = []  # stored before this page
    counts: list[dict[str, Any]] = []
    for uri, post in wanted.items():
        author_id = authors[(post.author.platform, post.author.uri)]
        if post.reply_to_uri is None and post.reply_to_native_id in parents:
            post.reply_to_uri = parents[post.reply_to_native_id]
        row = existing.get(uri)
        if row is None:
            fields = post_fields(post, server, now)
            fields["uri"], fields["author_id"] = post.uri, author_id
            new_rows.append(fields)
            new_posts.append(post)
            result.new += 1
            continue
        known.append((row.id, post))
        if is_newer(post, row):
            stored = session.get(Post, row.id)
            author = session.get(Author, author_id)
            assert stored is not None and author is not None
            replace_post(session, stored, post, author, server, now, tag_ids)
            result.updated += 1
        elif (row.reply_count, row.repost_count, row.like_count, row.quote_count) != (
            post.reply_count, post.repost_count, post.like_count, post.quote_count,
        ):  # fmt: skip
            counts.append({"id": row.id, "reply_count": post.reply_count,
                           "repost_count": post.repost_count, "like_count": post.like_count,
                           "quote_count": post.quote_count})  # fmt: skip
    if counts:
        counts.sort(key=lambda values: values["id"])
        session.execute(update(Post), counts)  # by primary key: one executemany
    new_ids: list[int] = []
    if new_rows:
        # One multi-row INSERT (RETURNING the ids), then the children the same way.
        # In uri order: concurrent sources inserting the same new posts then take their
        # index locks in one order (PostgreSQL would otherwise deadlock them).
        new_rows.sort(key=lambda values: values["uri"])
        returned = session.execute(insert(posts).returning(posts.c.id, posts.c.uri), new_rows).all()
        ids = {uri: post_id for post_id, uri in returned}
        new_ids = [ids[p.uri] for p in new_posts]
        insert_children(session, zip(new_ids, new_posts, strict=True), tag_ids)
    record_sightings_bulk(session, new_ids, new_posts, known, server, now)
    include_all_in_event(session, source.event_id, new_ids, [post_id for post_id, _ in known])


def _tombstoned(session: Session, posts: Any) -> dict[str, str]:
    """Posts a tombstone keeps out (by post, author or handle), with the reason to count."""
    posts = list(posts)
    if not posts:
        return {}
    keys = {
        p.uri: (key_hash(p.uri), key_hash(p.author.uri), handle_key(p.author.handle)) for p in posts
    }
    found = buried_reasons(session, (digest for triple in keys.values() for digest in triple))
    out = {}
    for uri, triple in keys.items():
        reasons = [found[digest] for digest in triple if digest in found]
        if reasons:
            out[uri] = DELETED if reasons == [DELETED] else FORGOTTEN
    return out


def _parent_uris(session: Session, server: str, posts: Any) -> dict[str, str]:
    """Reply parents named only by this server's local id, resolved through sightings.

    Mastodon gives a reply's parent as the queried server's own id; the forward walk
    stores older posts first, so the parent is usually already here.
    """
    wanted = {p.reply_to_native_id for p in posts if p.reply_to_uri is None}
    wanted.discard(None)
    if not wanted:
        return {}
    rows = session.execute(
        select(PostSighting.native_id, Post.uri)
        .join(Post, Post.id == PostSighting.post_id)
        .where(PostSighting.server == server, PostSighting.native_id.in_(wanted))
    )
    return {native_id: uri for native_id, uri in rows}


# -- collection runs --------------------------------------------------------------------


def start_run(session: Session, source: EventSource) -> CollectionRun:
    run = CollectionRun(source_id=source.id, status="running")
    session.add(run)
    session.flush()
    return run


def add_to_run(session: Session, run_id: int, requests: int, result: PageResult) -> None:
    run = session.get(CollectionRun, run_id)
    if run is None:
        return
    run.requests += requests
    run.new += result.new
    run.updated += result.updated
    skipped = Counter(run.skipped or {})
    skipped.update(result.skipped)
    run.skipped = dict(skipped)


def finish_run(
    session: Session, run_id: int, status: str, error: str | None, extra_requests: int = 0
) -> None:
    run = session.get(CollectionRun, run_id)
    if run is None:
        return
    run.status = status
    run.error = error
    run.requests += extra_requests
    run.finished_at = datetime.now(UTC)


def reset_cursors(session: Session, event_id: int) -> int:
    """Forget where collection of an event stands, so the next run re-reads its window.

    For a loosened consent decision: posts declined earlier were never stored, and
    cursors past them would never bring them back. Upserts make the re-read harmless.
    """
    source_ids = select(EventSource.id).where(EventSource.event_id == event_id)
    return session.execute(delete(Cursor).where(Cursor.source_id.in_(source_ids))).rowcount or 0
