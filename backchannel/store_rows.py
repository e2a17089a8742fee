"""Row-level writes of collected data, shared by the store and its upkeep.

:mod:`backchannel.store` (pages of newly collected posts) and
:mod:`backchannel.store_upkeep` (rechecks, removals) both write authors, posts and their
children through these helpers, so a post is written the same way whichever path
stores it. The page path uses the set-based helpers (one statement per table); edits
use :func:`replace_post` through the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from backchannel.collectors.base import NormalizedAuthor, NormalizedMedia, NormalizedPost
from backchannel.models import Author, EventPost, Link, Media, Post, PostSighting, PostTag, Tag


def upsert_authors(
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


def author_ids(
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


def ensure_tag_ids(session: Session, names: set[str]) -> dict[str, int]:
    """The id of each tag name, adding the tags not yet known."""
    if not names:
        return {}
    ids = dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
    for name in sorted(names - ids.keys()):
        tag = Tag(name=name)
        session.add(tag)
        session.flush()
        ids[name] = tag.id
    return ids


def is_newer(post: NormalizedPost, row: Post) -> bool:
    if post.cid and row.cid and post.cid != row.cid:
        return True  # a Bluesky record rewritten in place
    if post.edited_at is None:
        return False
    return row.edited_at is None or post.edited_at > row.edited_at


def post_fields(post: NormalizedPost, fetched_from: str, now: datetime) -> dict[str, Any]:
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


def replace_post(
    session: Session,
    row: Post,
    post: NormalizedPost,
    author: Author,
    fetched_from: str,
    now: datetime,
    tag_ids: dict[str, int],
) -> None:
    for name, value in post_fields(post, fetched_from, now).items():
        setattr(row, name, value)
    row.author_id = author.id
    # An edit can change media, tags and links: replace them with the new version's.
    session.execute(delete(PostTag).where(PostTag.post_id == row.id))
    session.execute(delete(Link).where(Link.post_id == row.id))
    kept_media = {m.remote_url: m for m in row.media}
    row.media.clear()
    session.flush()
    _write_children(session, row, post, tag_ids, kept_media)


def refresh_counts(row: Post, post: NormalizedPost) -> None:
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


def record_sighting(
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


def insert_children(session: Session, rows: Any, tag_ids: dict[str, int]) -> None:
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


def record_sightings_bulk(
    session: Session,
    new_ids: list[int],
    new_posts: list[NormalizedPost],
    known: list[tuple[int, NormalizedPost]],
    server: str,
    now: datetime,
) -> None:
    """:func:`record_sighting` for a page: new posts have no sightings yet; those of
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


def include_all_in_event(
    session: Session, event_id: int, new_ids: list[int], known_ids: list[int] = ()
) -> None:
    """Make posts members of an event: one query (for posts stored before), one
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
        for post_id in sorted(set(new_ids) | set(known_ids))  # one lock order for all
        if post_id not in present
    ]
    if rows:
        session.execute(insert(table), rows)
