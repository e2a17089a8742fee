"""A starting storyboard for an event, and the event's schedule of sessions.

:func:`draft_story` picks the event's publishable posts (filtered by time, author,
hashtag or featured state; or the ``top`` N by replies, boosts and likes), in time
order, under a heading per day and, below it, one per session of the schedule or one
per hour. Each post is followed by a comment with its author and first words.

The schedule (``Event.schedule``) is a JSON list of sessions::

    [{"title": "Opening keynote", "start": "2026-03-11T20:00:00Z",
      "end": "2026-03-11T21:15:00Z"}, ...]

set from a TOML file by :func:`load_schedule` (``backchannel event schedule``)::

    [[session]]
    title = "Opening keynote"
    start = "2026-03-12 09:00"   # the event's local time (or an offset); TOML
    end = "2026-03-12 10:15"     # date-times work too
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.curation.stories import label_for
from backchannel.curation.storyfile import Block, StoryDoc, format_story
from backchannel.errors import InputError
from backchannel.events import get_event, parse_hashtag, parse_local_time
from backchannel.export import chunks, date_text, load_index
from backchannel.store import Author, Event, Post

MAX_ROOM = 200  # characters of a session's room


@dataclass(frozen=True)
class ScheduledSession:
    title: str
    start: datetime
    end: datetime
    room: str = ""  # where it is held (optional)


@dataclass(frozen=True)
class DraftOptions:
    top: int | None = None
    start: str | None = None  # local time of the event, or with an offset
    end: str | None = None
    author: str | None = None
    tag: str | None = None
    featured: bool = False
    slug: str = "story"


# -- schedule ---------------------------------------------------------------------------


def _moment(value: Any, zone: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, str):
        try:
            return parse_local_time(value, zone, end=False)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
    raise InputError(f'{where}: expected a date-time such as "2026-03-12 09:00"')


def load_schedule(path: Path, event: Event) -> list[ScheduledSession]:
    """The sessions in a TOML schedule file, checked (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_schedule(text, event, str(path))


def parse_schedule(text: str, event: Event, path: str = "the schedule") -> list[ScheduledSession]:
    """The sessions in TOML ``text`` (as a schedule file holds them), checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not TOML: {exc}") from None
    entries = data.get("session")
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: expected [[session]] tables with title, start and end")
    zone = ZoneInfo(event.timezone)
    sessions = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: session {number}"
        title = str(entry.get("title", "")).strip() if isinstance(entry, dict) else ""
        if not title:
            raise InputError(f"{where}: needs a title")
        start = _moment(entry.get("start"), zone, f"{where} ({title}) start")
        end = _moment(entry.get("end"), zone, f"{where} ({title}) end")
        if end <= start:
            raise InputError(f"{where} ({title}): ends before it starts")
        room = entry.get("room", "")
        if not isinstance(room, str) or len(room) > MAX_ROOM:
            raise InputError(f"{where} ({title}): room: expected text of {MAX_ROOM} "
                             "characters at most")  # fmt: skip
        sessions.append(ScheduledSession(title, start, end, " ".join(room.split())))
    return sorted(sessions, key=lambda s: s.start)


def schedule_toml(event: Event) -> str:
    """The event's sessions as a schedule file would give them (local times)."""
    zone = ZoneInfo(event.timezone)
    return "\n".join(
        f"[[session]]\ntitle = {json.dumps(s.title, ensure_ascii=False)}\n"
        f'start = "{s.start.astimezone(zone):%Y-%m-%d %H:%M}"\n'
        f'end = "{s.end.astimezone(zone):%Y-%m-%d %H:%M}"\n'
        + (f"room = {json.dumps(s.room, ensure_ascii=False)}\n" if s.room else "")
        for s in schedule_of(event)
    )


def set_schedule(event: Event, sessions: list[ScheduledSession]) -> None:
    event.schedule = [
        {"title": s.title, "start": _iso(s.start), "end": _iso(s.end)}
        | ({"room": s.room} if s.room else {})
        for s in sessions
    ]  # type: ignore[misc]


def schedule_of(event: Event) -> list[ScheduledSession]:
    sessions = []
    for entry in event.schedule or []:
        if isinstance(entry, dict):
            sessions.append(
                ScheduledSession(
                    entry["title"],
                    datetime.fromisoformat(entry["start"]),
                    datetime.fromisoformat(entry["end"]),
                    str(entry.get("room") or ""),
                )  # fmt: skip
            )
    return sorted(sessions, key=lambda s: s.start)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- draft ------------------------------------------------------------------------------


def draft_story(session: Session, slug: str, options: DraftOptions) -> str:
    """The text of a starting storyboard for the event ``slug``."""
    event = get_event(session, slug)
    zone = ZoneInfo(event.timezone)
    index = load_index(session, event)
    chosen = list(index.posts)
    if options.start:
        start = parse_local_time(options.start, zone, end=False)
        chosen = [p for p in chosen if p.created_at >= start]
    if options.end:
        end = parse_local_time(options.end, zone, end=True)
        chosen = [p for p in chosen if p.created_at < end]
    if options.author:
        handle = options.author.strip().lstrip("@").lower()
        ids = {a.id for a in index.authors.values() if a.handle.lower() == handle}
        if not ids:
            raise InputError(f"no author @{handle} among the published posts of {slug}")
        chosen = [p for p in chosen if p.author_id in ids]
    if options.tag:
        tag = parse_hashtag(options.tag)
        chosen = [p for p in chosen if tag in p.tags]
    if options.featured:
        chosen = [p for p in chosen if p.featured]
    if options.top is not None:
        if options.top < 1:
            raise InputError("--top needs a number of posts, 1 or more")
        ranked = sorted(chosen, key=lambda p: (-(p.counts[0] + p.counts[1] + p.counts[2]),
                                                p.created_at))  # fmt: skip
        chosen = sorted(ranked[: options.top], key=lambda p: (p.created_at, p.uri))
    columns = (Post.id, Post.platform, Post.uri, Post.url, Post.created_at, Author.handle,
               Post.text, Post.html, Post.content_warning)  # fmt: skip
    posts: dict[int, Any] = {}
    for chunk in chunks([p.id for p in chosen]):
        query = select(*columns).join(Author, Author.id == Post.author_id).where(Post.id.in_(chunk))
        posts.update({row.id: row for row in session.execute(query)})
    doc = StoryDoc(title=f"{event.title}: the story", slug=options.slug, event=event.slug,
                   description="")  # fmt: skip
    sessions = schedule_of(event)
    day = group = None
    for indexed in chosen:
        post = posts[indexed.id]
        local = post.created_at.astimezone(zone)
        if local.date().isoformat() != day:
            day, group = local.date().isoformat(), None
            doc.blocks.append(Block("heading", 0, level=2, text=date_text(day)))
        heading = _group(post.created_at, local, sessions)
        if heading != group:
            group = heading
            doc.blocks.append(Block("heading", 0, level=3, text=heading))
        label = label_for(post.handle, post.text, post.html, post.content_warning)
        doc.blocks.append(Block("post", 0, ref=_address(post), label=label))
    if not chosen:
        doc.blocks.append(Block("text", 0, text="No posts matched: add post addresses here."))
    return format_story(doc)


def _group(moment: datetime, local: datetime, sessions: list[ScheduledSession]) -> str:
    for scheduled in sessions:
        if scheduled.start <= moment < scheduled.end:
            return scheduled.title
    return f"{local.hour:02d}:00–{(local.hour + 1) % 24:02d}:00"


def _address(post: Any) -> str:
    """Bluesky posts by their at:// URI (a DID does not change with the handle);
    Mastodon posts by their web address on their home server."""
    if post.platform == "mastodon" and post.url:
        return post.url
    return post.uri
