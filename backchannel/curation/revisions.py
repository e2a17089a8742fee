"""A storyboard's revisions: every saved version kept, and saves made on an old one refused.

Each change, from the studio or from ``story import``, is stored through
:func:`~backchannel.curation.stories.import_story` (the one validation path) and then
recorded as the next revision: the story's Markdown file as ``story export`` writes it.
Only the newest revision holds its whole Markdown; each older one holds the delta
that turns the next one into it (:mod:`backchannel.curation.deltas`), so a change
costs about its own size, not the story's. A row that still holds its whole text
(saved before migration 0011) is read as it is.

The studio sends the revision its page showed; :func:`save_story` refuses the save
with :class:`~backchannel.errors.ConflictError` when the story moved on since (another
tab, another curator, ``story import``), so nothing is overwritten unseen.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from backchannel.curation.deltas import apply_delta, make_delta
from backchannel.errors import ConflictError, InputError, NotFoundError
from backchannel.store import Story, StoryRevision

MAX_STORY_BYTES = 2_000_000  # a story's Markdown, at most (the studio and `story import`)


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
    if len(markdown.encode("utf-8")) > MAX_STORY_BYTES:
        raise InputError(
            f"the story {story.slug!r} would be {len(markdown.encode('utf-8')):,} bytes: a story "
            f"holds at most {MAX_STORY_BYTES:,} (split it, or shorten its longest text)"
        )
    newest = session.scalar(
        select(StoryRevision)
        .where(StoryRevision.event_id == story.event_id, StoryRevision.slug == story.slug)
        .order_by(StoryRevision.number.desc())
        .limit(1)
    )
    if newest is not None and newest.markdown == markdown:
        return newest.number
    number = (newest.number if newest else 0) + 1
    if newest is not None and newest.markdown is not None:  # it keeps only the way back
        newest.delta = make_delta(markdown, newest.markdown)
        newest.markdown = None
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
    """The revisions, newest first, without their texts (number, author, time)."""
    return list(
        session.scalars(
            select(StoryRevision)
            .where(StoryRevision.event_id == event_id, StoryRevision.slug == slug)
            .order_by(StoryRevision.number.desc())
            .options(defer(StoryRevision.markdown), defer(StoryRevision.delta))
        )
    )


def revision_markdown(session: Session, event_id: int, slug: str, number: int) -> str:
    """The Markdown of revision ``number``: the newest text, stepped back delta by delta
    (from the nearest row that holds its whole text)."""
    rows = session.execute(
        select(StoryRevision.number, StoryRevision.markdown, StoryRevision.delta)
        .where(StoryRevision.event_id == event_id, StoryRevision.slug == slug,
               StoryRevision.number >= number)
        .order_by(StoryRevision.number.desc())
    ).all()  # fmt: skip
    if not rows or rows[-1].number != number:
        raise NotFoundError(f"no revision {number} of the story {slug!r}")
    text: str | None = None
    for row in rows:
        if row.markdown is not None:
            text = row.markdown
        elif text is None or row.delta is None:
            raise NotFoundError(f"revision {row.number} of the story {slug!r} cannot be read")
        else:
            text = apply_delta(text, row.delta)
    assert text is not None
    return text
