"""The only writer of collected data: idempotent upserts, cursors, collection runs.

:func:`save_page` stores one page of posts and the cursor after it inside the
caller's transaction, so the two are committed together or not at all. Storing the
same page twice changes nothing; a newer edit of a post replaces the older version.
Lookups are batched per page (one query per table, not per post).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel import exclusions
from backchannel.collectors.base import NormalizedAuthor, NormalizedMedia, NormalizedPost, Page
from backchannel.consent import DELETED, Policy, post_exclusion_reason
from backchannel.models import (
    Author,
    CollectionRun,
    Cursor,
    EventPost,
    EventSource,
    Link,
    Media,
    Post,
    PostSighting,
    PostTag,
    Tag,
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
    """Store a page's posts for the source's event, and the cursor after the page."""
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
    _refresh_known_authors(session, refused, now)
    exclusions.record(session, source.event_id, left_out, now)
    exclusions.clear(session, source.event_id, wanted)
    if wanted:
        authors = _upsert_authors(session, [p.author for p in wanted.values()], now)
        existing = {
            p.uri: p for p in session.scalars(select(Post).where(Post.uri.in_(list(wanted))))
        }
        tag_ids = _tag_ids(session, {t for p in wanted.values() for t in p.tags})
        parents = _parent_uris(session, source.base_url, wanted.values())
        added: list[tuple[Post, NormalizedPost]] = []
        seen: list[tuple[Post, NormalizedPost]] = []
        for uri, post in wanted.items():
            author = authors[(post.author.platform, post.author.uri)]
            if post.reply_to_uri is None and post.reply_to_native_id in parents:
                post.reply_to_uri = parents[post.reply_to_native_id]
            row = existing.get(uri)
            if row is None:
                row = Post(uri=post.uri, author_id=author.id, **_post_fields(post, source, now))
                session.add(row)
                added.append((row, post))
                result.new += 1
            elif _is_newer(post, row):
                _update_post(session, row, post, author, source, now, tag_ids)
                result.updated += 1
            else:
                _refresh_counts(row, post)
            seen.append((row, post))
        # The page's new posts go in as one batched INSERT (their ids come back), then
        # their children, sightings and event rows: a few statements a page, not a post.
        session.flush()
        for row, post in added:
            _write_children(session, row, post, tag_ids)
        _record_sightings(session, seen, source.base_url, now)
        _include_all_in_event(session, source.event_id, [row.id for row, _ in seen])
    save_cursor(session, source, hashtag, page.cursor)
    return result


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


def _upsert_authors(
    session: Session, authors: list[NormalizedAuthor], now: datetime
) -> dict[tuple[str, str], Author]:
    unique = {(a.platform, a.uri): a for a in authors}
    rows = {
        (a.platform, a.uri): a
        for a in session.scalars(select(Author).where(Author.uri.in_([uri for _, uri in unique])))
    }
    for key, author in unique.items():
        row = rows.get(key)
        if row is None:
            row = Author(platform=author.platform, uri=author.uri)
            session.add(row)
            rows[key] = row
        _apply_author(row, author, now)
    session.flush()
    return rows


def _refresh_known_authors(
    session: Session, authors: list[NormalizedAuthor], now: datetime
) -> None:
    """Update the authors already stored whose posts are now refused; never add one."""
    unique = {(a.platform, a.uri): a for a in authors}
    if not unique:
        return
    for row in session.scalars(select(Author).where(Author.uri.in_([u for _, u in unique]))):
        author = unique.get((row.platform, row.uri))
        if author is not None:
            _apply_author(row, author, now)


def _apply_author(row: Author, author: NormalizedAuthor, now: datetime) -> None:
    row.handle = author.handle
    row.display_name = author.display_name
    row.display_name_html = author.display_name_html
    row.avatar_url = author.avatar_url
    row.profile_url = author.profile_url
    row.home_server = author.home_server
    row.bot = author.bot
    if author.noindex is not None:  # tag timelines omit it; keep what a lookup found
        row.noindex = author.noindex
    if author.home_checked_at is not None:
        row.last_checked_at = author.home_checked_at
    row.indexable = author.indexable
    row.discoverable = author.discoverable
    row.suspended = author.suspended
    row.limited = author.limited
    row.bio_text = author.bio_text
    row.labels = list(author.labels)
    row.emojis = [list(e) for e in author.emojis]
    row.updated_at = now


def _tag_ids(session: Session, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    ids = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    for name in sorted(names - ids.keys()):
        tag = Tag(name=name)
        session.add(tag)
        session.flush()
        ids[name] = tag.id
    return ids


def _is_newer(post: NormalizedPost, row: Post) -> bool:
    if post.cid and row.cid and post.cid != row.cid:
        return True  # a Bluesky record rewritten in place
    if post.edited_at is None:
        return False
    return row.edited_at is None or post.edited_at > row.edited_at


def _post_fields(post: NormalizedPost, source: EventSource, now: datetime) -> dict[str, Any]:
    return _fields(post, source.base_url, now)


def _fields(post: NormalizedPost, fetched_from: str, now: datetime) -> dict[str, Any]:
    return {
        "platform": post.platform,
        "url": post.url,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        "indexed_at": post.indexed_at,
        "text": post.text,
        "html": post.html,
        "language": post.language,
        "content_warning": post.content_warning or None,
        "sensitive": post.sensitive,
        "visibility": post.visibility,
        "reply_to_uri": post.reply_to_uri,
        "reply_root_uri": post.reply_root_uri,
        "quote_uri": post.quote_uri,
        "quote_snapshot": post.quote_snapshot,
        "reply_count": post.reply_count,
        "repost_count": post.repost_count,
        "like_count": post.like_count,
        "quote_count": post.quote_count,
        "emojis": [list(e) for e in post.emojis],
        "mentions": [list(m) for m in post.mentions],
        "poll": post.poll,
        "card": post.card,
        "labels": list(post.labels),
        "cid": post.cid,
        "raw": post.raw,
        "fetched_at": now,
        "fetched_from": fetched_from,
    }


def _new_post(
    session: Session,
    post: NormalizedPost,
    author: Author,
    source: EventSource,
    now: datetime,
    tag_ids: dict[str, int],
) -> Post:
    row = Post(uri=post.uri, author_id=author.id, **_post_fields(post, source, now))
    session.add(row)
    session.flush()
    _write_children(session, row, post, tag_ids)
    return row


def _update_post(
    session: Session,
    row: Post,
    post: NormalizedPost,
    author: Author,
    source: EventSource,
    now: datetime,
    tag_ids: dict[str, int],
) -> None:
    _replace_post(session, row, post, author, source.base_url, now, tag_ids)


def _replace_post(
    session: Session,
    row: Post,
    post: NormalizedPost,
    author: Author,
    fetched_from: str,
    now: datetime,
    tag_ids: dict[str, int],
) -> None:
    for name, value in _fields(post, fetched_from, now).items():
        setattr(row, name, value)
    row.author_id = author.id
    # An edit can change media, tags and links: replace them with the new version's.
    session.execute(delete(PostTag).where(PostTag.post_id == row.id))
    session.execute(delete(Link).where(Link.post_id == row.id))
    kept_media = {m.remote_url: m for m in row.media}
    row.media.clear()
    session.flush()
    _write_children(session, row, post, tag_ids, kept_media)


def _refresh_counts(row: Post, post: NormalizedPost) -> None:
    row.reply_count = post.reply_count
    row.repost_count = post.repost_count
    row.like_count = post.like_count
    row.quote_count = post.quote_count


def _write_children(
    session: Session,
    row: Post,
    post: NormalizedPost,
    tag_ids: dict[str, int],
    kept_media: dict[str | None, Media] | None = None,
) -> None:
    for name in dict.fromkeys(post.tags):
        session.add(PostTag(post_id=row.id, tag_id=tag_ids[name]))
    for position, url in enumerate(dict.fromkeys(post.links)):
        session.add(Link(post_id=row.id, position=position, url=url))
    for position, media in enumerate(post.media):
        session.add(_media_row(row.id, position, media, (kept_media or {}).get(media.url)))


def _media_row(post_id: int, position: int, media: NormalizedMedia, kept: Media | None) -> Media:
    row = Media(
        post_id=post_id,
        position=position,
        kind=media.kind,
        remote_url=media.url,
        preview_url=media.preview_url,
        playlist_url=media.playlist_url,
        alt=media.alt,
        width=media.width,
        height=media.height,
        focus_x=media.focus_x,
        focus_y=media.focus_y,
        blurhash=media.blurhash,
    )
    if kept is not None and kept.fetch_state == "done":
        # The same file survived the edit: keep the local copy instead of fetching again.
        row.sha256, row.local_path, row.size = kept.sha256, kept.local_path, kept.size
        row.content_type, row.fetch_state, row.fetched_at = (
            kept.content_type,
            "done",
            kept.fetched_at,
        )
    return row


def _record_sighting(
    session: Session, row: Post, server: str, native_id: str, now: datetime
) -> None:
    sighting = session.scalar(
        select(PostSighting).where(PostSighting.post_id == row.id, PostSighting.server == server)
    )
    if sighting is None:
        session.add(PostSighting(post_id=row.id, server=server, native_id=native_id))
    else:
        sighting.native_id = native_id
        sighting.last_seen_at = now


def _record_sightings(
    session: Session, rows: list[tuple[Post, NormalizedPost]], server: str, now: datetime
) -> None:
    """:func:`_record_sighting` for a page: one query for the sightings already known."""
    known = {
        s.post_id: s
        for s in session.scalars(
            select(PostSighting).where(
                PostSighting.server == server,
                PostSighting.post_id.in_([row.id for row, _ in rows]),
            )
        )
    }
    for row, post in rows:
        sighting = known.get(row.id)
        if sighting is None:
            session.add(PostSighting(post_id=row.id, server=server, native_id=post.native_id))
        else:
            sighting.native_id = post.native_id
            sighting.last_seen_at = now


def _include_all_in_event(session: Session, event_id: int, post_ids: list[int]) -> None:
    """:func:`_include_in_event` for a page: one query, one batched INSERT."""
    present = set(
        session.scalars(
            select(EventPost.post_id).where(
                EventPost.event_id == event_id, EventPost.post_id.in_(post_ids)
            )
        )
    )
    session.add_all(
        EventPost(event_id=event_id, post_id=post_id)
        for post_id in dict.fromkeys(post_ids)
        if post_id not in present
    )
    session.flush()


def _include_in_event(session: Session, event_id: int, post_id: int) -> None:
    if session.get(EventPost, (event_id, post_id)) is None:
        session.add(EventPost(event_id=event_id, post_id=post_id))
        session.flush()


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
