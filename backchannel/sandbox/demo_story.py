"""The demo's storyboard: the event's schedule, and a sample story imported as a
curator would (``backchannel story import``).

The sample (``demo_story.md``) names Bluesky posts by their ``at://`` URIs, which are
stable (the demo world's DIDs are fixed). Mastodon posts are named by their web
address on their home server, under the demo world's instance name
(``https://kea.example/@user/ID``): the sandbox serves each instance on a
free loopback port that changes every run, so before importing, each such address is
pointed at the archived post with the same ``/@user/ID`` path (the ids are fixed by the
world's seed). Everything else goes through the same import as a curator's file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from sqlalchemy import select

from backchannel.curation import ScheduledSession, import_story, set_schedule
from backchannel.events import get_event
from backchannel.sandbox import conference
from backchannel.store import Database, Post

log = logging.getLogger(__name__)

STORY_FILE = "demo_story.md"
_MASTODON_LINE = re.compile(r"^https?://[^/\s]+(/@[A-Za-z0-9_]+/\d+)$", re.MULTILINE)


def demo_story_text() -> str:
    return (files("backchannel.sandbox") / STORY_FILE).read_text(encoding="utf-8")


def _live_addresses(session: Any, text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        url = session.scalar(
            select(Post.url).where(Post.url.endswith(match.group(1))).order_by(Post.id).limit(1)
        )
        return url or match.group(0)  # not archived: the import names the line

    return _MASTODON_LINE.sub(swap, text)


def import_demo_story(db: Database, report: Callable[[str, Any], None]) -> None:
    """Give the demo event its schedule and import the sample storyboard."""
    with db.writing() as session:
        event = get_event(session, conference.SLUG)
        set_schedule(event, [
            ScheduledSession(s.title, s.starts_at, s.ends_at,
                             "Main auditorium" if s.keynote else "Seminar room 2")
            for s in conference.SESSIONS
        ])  # fmt: skip
    with db.writing() as session:
        result = import_story(session, _live_addresses(session, demo_story_text()), STORY_FILE)
        story = result.story
        report(f"imported the storyboard {story.slug!r}: {story.title} "
               f"({result.posts} posts; try: backchannel story export {conference.SLUG} "
               f"{story.slug})", None)  # fmt: skip
