"""Curation: storyboards, and hiding or featuring posts. Never edits a collected post.

Everything a curator decides lives in curation's own rows: :class:`EventPost` state
(``included``, ``hidden``, ``featured``) and :class:`Story` with its items.

:func:`import_story` checks the whole file first (the event exists, every post is
archived in that event and may be published) and reports every problem with its line
before it stores anything; importing a slug again replaces that story.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backchannel.curation import addresses
from backchannel.curation.storyfile import Block, StoryDoc, format_story, parse
from backchannel.errors import InputError, NotFoundError
from backchannel.events import get_event, parse_slug
from backchannel.sanitize import html_to_text
from backchannel.store import Event, EventPost, Post, Story, StoryItem, utcnow

log = logging.getLogger(__name__)
LABEL_WORDS = 12


# -- posts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostState:
    post: Post
    event: str
    state: str
    reason: str | None


def find_post(session: Session, address: str) -> Post:
    post = addresses.resolve(session, address)
    if post is not None:
        return post
    if addresses.forgotten(session, address):
        raise NotFoundError(f"{address}: this post was forgotten at its author's request")
    near = addresses.closest(session, address)
    hint = f" (closest archived: {near})" if near else ""
    raise NotFoundError(f"no archived post at {address}{hint}")


def _memberships(session: Session, post: Post, event: str | None) -> list[tuple[EventPost, str]]:
    query = (
        select(EventPost, Event.slug)
        .join(Event, Event.id == EventPost.event_id)
        .where(EventPost.post_id == post.id)
        .order_by(Event.slug)
    )
    if event is not None:
        query = query.where(Event.slug == get_event(session, event).slug)
    rows = [(row[0], row[1]) for row in session.execute(query)]
    if not rows:
        where = f"the event {event}" if event else "any event"
        raise NotFoundError(f"{post.uri} is not in {where}")
    return rows


def set_state(
    session: Session, address: str, state: str, reason: str | None = None, event: str | None = None
) -> list[PostState]:
    """Hide, feature or include again a post, in ``event`` or in every event holding it."""
    if state not in ("included", "hidden", "featured"):
        raise InputError(f"unknown post state {state!r}")
    if state == "hidden" and not (reason or "").strip():
        raise InputError("say why the post is hidden: --reason TEXT")
    post = find_post(session, address)
    changed = []
    for membership, slug in _memberships(session, post, event):
        membership.state = state
        membership.reason = reason.strip() if reason else None
        changed.append(PostState(post, slug, state, membership.reason))
        log.info("%s in %s: %s", post.uri, slug, state)
    return changed


def post_states(session: Session, address: str) -> list[PostState]:
    post = find_post(session, address)
    return [PostState(post, s, m.state, m.reason) for m, s in _memberships(session, post, None)]


def post_label(post: Post) -> str:
    """``@handle: "first words…"``, for the comment after a post in a storyboard."""
    return label_for(post.author.handle, post.text, post.html, post.content_warning)


def label_for(handle: str, text: str | None, html: str | None, warning: str | None) -> str:
    if warning:
        return f"@{handle}: (behind a content warning)"
    words = (text or html_to_text(html or "")).split()
    snippet = " ".join(words[:LABEL_WORDS]) + ("…" if len(words) > LABEL_WORDS else "")
    return f'@{handle}: "{snippet}"'


# -- storyboards ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    story: Story
    replaced: bool
    posts: int
    revision: int = 0  # the story's revision after the import (revisions.py)


def check_story(session: Session, doc: StoryDoc) -> tuple[Event, dict[int, Post]]:
    """Every problem in ``doc``, raised together (one line each); or the posts it names."""
    problems: list[str] = []
    try:
        parse_slug(doc.slug)
    except InputError as exc:
        problems.append(f"{doc.path}:{doc.lines.get('slug', 1)}: {exc}")
    event = session.scalar(select(Event).where(Event.slug == doc.event))
    if event is None:
        problems.append(f"{doc.path}:{doc.lines.get('event', 1)}: no event {doc.event!r}")
        raise InputError("\n".join(problems))
    posts: dict[int, Post] = {}
    states = {}
    for position, block in enumerate(doc.blocks):
        if block.kind != "post":
            continue
        where = f"{doc.path}:{block.line}"
        post = addresses.resolve(session, block.ref)
        if post is None:
            if addresses.forgotten(session, block.ref):
                problems.append(f"{where}: {block.ref} was forgotten at its author's request; "
                                "remove it from the storyboard")  # fmt: skip
            else:
                near = addresses.closest(session, block.ref, event.id)
                hint = f" (closest archived post: {near})" if near else ""
                problems.append(f"{where}: no archived post at {block.ref}{hint}")
            continue
        if post.id not in states:
            states[post.id] = session.execute(
                select(EventPost.state, EventPost.reason).where(
                    EventPost.event_id == event.id, EventPost.post_id == post.id
                )
            ).first()
        state = states[post.id]
        if state is None:
            problems.append(f"{where}: {block.ref} is archived but not in the event {event.slug}")
        elif state[0] == "hidden":
            why = f" ({state[1]})" if state[1] else ""
            problems.append(f"{where}: {block.ref} is hidden{why}; `post unhide` it or leave "
                            "it out")  # fmt: skip
        elif post.deleted_at is not None:
            problems.append(f"{where}: {block.ref} was deleted by its author")
        else:
            posts[position] = post
    if problems:
        raise InputError("\n".join(problems))
    return event, posts


def _fingerprint(doc: StoryDoc) -> str:
    parts = [doc.title, doc.curator, doc.description, [b.content() for b in doc.blocks]]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def import_story(
    session: Session,
    source: str,
    path: str = "<story>",
    author: str = "story import",
    made_at: datetime | None = None,
) -> ImportResult:
    """Validate the storyboard ``source`` as a whole, then store it (replacing its slug)
    and, when it changed, record it as the story's next revision (by ``author``).
    ``made_at``: when a story brought from elsewhere (Storify) was first made."""
    from backchannel.curation.revisions import record_revision

    doc = parse(source, path)
    event, posts = check_story(session, doc)
    old = session.scalar(
        select(Story)
        .where(Story.event_id == event.id, Story.slug == doc.slug)
        .options(selectinload(Story.items))
    )
    created = old.created_at if old else made_at or utcnow()
    unchanged = old is not None and _fingerprint(story_doc(session, old)) == _fingerprint(doc)
    updated = (
        old.updated_at if old and unchanged else (made_at if old is None else None) or utcnow()
    )
    if old is not None:
        session.delete(old)
        session.flush()
    story = Story(event_id=event.id, slug=doc.slug, title=doc.title, curator=doc.curator,
                  description=doc.description, created_at=created, updated_at=updated)  # fmt: skip
    for position, block in enumerate(doc.blocks):
        post = posts.get(position)
        story.items.append(
            StoryItem(
                position=position,
                kind=block.kind,
                level=block.level,
                text=block.text if block.kind in ("heading", "text") else None,
                post_id=post.id if post else None,
                post_ref=block.ref or None,
                annotation=block.note,
            )  # fmt: skip
        )
    session.add(story)
    session.flush()
    revision = record_revision(session, story, format_story(story_doc(session, story)), author)
    log.info("imported storyboard %s/%s: %d items", event.slug, story.slug, len(story.items))
    return ImportResult(story, old is not None, len(posts), revision)


def get_story(session: Session, event: str, slug: str) -> Story:
    found = get_event(session, event)
    story = session.scalar(
        select(Story)
        .where(Story.event_id == found.id, Story.slug == slug)
        .options(selectinload(Story.items))
    )
    if story is None:
        known = session.scalars(select(Story.slug).where(Story.event_id == found.id)).all()
        hint = f" (known: {', '.join(sorted(known))})" if known else " (none yet: `story import`)"
        raise NotFoundError(f"no storyboard {slug!r} in {event}{hint}")
    return story


def story_posts(session: Session, story: Story) -> list[Post | None]:
    """The post of each of ``story``'s items (None for headings, text and removed
    posts), with their authors and media, in a few queries however long the story is."""
    ids = [item.post_id for item in story.items if item.post_id is not None]
    found: dict[int, Post] = {}
    for start in range(0, len(ids), 500):  # well under every database's bound-parameter limit
        chunk = select(Post).where(Post.id.in_(ids[start : start + 500]))
        chunk = chunk.options(selectinload(Post.author), selectinload(Post.media))
        found.update((post.id, post) for post in session.scalars(chunk))
    return [
        found.get(item.post_id) if item.kind == "post" and item.post_id is not None else None
        for item in story.items
    ]


def story_doc(session: Session, story: Story, posts: list[Post | None] | None = None) -> StoryDoc:
    """The story as its file holds it; ``posts``: its :func:`story_posts`, when the
    caller has them already."""
    event = session.get(Event, story.event_id)
    doc = StoryDoc(story.title, story.slug, event.slug if event else "", story.curator or "",
                   story.description or "")  # fmt: skip
    if posts is None:
        posts = story_posts(session, story)
    for item, post in zip(story.items, posts, strict=True):
        if item.kind in ("heading", "text"):
            doc.blocks.append(Block(item.kind, 0, level=item.level, text=item.text or ""))
        elif item.kind == "post" and item.post_id is not None:
            ref = item.post_ref or (post.uri if post else "")
            label = post_label(post) if post else ""
            doc.blocks.append(Block("post", 0, ref=ref, note=item.annotation, label=label))
        else:  # forgotten at the author's request: left out of the file
            doc.blocks.append(Block("removed", 0, label="a post removed at the author's request"))
    return doc


def export_story(session: Session, event: str, slug: str) -> str:
    return format_story(story_doc(session, get_story(session, event, slug)))


def list_stories(session: Session, event: str) -> list[Story]:
    found = get_event(session, event)
    return list(
        session.scalars(
            select(Story)
            .where(Story.event_id == found.id)
            .options(selectinload(Story.items))
            .order_by(Story.created_at, Story.slug)
        )
    )


def remove_story(session: Session, event: str, slug: str) -> None:
    session.delete(get_story(session, event, slug))
    session.flush()


def summary(story: Story) -> dict[str, Any]:
    kinds = [i.kind for i in story.items]
    return {"slug": story.slug, "title": story.title, "curator": story.curator,
            "headings": kinds.count("heading"), "posts": kinds.count("post"),
            "updated": story.updated_at}  # fmt: skip
