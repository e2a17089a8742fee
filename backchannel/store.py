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

from sqlalchemy import delete, insert, select, update
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
    _author_ids(session, refused, now, add=False)
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
    authors = _author_ids(session, [p.author for p in wanted.values()], now, add=True)
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
    tag_ids = _tag_ids(session, {t for p in wanted.values() for t in p.tags})
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
            fields = _fields(post, server, now)
            fields["uri"], fields["author_id"] = post.uri, author_id
            new_rows.append(fields)
            new_posts.append(post)
            result.new += 1
            continue
        known.append((row.id, post))
        if _is_newer(post, row):
            stored = session.get(Post, row.id)
            author = session.get(Author, author_id)
            assert stored is not None and author is not None
            _replace_post(session, stored, post, author, server, now, tag_ids)
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
        returned = session.execute(insert(posts).returning(posts.c.id, posts.c.uri), new_rows).all()
        ids = {uri: post_id for post_id, uri in returned}
        new_ids = [ids[p.uri] for p in new_posts]
        _insert_children(session, zip(new_ids, new_posts, strict=True), tag_ids)
    _record_sightings_bulk(session, new_ids, new_posts, known, server, now)
    _include_all_in_event(session, source.event_id, new_ids, [post_id for post_id, _ in known])


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


_AUTHOR_FIELDS = (
    "handle", "display_name", "display_name_html", "avatar_url", "profile_url",
    "home_server", "bot", "noindex", "last_checked_at", "indexable", "discoverable",
    "suspended", "limited", "bio_text", "labels", "emojis",
)  # fmt: skip


def _author_values(author: NormalizedAuthor, stored: Any = None) -> dict[str, Any]:
    """What :func:`_apply_author` would set (``updated_at`` aside), as a dict."""
    return {
        "handle": author.handle,
        "display_name": author.display_name,
        "display_name_html": author.display_name_html,
        "avatar_url": author.avatar_url,
        "profile_url": author.profile_url,
        "home_server": author.home_server,
        "bot": author.bot,
        # Tag timelines omit noindex; keep what a lookup found.
        "noindex": author.noindex
        if author.noindex is not None or stored is None
        else stored.noindex,
        "last_checked_at": author.home_checked_at
        if author.home_checked_at is not None or stored is None
        else stored.last_checked_at,
        "indexable": author.indexable,
        "discoverable": author.discoverable,
        "suspended": author.suspended,
        "limited": author.limited,
        "bio_text": author.bio_text,
        "labels": list(author.labels),
        "emojis": [list(e) for e in author.emojis],
    }


def _author_ids(
    session: Session, authors: list[NormalizedAuthor], now: datetime, add: bool
) -> dict[tuple[str, str], int]:
    """The id of each author's row, which is brought up to date (``updated_at`` too)
    only when something about the author changed. New authors are added when ``add``
    (else left out: the posts of refused authors never add one)."""
    unique = {(a.platform, a.uri): a for a in authors}
    if not unique:
        return {}
    table = Author.__table__
    columns = [table.c[name] for name in ("id", "platform", "uri", *_AUTHOR_FIELDS)]
    stored = {
        (row.platform, row.uri): row
        for row in session.execute(
            select(*columns).where(table.c.uri.in_([uri for _, uri in unique]))
        )
    }
    ids: dict[tuple[str, str], int] = {}
    changed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for key, author in unique.items():
        row = stored.get(key)
        if row is None:
            if add:
                values = _author_values(author)
                values.update(platform=author.platform, uri=author.uri, updated_at=now)
                added.append(values)
            continue
        ids[key] = row.id
        values = _author_values(author, row)
        if any(getattr(row, name) != value for name, value in values.items()):
            values.update(id=row.id, updated_at=now)
            changed.append(values)
    # In primary-key order, as the unit of work would: concurrent sources touching the
    # same authors then take their row locks in one order (no deadlock on PostgreSQL).
    if changed:
        changed.sort(key=lambda values: values["id"])
        session.execute(update(Author), changed)  # by primary key: one executemany
    if added:
        added.sort(key=lambda values: (values["platform"], values["uri"]))
        returned = session.execute(
            insert(table).returning(table.c.id, table.c.platform, table.c.uri), added
        )
        ids.update(((platform, uri), author_id) for author_id, platform, uri in returned)
    return ids


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


def _insert_children(session: Session, rows: Any, tag_ids: dict[str, int]) -> None:
    """:func:`_write_children` for new posts: one executemany per table."""
    tags: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for post_id, post in rows:
        tags.extend(
            {"post_id": post_id, "tag_id": tag_ids[name]} for name in dict.fromkeys(post.tags)
        )
        links.extend(
            {"post_id": post_id, "position": position, "url": url}
            for position, url in enumerate(dict.fromkeys(post.links))
        )
        media.extend(_media_values(post_id, position, m) for position, m in enumerate(post.media))
    for model, values in ((PostTag, tags), (Link, links), (Media, media)):
        if values:
            session.execute(insert(model.__table__), values)


def _media_values(post_id: int, position: int, media: NormalizedMedia) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "position": position,
        "kind": media.kind,
        "remote_url": media.url,
        "preview_url": media.preview_url,
        "playlist_url": media.playlist_url,
        "alt": media.alt,
        "width": media.width,
        "height": media.height,
        "focus_x": media.focus_x,
        "focus_y": media.focus_y,
        "blurhash": media.blurhash,
    }


def _record_sightings_bulk(
    session: Session,
    new_ids: list[int],
    new_posts: list[NormalizedPost],
    known: list[tuple[int, NormalizedPost]],
    server: str,
    now: datetime,
) -> None:
    """:func:`_record_sighting` for a page: new posts have no sightings yet; those of
    posts stored before are looked up in one query, updated or added."""
    table = PostSighting.__table__
    sightings = {}
    if known:
        sightings = dict(
            session.execute(
                select(table.c.post_id, table.c.id).where(
                    table.c.server == server,
                    table.c.post_id.in_([post_id for post_id, _ in known]),
                )
            ).all()
        )
    added = [
        {"post_id": post_id, "server": server, "native_id": post.native_id,
         "first_seen_at": now, "last_seen_at": now}
        for post_id, post in [*zip(new_ids, new_posts, strict=True), *known]
        if post_id not in sightings
    ]  # fmt: skip
    seen = [
        {"id": sightings[post_id], "native_id": post.native_id, "last_seen_at": now}
        for post_id, post in known
        if post_id in sightings
    ]
    if seen:
        seen.sort(key=lambda values: values["id"])
        session.execute(update(PostSighting), seen)  # by primary key: one executemany
    if added:
        session.execute(insert(table), added)


def _include_all_in_event(
    session: Session, event_id: int, new_ids: list[int], known_ids: list[int] = ()
) -> None:
    """:func:`_include_in_event` for a page: one query (for posts stored before), one
    executemany INSERT."""
    table = EventPost.__table__
    present: set[int] = set()
    if known_ids:
        present = set(
            session.scalars(
                select(table.c.post_id).where(
                    table.c.event_id == event_id, table.c.post_id.in_(known_ids)
                )
            )
        )
    rows = [
        {"event_id": event_id, "post_id": post_id, "added_at": datetime.now(UTC)}
        for post_id in dict.fromkeys([*new_ids, *known_ids])
        if post_id not in present
    ]
    if rows:
        session.execute(insert(table), rows)


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
