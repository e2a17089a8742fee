"""The store's writers for keeping an archive up to date (issue 8), beside :mod:`backchannel.store.writer`.

* :func:`apply_recheck`: a post's current version from a recheck. An edit (newer
  ``edited_at``, or a changed Bluesky ``cid``) replaces the stored version through
  the same path a collection uses; otherwise only the counts are refreshed.
* :func:`remove_post`: a post deleted at its source. The row goes (with its media
  rows, sightings, tags and links) and a content-free tombstone (a hash of the URI)
  stays, so that a server the deletion never reached cannot bring it back.
* :func:`erase_posts` and :func:`erase_orphans`: posts and authors removed by
  ``forget`` or with their event; quote snapshots of them held by other posts go too.
* :func:`sync_profile_media`: ``Media`` rows for avatars (one per author) and custom
  emoji (one per URL, shared), so that the media fetcher keeps local copies of them.

Only :mod:`backchannel.store.writer` and this module write collected data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backchannel.collectors import NormalizedPost
from backchannel.consent import DELETED, key_hash
from backchannel.store.models import Author, EventPost, Media, Post, Tombstone
from backchannel.store.released import release
from backchannel.store.rows import (
    ensure_tag_ids,
    is_newer,
    record_sighting,
    refresh_counts,
    replace_post,
    upsert_authors,
)

_CHUNK = 500


def apply_recheck(
    session: Session, row: Post, post: NormalizedPost, server: str, now: datetime
) -> bool:
    """Store what a recheck found of ``row`` at ``server``; True when it was an edit."""
    row.checked_at = now
    record_sighting(session, row, server, post.native_id, now)
    if not is_newer(post, row):
        refresh_counts(row, post)
        return False
    author = upsert_authors(session, [post.author], now)[(post.author.platform, post.author.uri)]
    if post.reply_to_uri is None:
        post.reply_to_uri = row.reply_to_uri  # resolved at collection; a recheck cannot
    tag_ids = ensure_tag_ids(session, set(post.tags))
    replace_post(session, row, post, author, server, now, tag_ids)
    return True


def remove_post(session: Session, row: Post, reason: str = DELETED) -> set[str]:
    """Delete ``row`` and leave a tombstone; the sha256 of the media it held.

    They are released (:mod:`backchannel.store.released`): removed after the commit
    unless another row still uses them (:func:`backchannel.media.prune`).
    """
    shas = {m.sha256 for m in row.media if m.sha256}
    digest = key_hash(row.uri)
    exists = session.scalar(
        select(Tombstone.id).where(Tombstone.kind == "post", Tombstone.key_sha256 == digest)
    )
    if exists is None:
        session.add(Tombstone(kind="post", key_sha256=digest, reason=reason))
    release(session, shas)
    session.delete(row)
    session.flush()
    return shas


def erase_posts(session: Session, post_ids: list[int], author_ids: list[int]) -> None:
    """Delete these posts and authors with their media rows, and the quotes of the posts.

    Sightings, tags, links and event memberships go with their post (ON DELETE
    CASCADE). Their local files are released (:mod:`backchannel.store.released`).
    """
    uris = list(session.scalars(select(Post.uri).where(Post.id.in_(post_ids))))
    if uris:
        session.execute(update(Post).where(Post.quote_uri.in_(uris)).values(quote_snapshot=None))
    where = Media.post_id.in_(post_ids)
    if author_ids:
        where = where | Media.author_id.in_(author_ids)
    release(session, session.scalars(select(Media.sha256).where(where, Media.sha256.is_not(None))))
    session.execute(delete(Media).where(where))
    session.execute(delete(Post).where(Post.id.in_(post_ids)))
    session.execute(delete(Author).where(Author.id.in_(author_ids)))
    session.flush()


def erase_orphans(session: Session, post_ids: set[int]) -> int:
    """Delete those of ``post_ids`` that no event holds any more, and authors left postless."""
    still_claimed = set(
        session.scalars(select(EventPost.post_id).where(EventPost.post_id.in_(post_ids)))
    )
    orphans = post_ids - still_claimed
    if orphans:
        media = select(Media.sha256).where(Media.post_id.in_(orphans), Media.sha256.is_not(None))
        release(session, session.scalars(media))
        session.execute(delete(Post).where(Post.id.in_(orphans)))
        session.execute(delete(Author).where(~Author.posts.any()))
    return len(orphans)


def sync_profile_media(session: Session, event_id: int | None = None) -> set[str]:
    """Avatar and custom emoji rows for the posts of an event (or all events).

    A changed avatar URL resets its row to ``pending``; an avatar that went away loses
    its row. Returns the sha256 of local copies no longer used by those rows.
    """
    query = select(Post.author_id, Post.emojis).where(Post.deleted_at.is_(None))
    if event_id is not None:
        query = query.join(EventPost, EventPost.post_id == Post.id).where(
            EventPost.event_id == event_id
        )
    author_ids: set[int] = set()
    emoji_urls: set[str] = set()
    for author_id, emojis in session.execute(query):
        author_ids.add(author_id)
        emoji_urls.update(_urls(emojis))
    released: set[str] = set()
    ids = sorted(author_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        avatars: dict[int, str | None] = {}
        for author_id, avatar_url, emojis in session.execute(
            select(Author.id, Author.avatar_url, Author.emojis).where(Author.id.in_(chunk))
        ):
            avatars[author_id] = avatar_url
            emoji_urls.update(_urls(emojis))
        released |= _sync_avatars(session, chunk, avatars)
    urls = sorted(emoji_urls)
    for start in range(0, len(urls), _CHUNK):
        chunk_urls = urls[start : start + _CHUNK]
        known = set(
            session.scalars(
                select(Media.remote_url).where(
                    Media.kind == "emoji", Media.remote_url.in_(chunk_urls)
                )
            )
        )
        for url in chunk_urls:
            if url not in known:
                session.add(Media(kind="emoji", remote_url=url, position=0))
    release(session, released)
    session.flush()
    return released


def _sync_avatars(session: Session, chunk: list[int], avatars: dict[int, str | None]) -> set[str]:
    released: set[str] = set()
    rows = {
        m.author_id: m
        for m in session.scalars(
            select(Media).where(
                Media.kind == "avatar", Media.post_id.is_(None), Media.author_id.in_(chunk)
            )
        )
    }
    for author_id in chunk:
        url = avatars.get(author_id)
        row = rows.get(author_id)
        if row is None:
            if url:
                session.add(Media(kind="avatar", author_id=author_id, remote_url=url, position=0))
            continue
        if row.remote_url == url:
            continue
        if row.sha256:
            released.add(row.sha256)
        if not url:
            session.delete(row)
            continue
        row.remote_url = url
        row.sha256 = row.local_path = row.content_type = row.fetch_error = None
        row.size = row.fetched_at = None
        row.fetch_state, row.fetch_attempts = "pending", 0
    return released


def _urls(pairs: Iterable[object] | None) -> set[str]:
    """The URLs of stored ``[[shortcode, url], ...]`` pairs."""
    found = set()
    for pair in pairs or []:
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[1], str):
            if pair[1].startswith(("https://", "http://")):
                found.add(pair[1])
    return found
