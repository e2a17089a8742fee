"""Which posts of an event may be published, and which may be indexed: one place.

:func:`load_index` reads a light row for every post the event may publish (no text,
no HTML), in chronological order, with the authors, media, tags, links and sightings
that go with them. Everything heavier is loaded day by day later.

:func:`backchannel.consent.rule.verdict` is the single rule for a post (the store applies
the same one at collection), applied here after the SQL filter of
:func:`candidate_posts`:

* a post the curator hid, or that was deleted at its source, is left out of everything;
* a post that is not public is left out (the collectors never store one; belt and braces);
* an author excluded by :func:`backchannel.consent.rule.exclusion_reason` under the event's
  policy *today* (its consent overrides and opt-in setting) is left out, so a stricter
  setting after collection changes the next export;
* an author whose ``indexable`` is false is published but not indexed: kept out of the
  search index, the data downloads and the feed;
* a post seen only in imported files follows the event's choice for them
  (:mod:`backchannel.consent.imported`): by default published only where a story uses
  it, and not indexed.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from itertools import groupby
from operator import attrgetter, itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Select, String, select, type_coerce
from sqlalchemy.orm import Session

from backchannel import consent
from backchannel.consent import Policy, Verdict, author_verdict, imported_rule, verdict
from backchannel.export.columns import (
    IndexedPost,
    PostColumns,
    PostRange,
    PostRows,
    PostsByUri,
    anchor_for,
    as_range,
)
from backchannel.export.dates import Dates
from backchannel.export.locale_names import DEFAULT_LOCALE
from backchannel.export.packed import KEY_BYTES, KeyColumn, key_text
from backchannel.store import (
    Author,
    Event,
    EventPost,
    Link,
    Media,
    Post,
    PostSighting,
    PostTag,
    Tag,
)

_IN_CHUNK = 500

__all__ = [  # the index's parts, imported from here by the export's modules
    "KEY_BYTES", "AuthorRow", "EventIndex", "IndexedPost", "KeyColumn", "MediaRow",
    "PostColumns", "PostRange", "PostRows", "PostsByUri", "anchor_for", "as_range",
    "candidate_posts", "chunks", "event_policy", "key_text", "load_index",
]  # fmt: skip


def event_policy(
    session: Session, event: Event, allow_bots: bool = False, default_opt_in: bool = False
) -> Policy:
    """The consent policy in force for ``event`` now (see :func:`consent.event_policy`)."""
    return consent.event_policy(session, event, default_opt_in, allow_bots)


def candidate_posts(event_id: int) -> Select[Any]:
    """The SQL half of the rule: the event's posts that are not hidden nor deleted."""
    # The times come as the driver gives them (naive UTC on SQLite), made aware by
    # :func:`_utc` only where needed: the UTC column type would convert every one of
    # them (a tenth of the index's time on 100,000 posts). ``deleted_at`` is always
    # NULL here: the WHERE below leaves deleted posts out.
    return (
        select(
            Post.id,
            Post.uri,
            type_coerce(Post.created_at, DateTime()),
            Post.author_id,
            Post.platform,
            Post.language,
            Post.reply_to_uri,
            Post.quote_uri,
            EventPost.state,
            type_coerce(Post.edited_at, DateTime()),
            type_coerce(Post.fetched_at, String()),
            Post.cid,
            Post.sensitive,
            Post.content_warning.is_not(None),
            Post.reply_count,
            Post.repost_count,
            Post.like_count,
            Post.quote_count,
            Post.visibility,
        )
        .join(EventPost, EventPost.post_id == Post.id)
        .where(
            EventPost.event_id == event_id,
            EventPost.state != "hidden",
            Post.deleted_at.is_(None),
        )
        .order_by(Post.created_at, Post.uri)
    )


@dataclass(slots=True)
class AuthorRow:
    id: int
    platform: str
    uri: str
    handle: str
    display_name: str
    profile_url: str | None
    bot: bool
    indexable: bool
    emojis: list[list[str]]

    def fingerprint(self) -> tuple[Any, ...]:
        return (self.handle, self.display_name, self.profile_url, self.bot, self.indexable,
                repr(self.emojis))  # fmt: skip


@dataclass(slots=True)
class MediaRow:
    id: int
    post_id: int | None
    author_id: int | None
    position: int
    kind: str
    alt: str | None
    width: int | None
    height: int | None
    sha256: str | None
    local_path: str | None
    content_type: str | None
    fetch_state: str

    def fingerprint(self) -> tuple[Any, ...]:
        return (self.kind, self.alt, self.width, self.height, self.sha256, self.fetch_state)


@dataclass
class EventIndex:
    """What the exporter knows about one event before it renders anything."""

    event: Event
    zone: ZoneInfo
    policy: Policy
    columns: PostColumns = field(default_factory=PostColumns)
    posts: PostRange = field(init=False)  # chronological
    by_uri: PostsByUri = field(init=False)
    authors: dict[int, AuthorRow] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> posts
    excluded_posts: dict[int, str] = field(default_factory=dict)  # post id -> its reason
    avatars: dict[int, MediaRow] = field(default_factory=dict)  # author id -> row
    sightings: dict[str, int] = field(default_factory=dict)  # server -> posts
    days: dict[str, PostRange] = field(default_factory=dict)  # each a range of posts
    cache: dict[str, Any] = field(default_factory=dict)  # what is worked out once an export
    locale: str = DEFAULT_LOCALE  # the archive's ([export] locale)

    def __post_init__(self) -> None:
        self.posts = PostRange(self.columns)
        self.by_uri = PostsByUri(self.columns)

    @cached_property
    def dates(self) -> Dates:
        """How the archive writes this event's dates and times."""
        return Dates(self.zone, self.locale)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def load_index(
    session: Session,
    event: Event,
    allow_bots: bool = False,
    default_opt_in: bool = False,
    locale: str = DEFAULT_LOCALE,
    only: Collection[int] | None = None,
) -> EventIndex:
    """The event's index; of the posts ``only`` names (a few changed posts, to patch a
    kept index with: :mod:`backchannel.export.kept_index`) when given."""
    zone = ZoneInfo(event.timezone)
    policy = event_policy(session, event, allow_bots, default_opt_in)
    index = EventIndex(event=event, zone=zone, policy=policy, locale=locale)
    candidates = candidate_posts(event.id)
    rows: Iterable[Any]
    if only is None:
        column = candidates.order_by(None).subquery().c.author_id
        author_ids = list(session.scalars(select(column).distinct().order_by(column)))
        # Streamed in batches: never every candidate row at once beside the index.
        rows = session.connection().execute(candidates.execution_options(yield_per=2000))
    else:
        rows = sorted(
            (row for chunk in _chunks(sorted(only))
             for row in session.connection().execute(candidates.where(Post.id.in_(chunk)))),
            key=lambda row: (_utc(row[2]), row[1]),
        )  # fmt: skip
        author_ids = sorted({row[3] for row in rows})
    author_verdicts: dict[int, Verdict] = {}
    for chunk in _chunks(author_ids):
        # Plain rows, not ORM objects: the consent rule reads only column attributes.
        for author in session.connection().execute(
            select(*Author.__table__.columns).where(Author.id.in_(chunk))
        ):
            decided = author_verdict(author, index.policy)
            author_verdicts[author.id] = decided
            if decided.publish:
                index.authors[author.id] = AuthorRow(
                    author.id, author.platform, author.uri, author.handle,
                    author.display_name or "", author.profile_url,
                    author.bot, decided.index, [list(e) for e in author.emojis or []],
                )  # fmt: skip
    excluded: dict[str, int] = defaultdict(int)
    imported = imported_rule(session, event)  # posts seen only in imported files
    allowed = {a for a, row in index.authors.items()
               if consent.normalize_handle(row.handle) in policy.allowed}  # fmt: skip
    columns = index.columns
    day_of: dict[date, int] = {}
    for row in rows:
        (pid, uri, created, author_id, platform, language, reply_to, quote, state,
         edited, fetched, cid, sensitive, has_cw, r, b, lk, q, visibility) = row  # fmt: skip
        decided = verdict(state, None, visibility, author_verdicts[author_id])
        if imported.imported_only:
            decided = imported.apply(pid, decided, author_id in allowed)
        if not decided.publish:
            excluded[decided.reason or "excluded"] += 1
            index.excluded_posts[pid] = decided.reason or "excluded"
            continue
        created = _utc(created)
        local = created.astimezone(zone).date()
        day = day_of.get(local)
        if day is None:
            day = day_of[local] = columns.code(local.isoformat())
        columns.add(
            pid, uri, created, author_id, columns.code(platform), columns.code(language),
            reply_to, quote, _utc(edited) if edited is not None else None, day,
            _version(fetched, cid), (r or 0, b or 0, lk or 0, q or 0),
            featured=state == "featured", sensitive=bool(sensitive), has_cw=bool(has_cw),
            indexable=decided.index,
        )  # fmt: skip
    day_ranges(index)
    columns.finish()
    index.posts = PostRange(columns)
    index.excluded = dict(sorted(excluded.items()))
    # Only the authors of published posts: what the pages show, and what a kept index
    # patched with changed posts holds too.
    published = set(columns.authors)
    index.authors = {a: row for a, row in index.authors.items() if a in published}
    _load_children(session, index, only)
    return index


def day_ranges(index: EventIndex) -> None:
    """Each day's range of rows (the rows are chronological: a day's rows are together)."""
    columns = index.columns
    index.days = {}
    first = 0
    while first < len(columns.ids):
        code = columns.days[first]
        last = first
        while last < len(columns.ids) and columns.days[last] == code:
            last += 1
        index.days[columns.names[code]] = PostRange(columns, first, last)  # type: ignore[index]
        first = last


def count_sightings(index: EventIndex) -> None:
    """``index.sightings`` from each post's servers."""
    columns = index.columns
    index.sightings = {}
    for code, posts in sorted(Counter(columns.sighting_sets).items()):
        for server in columns.sets[code]:
            index.sightings[server] = index.sightings.get(server, 0) + posts


def _utc(moment: datetime) -> datetime:
    """What the UTC column type gives (see :class:`backchannel.store.base.UTCDateTime`)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _version(fetched: str | None, cid: str | None) -> int:
    """Eight bytes for what two columns would hold (a post is kept for every export).
    ``fetched`` is the fetch time as the database writes it: only its changes matter."""
    text = f"{fetched or ''}|{cid or ''}"
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest())


def _load_children(session: Session, index: EventIndex, only: Collection[int] | None) -> None:
    """Tags, links, media and sightings of the event's posts (of ``only``'s, when
    given): one query each, joined on the event (not one per chunk of ids), keeping
    only the published posts."""
    columns = index.columns
    same: dict[Any, int] = {(): 0}  # one copy of each tag name, link and set of them
    if only is None:
        posts: list[Any] = [
            select(EventPost.post_id).where(EventPost.event_id == index.event.id).scalar_subquery()
        ]
    else:
        posts = _chunks(sorted(only))
    tags = select(PostTag.post_id, Tag.name).join(Tag, Tag.id == PostTag.tag_id)
    links = select(Link.post_id, Link.url)
    sightings = select(PostSighting.post_id, PostSighting.server)
    for chosen in posts:
        for query, order, sets in (
            (tags.where(PostTag.post_id.in_(chosen)), (PostTag.post_id, Tag.name),
             columns.tag_sets),
            (links.where(Link.post_id.in_(chosen)), (Link.post_id, Link.position),
             columns.link_sets),
            (sightings.where(PostSighting.post_id.in_(chosen)),
             (PostSighting.post_id, PostSighting.server), columns.sighting_sets),
        ):  # fmt: skip
            # Ordered by post: each post's values arrive together.
            for post_id, values in groupby(session.connection().execute(query.order_by(*order)),
                                           key=itemgetter(0)):  # fmt: skip
                row = columns.row_of_id(post_id)
                if row is not None:
                    value = tuple(_shared(same, name) for _, name in values)
                    sets[row] = _code(same, columns.sets, value)
        for post_id, media in groupby(_media_rows(session, Media.post_id.in_(chosen)),
                                      key=attrgetter("post_id")):  # fmt: skip
            row = columns.row_of_id(post_id)
            if row is not None:
                columns.media_sets[row] = len(columns.media_lists)
                columns.media_lists.append(list(media))
    del same
    count_sightings(index)
    for chunk in _chunks(sorted(index.authors)):
        for media in _media_rows(
            session, Media.author_id.in_(chunk), Media.kind == "avatar", Media.post_id.is_(None)
        ):
            index.avatars.setdefault(media.author_id or 0, media)


def _shared(same: dict[Any, Any], name: str) -> str:
    """One copy of each tag name and link (kept in ``same`` beside the sets' codes)."""
    return same.setdefault(name, name)  # type: ignore[no-any-return]


def _code(same: dict[Any, int], sets: list[tuple[str, ...]], value: tuple[str, ...]) -> int:
    """The code of ``value`` in ``sets``: equal sets are held once."""
    code = same.get(value)
    if code is None:
        code = same[value] = len(sets)
        sets.append(value)
    return code


def _media_rows(session: Session, *where: Any) -> list[MediaRow]:
    rows = session.connection().execute(
        select(
            Media.id, Media.post_id, Media.author_id, Media.position, Media.kind, Media.alt, Media.width, Media.height, Media.sha256,
            Media.local_path, Media.content_type, Media.fetch_state,
        ).where(*where).order_by(Media.post_id, Media.author_id, Media.position, Media.id)
    )  # fmt: skip
    # One copy of each kind, type and state: the driver gives a new string every row.
    same: dict[str | None, str | None] = {}
    return [
        MediaRow(i, post, author, at, same.setdefault(kind, kind), alt, width, height, sha,
                 path, same.setdefault(mime, mime), same.setdefault(state, state))  # type: ignore[arg-type]
        for i, post, author, at, kind, alt, width, height, sha, path, mime, state in rows
    ]  # fmt: skip


def _chunks(items: list[int]) -> list[list[int]]:
    return [items[i : i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]


def chunks(items: list[int], size: int = _IN_CHUNK) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
