"""Changing a registered event: ``event edit`` and the studio's event page.

The same checks and messages as registering it (:mod:`backchannel.events`); nothing is
written unless every change is valid. What was collected stays: a change says how
many posts now fall outside, and never deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.consent import set_policy
from backchannel.errors import InputError, about
from backchannel.events import (
    collection_window,
    parse_duration,
    parse_hashtags,
    parse_local_time,
    parse_policy,
    parse_timezone,
    parse_title,
)
from backchannel.store import Event, EventPost, Post, PostTag, Tag, reset_cursors


@dataclass(frozen=True)
class EventChanges:
    """What an organiser changes in an event, unvalidated; None keeps a field as it is.

    ``hashtags`` replaces the whole list (the first is the primary one)."""

    title: str | None = None
    description: str | None = None
    hashtags: Sequence[str] | None = None
    start: str | None = None
    end: str | None = None
    timezone: str | None = None
    margin_before: str | None = None
    margin_after: str | None = None
    policy: str | None = None


# How a person reads the fields edit_event changes.
FIELD_NAMES = {
    "title": "title", "description": "description", "hashtags": "hashtags",
    "timezone": "time zone", "starts_at": "start", "ends_at": "end",
    "margin_before_minutes": "margin before", "margin_after_minutes": "margin after",
    "policy": "policy", "schedule": "sessions (same local times)",
}  # fmt: skip


@dataclass
class EditResult:
    changed: list[str]  # the fields whose values changed, in EventChanges order
    outside: int  # collected posts now outside the window, or with none of the hashtags
    reread: bool = False  # the policy loosened: the next collection reads the window again


def edit_event(session: Session, event: Event, changes: EventChanges) -> EditResult:
    """Change an event with ``event add``'s checks and messages; nothing is written
    unless every change is valid.

    A new time zone alone keeps the wall-clock times the organiser typed (the window's
    and the sessions'), read again in that zone: it is how a zone typed wrong is put
    right. The collectors already walk again from a window that starts earlier. A
    hashtag taken away loses its cursors, so adding it back walks it from the start.
    Posts already collected stay: the count of those now outside is returned, for
    the organiser to hide them or to widen the window again.
    """
    new: dict[str, object] = {}
    if changes.title is not None:
        with about("title"):
            new["title"] = parse_title(changes.title)
    if changes.description is not None:
        new["description"] = changes.description.strip()
    if changes.hashtags is not None:
        with about("hashtags"):
            new["hashtags"] = parse_hashtags(changes.hashtags)
    old_zone = zone = parse_timezone(event.timezone)
    if changes.timezone is not None:
        with about("timezone"):
            zone = parse_timezone(changes.timezone.strip())
        new["timezone"] = changes.timezone.strip()
    starts_at = _rezoned(event.starts_at, old_zone, zone)
    ends_at = _rezoned(event.ends_at, old_zone, zone)
    with about("start"):
        if changes.start is not None:
            starts_at = parse_local_time(changes.start, zone, end=False)
    with about("end"):
        if changes.end is not None:
            ends_at = parse_local_time(changes.end, zone, end=True)
        if ends_at <= starts_at:
            raise InputError(
                f"the event would end ({_wall(ends_at, zone)}) before it starts "
                f"({_wall(starts_at, zone)})"
            )
    new["starts_at"], new["ends_at"] = starts_at, ends_at
    if changes.margin_before is not None:
        with about("margin_before"):
            new["margin_before_minutes"] = parse_duration(changes.margin_before, "--margin-before")
    if changes.margin_after is not None:
        with about("margin_after"):
            new["margin_after_minutes"] = parse_duration(changes.margin_after, "--margin-after")
    if changes.policy is not None:
        with about("policy"):
            new["policy"] = parse_policy(changes.policy)
    if zone.key != old_zone.key:
        new["schedule"] = [_rezoned_session(entry, old_zone, zone) for entry in event.schedule]
    changed = [name for name, value in new.items() if getattr(event, name) != value]
    kept = new.get("hashtags", event.hashtags)
    dropped = [tag for tag in event.hashtags if tag not in kept]  # type: ignore[operator]
    loosened = event.policy == "opt-in" and new.get("policy") == "opt-out"
    for name in changed:
        if name == "policy":  # as `consent policy` sets it: loosened, the window is read again
            set_policy(session, event.slug, str(new[name]))
        else:
            setattr(event, name, new[name])
    if dropped:
        reset_cursors(session, event.id, dropped)
    session.flush()
    return EditResult(changed, outside_posts(session, event), loosened)


def outside_posts(session: Session, event: Event) -> int:
    """The event's posts made outside its collection window or carrying none of its
    hashtags: what it would not collect today."""
    window = collection_window(event)
    tagged = (
        select(PostTag.post_id)
        .join(Tag, Tag.id == PostTag.tag_id)
        .where(PostTag.post_id == Post.id, Tag.name.in_(event.hashtags))
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(EventPost)
            .join(Post, Post.id == EventPost.post_id)
            .where(
                EventPost.event_id == event.id,
                Post.deleted_at.is_(None),
                (Post.created_at < window.start)
                | (Post.created_at > window.end)
                | ~tagged.exists(),
            )
        )
        or 0
    )


def _rezoned(moment: datetime, old: ZoneInfo, new: ZoneInfo) -> datetime:
    """The same wall-clock time in another zone, as UTC."""
    if old.key == new.key:
        return moment
    return moment.astimezone(old).replace(tzinfo=new).astimezone(UTC)


def _rezoned_session(entry: dict[str, str], old: ZoneInfo, new: ZoneInfo) -> dict[str, str]:
    """A stored session (title, UTC start and end) at the same wall-clock times in ``new``."""
    moments = {
        key: _rezoned(datetime.fromisoformat(entry[key]), old, new) for key in ("start", "end")
    }
    return {**entry, **{key: _iso_utc(moment) for key, moment in moments.items()}}


def _wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
