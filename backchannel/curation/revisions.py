"""A storyboard's revisions: every saved version kept, and saves made on an old one refused.

Each change, from the studio or from ``story import``, is stored through
:func:`~backchannel.curation.stories.import_story` (the one validation path) and then
recorded as the next revision: the story's Markdown file as ``story export`` writes it.
The studio sends the revision its page showed; :func:`save_story` refuses the save
with :class:`~backchannel.errors.ConflictError` when the story moved on since (another
tab, another curator, ``story import``), so nothing is overwritten unseen.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.errors import ConflictError, NotFoundError
from backchannel.store import Story, StoryRevision


def current_revision(session: Session, event_id: int, slug: str) -> int:
    """The newest revision number of a story; 0 when it has none."""
    number = session.scalar(
        select(func.max(StoryRevision.number)).where(
            StoryRevision.event_id == event_id, StoryRevision.slug == slug
        )
    )
    return int(number or 0)


def record_revision(session: Session, story: Story, markdown: str, author: str) -> int:
    """Record ``markdown`` as the story's next revision, unless it is the newest one
    already (an import that changed nothing); the revision number either way."""
    newest = session.scalar(
        select(StoryRevision)
        .where(StoryRevision.event_id == story.event_id, StoryRevision.slug == story.slug)
        .order_by(StoryRevision.number.desc())
        .limit(1)
    )
    if newest is not None and newest.markdown == markdown:
        return newest.number
    number = (newest.number if newest else 0) + 1
    session.add(StoryRevision(event_id=story.event_id, slug=story.slug, number=number,
                              markdown=markdown, author=author))  # fmt: skip
    session.flush()
    return number


def save_story(session: Session, source: str, author: str, base: int, event_id: int) -> int:
    """Store the storyboard ``source`` if the story is still at revision ``base`` (0 for
    a story that does not exist yet); the new revision number."""
    from backchannel.curation.stories import import_story
    from backchannel.curation.storyfile import parse

    doc = parse(source)
    current = current_revision(session, event_id, doc.slug)
    if current != base:
        raise ConflictError(
            f"the story {doc.slug!r} changed since this page was loaded (revision {current}, "
            f"the page showed {base}); reload it, or take the newer version"
        )
    return import_story(session, source, author=author).revision


def list_revisions(session: Session, event_id: int, slug: str) -> list[StoryRevision]:
    return list(
        session.scalars(
            select(StoryRevision)
            .where(StoryRevision.event_id == event_id, StoryRevision.slug == slug)
            .order_by(StoryRevision.number.desc())
        )
    )


def revision_markdown(session: Session, event_id: int, slug: str, number: int) -> str:
    found = session.scalar(
        select(StoryRevision.markdown).where(
            StoryRevision.event_id == event_id, StoryRevision.slug == slug,
            StoryRevision.number == number,
        )
    )  # fmt: skip
    if found is None:
        raise NotFoundError(f"no revision {number} of the story {slug!r}")
    return found
