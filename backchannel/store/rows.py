"""Row-level writes of collected data, shared by the store and its upkeep.

:mod:`backchannel.store.writer` (pages of newly collected posts) and
:mod:`backchannel.store.upkeep` (rechecks, removals) both write authors, posts and their
children through these helpers, so a post is written the same way whichever path
stores it. The page path uses the set-based helpers (one statement per table); edits
use :func:`replace_post` through the ORM.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.collectors import NormalizedAuthor, NormalizedMedia, NormalizedPost
from backchannel.store.driver import Driver
from backchannel.store.models import (
    Author,
    EventPost,
    Link,
    Media,
    Post,
    PostSighting,
    PostTag,
    Tag,
)
from backchannel.store.released import release

log = logging.getLogger(__name__)

MEDIA_URL_MAX = 2000  # the columns' length: no file's address is longer
# A media item refused as it is stored: "failed" with more tries than any run makes
# (media.fetch's MAX_ATTEMPTS), as media fetch marks a file it refused.
REFUSED_TRIES = 1000


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
_AUTHOR_LOOKUP = ("id", "platform", "uri", *_AUTHOR_FIELDS)
_AUTHOR_INSERT = ("platform", "uri", *_AUTHOR_FIELDS, "updated_at")
_AUTHOR_UPDATE = (*_AUTHOR_FIELDS, "updated_at", "id")
_NOINDEX, _CHECKED = _AUTHOR_FIELDS.index("noindex"), _AUTHOR_FIELDS.index("last_checked_at")


def _author_values(author: NormalizedAuthor, stored: list[Any] | None = None) -> list[Any]:
    """What :func:`_apply_author` would set (``updated_at`` aside), in ``_AUTHOR_FIELDS``
    order, as is ``stored`` (the row's values)."""
    return [
        author.handle,
        author.display_name,
        author.display_name_html,
        author.avatar_url,
        author.profile_url,
        author.home_server,
        author.bot,
        # Tag timelines omit noindex; keep what a lookup found.
        author.noindex if author.noindex is not None or stored is None else stored[_NOINDEX],
        author.home_checked_at
        if author.home_checked_at is not None or stored is None
        else stored[_CHECKED],
        author.indexable,
        author.discoverable,
        author.suspended,
        author.limited,
        author.bio_text,
        list(author.labels),
        [list(e) for e in author.emojis],
    ]


def author_ids(
    driver: Driver, authors: list[NormalizedAuthor], now: datetime, add: bool
) -> dict[tuple[str, str], int]:
    """The id of each author's row, which is brought up to date (``updated_at`` too)
    only when something about the author changed. New authors are added when ``add``
    (else left out: the posts of refused authors never add one)."""
    unique = {(a.platform, a.uri): a for a in authors}
    if not unique:
        return {}
    table = Author.__table__
    decode = driver.decoder(table, _AUTHOR_LOOKUP)
    stored = {}
    for platform in sorted({platform for platform, _ in unique}):
        # By (platform, uri): the unique index's order (uri alone would scan the table).
        where, params = driver.in_list([uri for p, uri in unique if p == platform])
        for row in driver.rows(
            f"SELECT {driver.names(_AUTHOR_LOOKUP)} FROM authors "
            f"WHERE platform = {driver.mark} AND uri {where}",
            [platform, *params],
        ):
            stored[(row[1], row[2])] = row
    ids: dict[tuple[str, str], int] = {}
    changed: list[list[Any]] = []
    added: list[list[Any]] = []
    for key, author in unique.items():
        row = stored.get(key)
        if row is None:
            if add:
                added.append([author.platform, author.uri, *_author_values(author), now])
            continue
        ids[key] = row[0]
        current = decode(row)[3:]
        values = _author_values(author, current)
        if values != current:
            changed.append([*values, now, row[0]])
    # In primary-key order, as the unit of work would: concurrent sources touching the
    # same authors then take their row locks in one order (no deadlock on PostgreSQL).
    if changed:
        changed.sort(key=lambda values: values[-1])
        encode = driver.encoder(table, _AUTHOR_UPDATE)
        assignments = ", ".join(f"{name} = {driver.mark}" for name in driver.quoted(_AUTHOR_FIELDS))
        driver.many(
            f"UPDATE authors SET {assignments}, updated_at = {driver.mark} WHERE id = {driver.mark}",
            [encode(values) for values in changed],
        )
    if added:
        added.sort(key=lambda values: (values[0], values[1]))
        encode = driver.encoder(table, _AUTHOR_INSERT)
        new_ids = driver.insert_ids("authors", _AUTHOR_INSERT, [encode(values) for values in added])
        ids.update(((values[0], values[1]), i) for values, i in zip(added, new_ids, strict=True))
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


POST_FIELDS = (
    "platform", "url", "created_at", "edited_at", "indexed_at", "text", "html", "language",
    "content_warning", "sensitive", "visibility", "reply_to_uri", "reply_root_uri",
    "quote_uri", "quote_snapshot", "reply_count", "repost_count", "like_count",
    "quote_count", "emojis", "mentions", "poll", "card", "labels", "cid", "raw",
    "fetched_at", "fetched_from",
)  # fmt: skip


def post_values(post: NormalizedPost, fetched_from: str, now: datetime) -> list[Any]:
    """The stored fields of ``post``, in ``POST_FIELDS`` order."""
    return [
        post.platform, post.url, post.created_at, post.edited_at, post.indexed_at,
        post.text, post.html, post.language, post.content_warning or None, post.sensitive,
        post.visibility, post.reply_to_uri, post.reply_root_uri, post.quote_uri,
        post.quote_snapshot, post.reply_count, post.repost_count, post.like_count,
        post.quote_count, [list(e) for e in post.emojis], [list(m) for m in post.mentions],
        post.poll, post.card, list(post.labels), post.cid, post.raw, now, fetched_from,
    ]  # fmt: skip


def post_fields(post: NormalizedPost, fetched_from: str, now: datetime) -> dict[str, Any]:
    return dict(zip(POST_FIELDS, post_values(post, fetched_from, now), strict=True))


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
    release(session, [m.sha256 for m in row.media if m.sha256])  # a kept file stays used
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
        kept = (kept_media or {}).get(media.url)
        session.add(_media_row(row.id, position, media, kept, row.uri))


def _media_row(
    post_id: int, position: int, media: NormalizedMedia, kept: Media | None, uri: str = ""
) -> Media:
    remote, preview, playlist, state, error = _fitting(media, uri or f"post {post_id}", position)
    row = Media(
        post_id=post_id,
        position=position,
        kind=media.kind,
        remote_url=remote,
        preview_url=preview,
        playlist_url=playlist,
        alt=media.alt,
        width=media.width,
        height=media.height,
        focus_x=media.focus_x,
        focus_y=media.focus_y,
        blurhash=media.blurhash,
        fetch_state=state,
        fetch_error=error,
        fetch_attempts=REFUSED_TRIES if error else 0,
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


def page_tag_ids(driver: Driver, names: set[str]) -> dict[str, int]:
    """:func:`ensure_tag_ids` for a page: one query, one INSERT for the new tags."""
    if not names:
        return {}
    where, params = driver.in_list(sorted(names))
    ids = dict(driver.rows(f"SELECT name, id FROM tags WHERE name {where}", params))
    missing = sorted(names - ids.keys())
    if missing:
        returned = driver.insert_returning(
            "tags", ("name",), [[n] for n in missing], ("name", "id")
        )
        ids.update(returned)
    return ids


_MEDIA_COLUMNS = (
    "post_id", "position", "kind", "remote_url", "preview_url", "playlist_url", "alt",
    "width", "height", "focus_x", "focus_y", "blurhash", "fetch_state", "fetch_error",
    "fetch_attempts",
)  # fmt: skip


def _fitting(
    media: NormalizedMedia, uri: str, position: int
) -> tuple[str | None, str | None, str | None, str, str | None]:
    """A media item's URLs as stored, with its fetch state and error: a URL longer than
    the column (a stranger's can be any length) is kept out, and the item refused with
    why, named in the log; the post and its other media are stored as usual."""

    def fits(url: str | None) -> str | None:
        return url if url is None or len(url) <= MEDIA_URL_MAX else None

    remote = fits(media.url)
    if not media.url or remote is not None:
        return remote, fits(media.preview_url), fits(media.playlist_url), "pending", None
    error = (
        f"the URL is {len(media.url):,} characters long (at most {MEDIA_URL_MAX:,}): not fetched"
    )
    log.warning("%s, media %d: %s", uri, position + 1, error)
    return None, fits(media.preview_url), fits(media.playlist_url), "failed", error


def insert_children(driver: Driver, rows: Any, tag_ids: dict[str, int]) -> None:
    """:func:`_write_children` for new posts: one executemany per table."""
    tags: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    media: list[tuple[Any, ...]] = []
    for post_id, post in rows:
        tags.extend((post_id, tag_ids[name]) for name in dict.fromkeys(post.tags))
        if post.links:
            links.extend(
                (post_id, position, url) for position, url in enumerate(dict.fromkeys(post.links))
            )
        for position, m in enumerate(post.media):
            remote, preview, playlist, state, error = _fitting(m, post.uri, position)
            media.append(
                (post_id, position, m.kind, remote, preview, playlist, m.alt, m.width,
                 m.height, m.focus_x, m.focus_y, m.blurhash, state, error,
                 REFUSED_TRIES if error else 0)
            )  # fmt: skip
    driver.insert("post_tags", ("post_id", "tag_id"), tags)
    driver.insert("links", ("post_id", "position", "url"), links)
    if media:
        encode = driver.encoder(Media.__table__, _MEDIA_COLUMNS)
        driver.insert("media", _MEDIA_COLUMNS, [encode(values) for values in media])


_SIGHTING_COLUMNS = ("post_id", "server", "native_id", "first_seen_at", "last_seen_at")


def record_sightings_bulk(
    driver: Driver,
    new_ids: list[int],
    new_posts: list[NormalizedPost],
    known: list[tuple[int, NormalizedPost]],
    server: str,
    now: datetime,
) -> None:
    """:func:`record_sighting` for a page: new posts have no sightings yet; those of
    posts stored before are looked up in one query, updated or added."""
    table = PostSighting.__table__
    sightings: dict[int, int] = {}
    if known:
        where, params = driver.in_list([post_id for post_id, _ in known])
        mark = driver.mark
        sightings = dict(
            driver.rows(
                f"SELECT post_id, id FROM post_sightings WHERE server = {mark} AND post_id {where}",
                [server, *params],
            )
        )
    encode = driver.encoder(table, _SIGHTING_COLUMNS)
    added = [
        encode((post_id, server, post.native_id, now, now))
        for post_id, post in [*zip(new_ids, new_posts, strict=True), *known]
        if post_id not in sightings
    ]
    seen = sorted(
        (sightings[post_id], post.native_id) for post_id, post in known if post_id in sightings
    )
    if seen:
        stamp = encode((None, None, None, None, now))[-1]
        mark = driver.mark
        driver.many(
            f"UPDATE post_sightings SET native_id = {mark}, last_seen_at = {mark} WHERE id = {mark}",
            [(native_id, stamp, sighting_id) for sighting_id, native_id in seen],
        )
    driver.insert("post_sightings", _SIGHTING_COLUMNS, added)


_EVENT_POST_COLUMNS = ("event_id", "post_id", "state", "added_at")


def include_all_in_event(
    driver: Driver, event_id: int, new_ids: list[int], known_ids: list[int] = ()
) -> None:
    """Make posts members of an event: one query (for posts stored before), one
    executemany INSERT."""
    present: set[int] = set()
    if known_ids:
        where, params = driver.in_list(known_ids)
        present = {
            post_id
            for (post_id,) in driver.rows(
                f"SELECT post_id FROM event_posts WHERE event_id = {driver.mark} AND post_id {where}",
                [event_id, *params],
            )
        }
    encode = driver.encoder(EventPost.__table__, _EVENT_POST_COLUMNS)
    now = datetime.now(UTC)
    rows = [
        encode((event_id, post_id, "included", now))
        for post_id in sorted(set(new_ids) | set(known_ids))  # one lock order for all
        if post_id not in present
    ]
    driver.insert("event_posts", _EVENT_POST_COLUMNS, rows)
