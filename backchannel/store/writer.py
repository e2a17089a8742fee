"""The only writer of collected data: idempotent upserts, cursors, collection runs.

:func:`save_page` stores one page of posts and the cursor after it inside the
caller's transaction, so the two are committed together or not at all. Storing the
same page twice changes nothing; a newer edit of a post replaces the older version.
Lookups are batched per page (one query per table, not per post); the row-level
writes are in :mod:`backchannel.store.rows`, shared with :mod:`backchannel.store.upkeep`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.collectors import NormalizedAuthor, NormalizedPost, Page
from backchannel.consent import (
    DELETED,
    Policy,
    exclusions,
    handle_key,
    key_hash,
    post_exclusion_reason,
)
from backchannel.store.driver import Driver
from backchannel.store.models import Author, Cursor, EventSource, Exclusion, Post
from backchannel.store.rows import (
    POST_FIELDS,
    author_ids,
    include_all_in_event,
    insert_children,
    is_newer,
    page_tag_ids,
    post_values,
    record_sightings_bulk,
    replace_post,
)

log = logging.getLogger(__name__)

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

    The common work is a few set-based statements per page, run at driver level
    (:mod:`backchannel.store.driver`): one query each for tombstones, authors and posts
    already there; one INSERT each for new authors and posts (ids taken up front: under
    SQLite's write lock, or from PostgreSQL's sequence), tags, links, media, sightings and
    event rows. Posts stored before
    cost a query each for their sightings and event rows, and UPDATEs only for authors,
    counts and sightings that changed or were seen again. An edit newer than the
    stored post (rare) goes through the ORM, as ``recheck`` does.
    """
    result = save_posts(session, Target(source.event_id, source.base_url), page.posts, policy,
                        lambda post: hashtag in post.tags)  # fmt: skip
    result.skipped.update(page.skipped)
    _save_cursor(session, Driver(session), source.id, hashtag, page.cursor, datetime.now(UTC))
    return result


class Target(NamedTuple):
    """Where posts are stored: their event, and the server (or import) they came from."""

    event_id: int
    base_url: str


def save_posts(
    session: Session,
    target: Target,
    posts: list[NormalizedPost],
    policy: Policy,
    wanted_tag: Callable[[NormalizedPost], bool],
) -> PageResult:
    """Store posts for ``target``'s event under the consent rule and the tombstones (the
    work of :func:`save_page` without a cursor; imports call it too). A post for which
    ``wanted_tag`` is false is skipped as ``tag not in post``."""
    result = PageResult()
    now = datetime.now(UTC)
    wanted: dict[str, NormalizedPost] = {}
    left_out: list[tuple[str, str, str]] = []  # (uri, handle, reason), recorded below
    refused: list[NormalizedAuthor] = []
    for post in posts:
        if not wanted_tag(post):
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
    driver = Driver(session)
    digests = {uri: key_hash(uri) for uri in wanted}
    for uri, label in _tombstoned(driver, wanted.values(), digests).items():
        result.skipped[label] += 1
        left_out.append((uri, "", label))
        del wanted[uri], digests[uri]
    # A new opt-out reaches the posts stored before it: the author's row learns it, and
    # the export (which applies the same rule) stops publishing them.
    author_ids(driver, refused, now, add=False)
    _record_exclusions(driver, target.event_id, left_out, now)
    # Posts now kept (an allow entry, a signal withdrawn) are no longer left out.
    _clear_exclusions(driver, target.event_id, list(digests.values()))
    if wanted:
        _store_posts(session, driver, target, wanted, now, result)
    return result


_EXISTING = (
    "id", "uri", "cid", "edited_at", "reply_count", "repost_count", "like_count", "quote_count"
)  # fmt: skip
_POST_INSERT = ("uri", "author_id", *POST_FIELDS)


class _Stored(NamedTuple):
    """What the page path needs of a post stored before."""

    id: int
    uri: str
    cid: str | None
    edited_at: datetime | None
    reply_count: int
    repost_count: int
    like_count: int
    quote_count: int


def _store_posts(
    session: Session,
    driver: Driver,
    source: Target,
    wanted: dict[str, NormalizedPost],
    now: datetime,
    result: PageResult,
) -> None:
    server = source.base_url
    authors = author_ids(driver, [p.author for p in wanted.values()], now, add=True)
    table = Post.__table__
    decode = driver.decoder(table, _EXISTING)
    where, params = driver.in_list(list(wanted))
    existing = {
        row.uri: row
        for row in map(
            lambda raw: _Stored(*decode(raw)),
            driver.rows(f"SELECT {driver.names(_EXISTING)} FROM posts WHERE uri {where}", params),
        )
    }
    tag_ids = page_tag_ids(driver, {t for p in wanted.values() for t in p.tags})
    parents = _parent_uris(driver, server, wanted.values())
    new_rows: list[list[Any]] = []
    new_posts: list[NormalizedPost] = []
    known: list[tuple[int, NormalizedPost]] = []  # stored before this page
    counts: list[tuple[int, int, int, int, int]] = []
    for uri, post in wanted.items():
        author_id = authors[(post.author.platform, post.author.uri)]
        if post.reply_to_uri is None and post.reply_to_native_id in parents:
            post.reply_to_uri = parents[post.reply_to_native_id]
        row = existing.get(uri)
        if row is None:
            new_rows.append([uri, author_id, *post_values(post, server, now)])
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
            counts.append((post.reply_count, post.repost_count, post.like_count,
                           post.quote_count, row.id))  # fmt: skip
    if result.updated:
        session.flush()  # the edits' new children, before the statements below
    if counts:
        counts.sort(key=lambda values: values[-1])  # by primary key: one lock order
        m = driver.mark
        driver.many(
            f"UPDATE posts SET reply_count = {m}, repost_count = {m}, like_count = {m}, "
            f"quote_count = {m} WHERE id = {m}",
            counts,
        )
    new_ids: list[int] = []
    if new_rows:
        # One multi-row INSERT (RETURNING the ids), then the children the same way.
        # In uri order: concurrent sources inserting the same new posts then take their
        # index locks in one order (PostgreSQL would otherwise deadlock them).
        new_rows.sort(key=lambda values: values[0])
        new_ids = driver.insert_ids("posts", _POST_INSERT, _encoded_posts(driver, new_rows, wanted))
        new_posts = [wanted[values[0]] for values in new_rows]
        insert_children(driver, zip(new_ids, new_posts, strict=True), tag_ids)
    record_sightings_bulk(driver, new_ids, new_posts, known, server, now)
    include_all_in_event(driver, source.event_id, new_ids, [post_id for post_id, _ in known])


_RAW_AT = _POST_INSERT.index("raw")


def _encoded_posts(
    driver: Driver, rows: list[list[Any]], posts: dict[str, NormalizedPost]
) -> list[list[Any]]:
    """Rows of ``_POST_INSERT`` values as the driver takes them; ``raw`` as the text
    received where the collector kept it (serialising it again costs as much as
    parsing it did)."""
    encode = driver.encoder(Post.__table__, _POST_INSERT)
    out = []
    for values in rows:
        text = posts[values[0]].raw_json
        if text is None:
            out.append(encode(values))
            continue
        values[_RAW_AT] = None
        encoded = encode(values)
        encoded[_RAW_AT] = text
        out.append(encoded)
    return out


def _tombstoned(driver: Driver, posts: Any, digests: dict[str, str]) -> dict[str, str]:
    """Posts a tombstone keeps out (by post, author or handle), with the reason to count."""
    keys = {p.uri: (digests[p.uri], *_author_keys(p.author.uri, p.author.handle)) for p in posts}
    if not keys:
        return {}
    where, params = driver.in_list(
        sorted({digest for triple in keys.values() for digest in triple})
    )
    found = dict(
        driver.rows(f"SELECT key_sha256, reason FROM tombstones WHERE key_sha256 {where}", params)
    )
    out = {}
    for uri, triple in keys.items():
        reasons = [found[digest] for digest in triple if digest in found]
        if reasons:
            out[uri] = DELETED if reasons == [DELETED] else FORGOTTEN
    return out


_EXCLUSION_COLUMNS = (
    "event_id", "post_key_sha256", "author_handle", "reason", "first_seen_at", "last_seen_at"
)  # fmt: skip


def _record_exclusions(
    driver: Driver, event_id: int, left_out: list[tuple[str, str, str]], now: datetime
) -> None:
    """:func:`backchannel.consent.exclusions.record`, at driver level: one atomic upsert each,
    as concurrent sources meet the same left-out post."""
    if not left_out:
        return
    encode = driver.encoder(Exclusion.__table__, _EXCLUSION_COLUMNS)
    values = [
        encode([row[name] for name in _EXCLUSION_COLUMNS])
        for row in exclusions.rows(event_id, left_out, now)
    ]
    marks = ", ".join([driver.mark] * len(_EXCLUSION_COLUMNS))
    driver.many(
        f"INSERT INTO exclusions ({driver.names(_EXCLUSION_COLUMNS)}) VALUES ({marks}) "
        "ON CONFLICT (event_id, post_key_sha256) DO UPDATE SET "
        "author_handle = excluded.author_handle, reason = excluded.reason, "
        "last_seen_at = excluded.last_seen_at",
        values,
    )


@lru_cache(maxsize=4096)
def _author_keys(uri: str, handle: str) -> tuple[str, str]:
    """The tombstone keys of an author; authors come back page after page."""
    return key_hash(uri), handle_key(handle)


def _clear_exclusions(driver: Driver, event_id: int, digests: list[str]) -> None:
    """:func:`backchannel.consent.exclusions.clear`, at driver level."""
    if digests:
        where, params = driver.in_list(digests)
        driver.run(
            f"DELETE FROM exclusions WHERE event_id = {driver.mark} AND post_key_sha256 {where}",
            [event_id, *params],
        )


def _parent_uris(driver: Driver, server: str, posts: Any) -> dict[str, str]:
    """Reply parents named only by this server's local id, resolved through sightings.

    Mastodon gives a reply's parent as the queried server's own id; the forward walk
    stores older posts first, so the parent is usually already here.
    """
    wanted = {p.reply_to_native_id for p in posts if p.reply_to_uri is None}
    wanted.discard(None)
    if not wanted:
        return {}
    where, params = driver.in_list(sorted(wanted))
    rows = driver.rows(
        "SELECT s.native_id, p.uri FROM post_sightings s JOIN posts p ON p.id = s.post_id "
        f"WHERE s.server = {driver.mark} AND s.native_id {where}",
        [server, *params],
    )
    return dict(rows)


_CURSOR_COLUMNS = ("state", "updated_at", "source_id", "hashtag")


def _save_cursor(
    session: Session,
    driver: Driver,
    source_id: int,
    hashtag: str,
    state: dict[str, Any],
    now: datetime,
) -> None:
    """:func:`save_cursor`, at driver level: one UPDATE, or an INSERT the first time."""
    values = driver.encoder(Cursor.__table__, _CURSOR_COLUMNS)((state, now, source_id, hashtag))
    m = driver.mark
    changed = driver.run(
        f"UPDATE cursors SET state = {m}, updated_at = {m} WHERE source_id = {m} AND hashtag = {m}",
        values,
    )
    if not changed:
        driver.insert("cursors", _CURSOR_COLUMNS, [values])
    for row in list(session.identity_map.values()):
        if isinstance(row, Cursor):
            session.expire(row)  # a Cursor loaded before would not see the new state


# -- collection runs --------------------------------------------------------------------


def reset_cursors(session: Session, event_id: int, hashtags: Collection[str] | None = None) -> int:
    """Forget where collection of an event stands (of ``hashtags`` only, when given),
    so the next run re-reads its window.

    For a loosened consent decision: posts declined earlier were never stored, and
    cursors past them would never bring them back. Upserts make the re-read harmless.
    For a hashtag an event no longer has: adding it back reads it from the start.
    """
    source_ids = select(EventSource.id).where(EventSource.event_id == event_id)
    chosen = delete(Cursor).where(Cursor.source_id.in_(source_ids))
    if hashtags is not None:
        chosen = chosen.where(Cursor.hashtag.in_(list(hashtags)))
    return session.execute(chosen).rowcount or 0
