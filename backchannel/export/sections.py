"""The parts of a day a reader finds their way by: the event's sessions, else hours.

A post made during a session of the event's schedule (``event schedule``, the TOML
file curators already use for storyboards) sits under that session's heading; any
other post under the heading of its local hour ("09:00–10:00"). A day's posts are
grouped into these *sections* in time order, and the timeline's pages break between
sections (a section longer than a page gets pages of its own), so that "the thread
during the opening keynote" has a heading, an anchor and a place in the day's index.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from backchannel.export.page_files import session_file
from backchannel.export.selection import EventIndex, IndexedPost

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # its anchor on the page: "t-0900" (an hour) or "s-3" (the 3rd session)
    label: str  # "09:00–10:00", or the session's title
    start: str  # local "09:00"
    end: str  # local "10:00"
    session: bool  # a session of the schedule, not an hour
    page: str = ""  # a session's own page: "session-3.html"
    room: str = ""  # where a session is held, when the schedule says


@dataclass(frozen=True, slots=True)
class _Session:
    start: datetime
    end: datetime
    title: str
    number: int
    room: str = ""


def schedule(event: Any) -> list[_Session]:
    """The event's sessions (as ``event schedule`` stores them), by start then title."""
    found = []
    for entry in event.schedule or []:
        try:
            start = datetime.fromisoformat(entry["start"]).astimezone(UTC)
            end = datetime.fromisoformat(entry["end"]).astimezone(UTC)
            title = str(entry["title"]).strip()
            room = str(entry.get("room") or "").strip()
        except (KeyError, TypeError, ValueError):
            continue  # the file was checked when it was read: an old row, ignored
        if title and end > start:
            found.append((start, title, end, room))
    return [_Session(s, e, t, n, r) for n, (s, t, e, r) in enumerate(sorted(found), start=1)]


class Sectioner:
    """Which section a post is in (one object per event: sessions and hours cached).

    Posts come in time order, so the section found last, with the span of time in
    which it is the answer, answers most questions without any work."""

    def __init__(self, index: EventIndex) -> None:
        self.zone = index.zone
        self.dates = index.dates
        self.sessions = schedule(index.event)
        self._starts = [s.start for s in self.sessions]
        self._hours: dict[tuple[str, int, int], Section] = {}
        self._made: dict[int, Section] = {}
        self._last: Section | None = None
        self._since = self._until = datetime.min.replace(tzinfo=UTC)

    def of(self, post: IndexedPost) -> Section:
        moment = post.created_at
        if self._last is not None and self._since <= moment < self._until:
            return self._last
        after = bisect_right(self._starts, moment)
        following = self._starts[after] if after < len(self._starts) else None
        # The session begun last by then that is still running (parallel sessions: the
        # one that began later, often a talk within a longer block, holds the post).
        at = after - 1
        while at >= 0:
            session = self.sessions[at]
            if session.start <= moment < session.end:
                until = min(session.end, following) if following else session.end
                return self._remember(self._session(session), session.start, until)
            at -= 1
        local = moment.astimezone(self.zone)
        hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        until = (
            min(hour + timedelta(hours=1), following) if following else hour + timedelta(hours=1)
        )
        return self._remember(self._hour(post.day, local), hour, until)

    def _remember(self, section: Section, since: datetime, until: datetime) -> Section:
        self._last, self._since, self._until = section, since, until
        return section

    def _hour(self, day: str, local: datetime) -> Section:
        offset = int((local.utcoffset() or timedelta()).total_seconds())
        key = (day, local.hour, offset)  # an hour repeated when clocks go back: two
        section = self._hours.get(key)
        if section is None:
            start = self.dates.clock(local.hour, 0)
            end = self.dates.clock((local.hour + 1) % 24, 0)
            clash = sum(1 for k in self._hours if k[:2] == key[:2])
            name = f"t-{local.hour:02d}00" + (f"-{clash + 1}" if clash else "")
            section = self._hours[key] = Section(name, f"{start}–{end}", start, end, False)
        return section

    def _clock(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return self.dates.clock(local.hour, local.minute)

    def _session(self, session: _Session) -> Section:
        section = self._made.get(session.number)
        if section is None:
            start, end = (self._clock(moment) for moment in (session.start, session.end))
            section = Section(f"s-{session.number}", session.title, start, end, True,
                              session_file(session.number), session.room)  # fmt: skip
            self._made[session.number] = section
        return section


def groups(items: Iterable[T], section_of: Any) -> list[tuple[Section, list[T]]]:
    """Consecutive items of one section, in order."""
    out: list[tuple[Section, list[T]]] = []
    for item in items:
        section = section_of(item)
        if not out or out[-1][0] is not section:
            out.append((section, []))
        out[-1][1].append(item)
    return out


def pack(day: Sequence[tuple[Section, list[T]]], per_page: int) -> list[list[T]]:
    """Pages of at most ``per_page`` items that break between sections; a section
    longer than a page begins a page and fills as many as it needs."""
    pages: list[list[T]] = []
    current: list[T] = []
    for _section, members in day:
        if current and len(current) + len(members) > per_page:
            pages.append(current)
            current = []
        while len(members) > per_page:
            pages.append(members[:per_page])
            members = members[per_page:]
        current.extend(members)
    if current:
        pages.append(current)
    return pages
