"""Posts imported from files: published only where a story uses them, by default.

An imported post (``backchannel import``: a 2013 twarc capture, a Storify story)
cannot be re-checked at its source: its author cannot be asked, a later deletion or
opt-out cannot be seen. A careful organiser republishes such a post only where a
curator chose it for a story, and keeps it out of search and the data downloads
there; an event can choose ``all`` (every imported post published like a collected
one) with ``backchannel consent imported EVENT all``.

A post is *imported only* when every place it was seen is an import (``import:``
sightings); one that a collector also found was re-checked like any other. The rule
here is applied after :func:`backchannel.consent.rule.verdict`, by the export and by
``consent report`` alike. An author on the event's allow list (who consented, or sent
their own archive) is not held back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from backchannel.consent.rule import Verdict
from backchannel.errors import InputError
from backchannel.events import get_event
from backchannel.store import Event, EventPost, ImportRecord, PostSighting, Story, StoryItem

CHOICES = ("story-only", "all")
NOT_IN_A_STORY = "imported, not used in a story"
IMPORT_SERVER = "import:"  # the prefix of an import's sightings


@dataclass(frozen=True)
class ImportedRule:
    """What the event's choice means for each of its imported posts."""

    story_only: bool = False
    imported_only: frozenset[int] = frozenset()  # post ids seen only in imports
    in_stories: frozenset[int] = frozenset()  # post ids a story of the event uses

    def apply(self, post_id: int, decided: Verdict, allowed: bool = False) -> Verdict:
        """``allowed``: the author is on the event's allow list (they consented, or sent
        their own archive): their imported posts are published like any others."""
        if allowed or not self.story_only or not decided.publish:
            return decided
        if post_id not in self.imported_only:
            return decided
        if post_id not in self.in_stories:
            return Verdict(False, False, NOT_IN_A_STORY)
        return Verdict(True, False)  # in its story, but not in search nor the data


def imported_rule(session: Session, event: Event) -> ImportedRule:
    """The rule for ``event`` now: none when it publishes everything, one query when
    nothing was imported into it (its posts came from collectors only), else three."""
    if event.imported == "all":
        return ImportedRule()
    if (
        session.scalar(select(ImportRecord.id).where(ImportRecord.event_id == event.id).limit(1))
        is None
    ):
        return ImportedRule(story_only=True)
    imported = PostSighting.server.startswith(IMPORT_SERVER, autoescape=True)
    seen = and_(PostSighting.post_id == EventPost.post_id)
    only = select(EventPost.post_id).where(
        EventPost.event_id == event.id,
        exists().where(seen, imported),
        ~exists().where(seen, ~imported),
    )
    imported_only = frozenset(session.scalars(only))
    if not imported_only:
        return ImportedRule(story_only=True)
    used = (
        select(StoryItem.post_id)
        .join(Story, Story.id == StoryItem.story_id)
        .where(Story.event_id == event.id, StoryItem.post_id.is_not(None))
    )
    in_stories = frozenset(p for p in session.scalars(used) if p is not None)
    return ImportedRule(True, imported_only, in_stories)


def set_imported(session: Session, slug: str, choice: str) -> None:
    if choice not in CHOICES:
        raise InputError(f"imported posts: expected story-only or all, not {choice!r}")
    get_event(session, slug).imported = choice
