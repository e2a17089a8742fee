"""Registering events and their sources: validation first, then one transaction.

Every check runs before anything is written, so a bad input leaves the database as
it was. Dates without a time are whole days in the event's time zone: ``--end
2013-11-15`` means "until the end of the 15th there".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.collectors import Window, normalize_hashtag
from backchannel.errors import ConflictError, InputError, NotFoundError, about
from backchannel.store import Event, EventPost, EventSource, Post, PostSighting, erase_orphans

PLATFORMS = ("mastodon", "bluesky")
# What Mastodon accepts in a hashtag: letters, marks, digits, _, middle dot, ZWNJ.
_HASHTAG = re.compile(r"^[\w\u00b7\u200c\u0300-\u036f]+$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$")


@dataclass(frozen=True)
class EventSpec:
    """What the organiser asked for, unvalidated."""

    slug: str
    title: str
    hashtags: Sequence[str]
    start: str
    end: str
    timezone: str
    description: str = ""
    margin_before: str = "1d"
    margin_after: str = "1d"
    mastodon: Sequence[str] = ()
    bluesky: str | None = None  # the Bluesky service URL, when Bluesky is a source
    policy: str = "opt-out"
    discover: bool = False


def parse_hashtag(tag: str) -> str:
    """The stored form of a hashtag, or InputError if it cannot be one."""
    cleaned = unicodedata.normalize("NFC", tag.strip()).lstrip("#")
    if not cleaned or not _HASHTAG.match(cleaned):
        raise InputError(
            f"not a hashtag: {tag!r} (letters, digits and _ only; no spaces or punctuation)"
        )
    return normalize_hashtag(cleaned)


def parse_hashtags(tags: Sequence[str]) -> list[str]:
    """The stored forms, main one first, each once."""
    if not tags:
        raise InputError("an event needs at least one hashtag")
    return list(dict.fromkeys(parse_hashtag(tag) for tag in tags))


def parse_title(title: str) -> str:
    if not title.strip():
        raise InputError("an event needs a title")
    return " ".join(title.split())


def parse_policy(policy: str) -> str:
    if policy not in ("opt-out", "opt-in"):
        raise InputError(f'unknown policy {policy!r} (expected "opt-out" or "opt-in")')
    return policy


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(
            f"unknown time zone {name!r} (use an IANA name such as Pacific/Auckland)"
        ) from exc


def parse_local_time(value: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """A date or date-time in ``zone`` (or with an offset) as a UTC datetime.

    A bare date at the end of a window means the end of that day, so the window
    ``--start 2013-11-14 --end 2013-11-15`` covers both days whole.
    """
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
    except ValueError as exc:
        raise InputError(
            f"not a date or time: {value!r} (use 2013-11-14 or 2013-11-14T09:30)"
        ) from exc
    return moment.astimezone(UTC)


def parse_duration(value: str, what: str) -> int:
    """Minutes from ``90m``, ``6h``, ``1d`` or a bare number of minutes."""
    match = _DURATION.match(value)
    if not match:
        raise InputError(f"not a duration for {what}: {value!r} (use 90m, 6h or 1d)")
    number, unit = float(match.group(1)), match.group(2) or "m"
    return int(number * {"m": 1, "h": 60, "d": 1440}[unit])


def duration_text(minutes: int) -> str:
    """What :func:`parse_duration` reads back as ``minutes``: 1d, 6h or 90m."""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def parse_source_url(url: str) -> str:
    """A server's base URL, normalised: scheme and host lower-cased, no trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"not a server URL: {url!r} (expected https://server.example)")
    if parts.query or parts.fragment or parts.path.strip("/"):
        raise InputError(f"not a server URL: {url!r} (expected the server's address only)")
    netloc = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme.lower()}://{netloc}"


def parse_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise InputError(
            f"not a usable slug: {slug!r} (lower-case letters, digits, - and _, up to 64)"
        )
    return slug


def create_event(session: Session, spec: EventSpec) -> Event:
    with about("slug"):
        slug = parse_slug(spec.slug)
    with about("title"):
        title = parse_title(spec.title)
    with about("hashtags"):
        hashtags = parse_hashtags(spec.hashtags)
    with about("timezone"):
        zone = parse_timezone(spec.timezone)
    with about("start"):
        starts_at = parse_local_time(spec.start, zone, end=False)
    with about("end"):
        ends_at = parse_local_time(spec.end, zone, end=True)
        if ends_at <= starts_at:
            raise InputError(f"the event ends ({spec.end}) before it starts ({spec.start})")
    with about("margin_before"):
        margin_before = parse_duration(spec.margin_before, "--margin-before")
    with about("margin_after"):
        margin_after = parse_duration(spec.margin_after, "--margin-after")
    with about("policy"):
        policy = parse_policy(spec.policy)
    with about("mastodon"):
        sources = [("mastodon", parse_source_url(url)) for url in spec.mastodon]
    if spec.bluesky:
        sources.append(("bluesky", parse_source_url(spec.bluesky)))
    if session.scalar(select(Event.id).where(Event.slug == slug)) is not None:
        raise ConflictError(f"an event with the slug {slug!r} already exists", field="slug")
    event = Event(
        slug=slug,
        title=title,
        description=spec.description,
        hashtags=hashtags,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=spec.timezone,
        margin_before_minutes=margin_before,
        margin_after_minutes=margin_after,
        policy=policy,
        discover=spec.discover,
    )
    for platform, base_url in dict.fromkeys(sources):
        event.sources.append(EventSource(platform=platform, base_url=base_url))
    session.add(event)
    session.flush()
    return event


def get_event(session: Session, slug: str) -> Event:
    event = session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        known = session.scalars(select(Event.slug).order_by(Event.slug)).all()
        hint = f" (known: {', '.join(known)})" if known else " (no events yet: `event add`)"
        raise NotFoundError(f"no event {slug!r}{hint}")
    return event


def list_events(session: Session) -> list[Event]:
    return list(session.scalars(select(Event).order_by(Event.starts_at, Event.slug)))


def add_source(
    session: Session, event: Event, platform: str, base_url: str, discovered: bool = False
) -> EventSource:
    if platform not in PLATFORMS:
        raise InputError(f"unknown platform {platform!r}")
    base_url = parse_source_url(base_url)
    for source in event.sources:
        if source.platform == platform and source.base_url == base_url:
            raise ConflictError(f"{event.slug} already reads {platform} at {base_url}")
    source = EventSource(platform=platform, base_url=base_url, discovered=discovered)
    event.sources.append(source)
    session.flush()
    return source


def find_source(event: Event, url: str) -> EventSource:
    """The event's source at ``url`` (as ``add-source`` would write it), or a one-line
    error naming the sources it has."""
    wanted = parse_source_url(url)
    for source in event.sources:
        if source.base_url == wanted:
            return source
    have = ", ".join(s.base_url for s in event.sources) or "none"
    raise NotFoundError(f"{event.slug} reads nothing at {wanted} (its sources: {have})")


def posts_only_from(session: Session, event: Event, source: EventSource) -> set[int]:
    """The event's posts that ``source`` saw and none of its other sources did."""
    others = [s.base_url for s in event.sources if s.id != source.id]
    in_event = select(EventPost.post_id).where(EventPost.event_id == event.id)
    seen_here = set(session.scalars(
        select(PostSighting.post_id).where(PostSighting.server == source.base_url,
                                           PostSighting.post_id.in_(in_event))
    ))  # fmt: skip
    if not seen_here or not others:
        return seen_here
    seen_elsewhere = set(session.scalars(
        select(PostSighting.post_id).where(PostSighting.server.in_(others),
                                           PostSighting.post_id.in_(seen_here))
    ))  # fmt: skip
    return seen_here - seen_elsewhere


def remove_source(
    session: Session, event: Event, source: EventSource, delete_posts: bool = False
) -> tuple[int, int]:
    """Stop reading ``source`` for ``event`` (its cursors and runs go with it). The posts
    only it saw stay in the event unless ``delete_posts``; then they leave it, and those
    no other event holds are deleted. (posts only it saw, posts deleted)"""
    only_here = posts_only_from(session, event, source)
    event.sources.remove(source)
    session.flush()
    deleted = 0
    if delete_posts and only_here:
        for link in session.scalars(select(EventPost).where(EventPost.event_id == event.id,
                                                            EventPost.post_id.in_(only_here))):  # fmt: skip
            session.delete(link)
        session.flush()
        deleted = erase_orphans(session, only_here)
    return len(only_here), deleted


def set_bluesky_service(session: Session, event: Event, url: str) -> bool:
    """Read the event's Bluesky posts from the service at ``url`` from now on (its
    cursor kept: the service changes, not the network). False if it was that already."""
    wanted = parse_source_url(url)
    found = [s for s in event.sources if s.platform == "bluesky"]
    if not found:
        raise InputError(f"{event.slug} does not read Bluesky: add it with "
                         f"`backchannel event add-source {event.slug} --bluesky`")  # fmt: skip
    if found[0].base_url == wanted:
        return False
    found[0].base_url = wanted
    session.flush()
    return True


def remove_event(session: Session, event: Event) -> int:
    """Delete an event, and the posts and authors that belonged to it alone.

    Returns the number of posts deleted. Keeping posts that no event claims would
    keep personal data for no purpose.
    """
    post_ids = set(session.scalars(select(EventPost.post_id).where(EventPost.event_id == event.id)))
    session.delete(event)
    session.flush()
    return erase_orphans(session, post_ids)


def collection_window(event: Event) -> Window:
    return Window(
        event.starts_at - timedelta(minutes=event.margin_before_minutes),
        event.ends_at + timedelta(minutes=event.margin_after_minutes),
    )


def post_counts(session: Session, event: Event) -> dict[str, int]:
    """Posts in the event by platform (hidden ones included)."""
    rows = session.execute(
        select(Post.platform, func.count())
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event.id, Post.deleted_at.is_(None))
        .group_by(Post.platform)
    )
    return {platform: count for platform, count in rows}
