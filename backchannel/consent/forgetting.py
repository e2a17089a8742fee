"""``backchannel forget``: remove an author or a post everywhere, and keep it out.

Everything goes in one transaction: the posts (and with them their sightings, media
rows, tags, links and event memberships), the author's row and avatar, quote
snapshots of the post held by other posts, the name in the consent records. Story
items that showed a forgotten post become ``removed`` placeholders. A tombstone holding
only hashes (see :mod:`backchannel.consent.tombstones`) keeps later collections from bringing
anything back. After the commit, local media files no other row uses are deleted,
and those of the events that held the data which the site folder holds (published
before) are exported again, so pages, data files and the search index lose it too; an
event never published stays unpublished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.consent import exclusions, tombstones
from backchannel.consent.rule import normalize_handle
from backchannel.errors import InputError
from backchannel.store import (
    Author,
    ConsentOverride,
    Database,
    Event,
    EventPost,
    HomeCheck,
    Media,
    Post,
    StoryItem,
    Tombstone,
    erase_posts,
)

log = logging.getLogger(__name__)


@dataclass
class ForgetResult:
    posts: int = 0
    authors: int = 0
    story_items: int = 0
    media_files: int = 0
    tombstones: int = 0
    events: list[str] = field(default_factory=list)  # the events that held it
    exported: list[str] = field(default_factory=list)  # those published, so exported again


def find_post(session: Session, ref: str) -> Post | None:
    """A stored post from any address of it (see :mod:`backchannel.curation.addresses`)."""
    from backchannel.curation import addresses

    return addresses.resolve(session, ref.strip())


def forget_preview(
    session: Session, *, handle: str | None = None, post_ref: str | None = None
) -> ForgetResult:
    """What :func:`forget` would remove, without removing it: the same work in a
    savepoint that is rolled back (for a confirmation that says what will go)."""
    nested = session.begin_nested()
    try:
        result, _files = forget_in_session(session, handle=handle, post_ref=post_ref,
                                           reason="preview")  # fmt: skip
    finally:
        nested.rollback()
    return result


def forget_in_session(
    session: Session, *, handle: str | None = None, post_ref: str | None = None,
    reason: str | None = None,
) -> tuple[ForgetResult, list[tuple[str, str]]]:  # fmt: skip
    """Remove the data; returns the result and the (sha256, local path) of media rows gone."""
    if bool(handle) == bool(post_ref):
        raise InputError("give exactly one of --author HANDLE or --post URL")
    result = ForgetResult()
    post_ids: list[int] = []
    author_ids: list[int] = []
    if handle:
        wanted = normalize_handle(handle)
        authors = list(
            session.scalars(
                select(Author).where(Author.handle.in_({wanted, handle.strip().lstrip("@")}))
            )
        )
        author_ids = [a.id for a in authors]
        post_ids = list(session.scalars(select(Post.id).where(Post.author_id.in_(author_ids))))
        digests = [tombstones.handle_key(wanted)] + [tombstones.key_hash(a.uri) for a in authors]
        result.tombstones = tombstones.add(session, "author", digests, reason)
        session.execute(delete(HomeCheck).where(HomeCheck.author_key_sha256.in_(digests)))
        session.execute(delete(ConsentOverride).where(ConsentOverride.handle == wanted))
        exclusions.forget_handle(session, wanted)
        result.authors = len(authors)
    else:
        assert post_ref is not None
        post = find_post(session, post_ref)
        if post is None:
            if not (post_ref.startswith("at://") or "/users/" in post_ref):
                raise InputError(
                    f"no stored post at {post_ref}; give its canonical URI to keep it out anyway"
                )
            uri = post_ref.strip()
        else:
            uri, post_ids = post.uri, [post.id]
        result.tombstones = tombstones.add(session, "post", [tombstones.key_hash(uri)], reason)
    result.events = sorted(
        session.scalars(
            select(Event.slug).join(EventPost, EventPost.event_id == Event.id)
            .where(EventPost.post_id.in_(post_ids)).distinct()
        )
    )  # fmt: skip
    files = _media_of(session, post_ids, author_ids)
    result.story_items = _remove_from_stories(session, post_ids)
    result.posts = len(post_ids)
    erase_posts(session, post_ids, author_ids)
    return result, files


def _media_of(
    session: Session, post_ids: list[int], author_ids: list[int]
) -> list[tuple[str, str]]:
    where = Media.post_id.in_(post_ids)
    if author_ids:
        where = where | Media.author_id.in_(author_ids)
    rows = session.execute(
        select(Media.sha256, Media.local_path).where(where, Media.local_path.is_not(None))
    )
    return [(sha or "", path) for sha, path in rows]


def _remove_from_stories(session: Session, post_ids: list[int]) -> int:
    items = list(session.scalars(select(StoryItem).where(StoryItem.post_id.in_(post_ids))))
    for item in items:  # no trace of the post: not its address, not the note on it
        item.kind, item.post_id, item.post_ref, item.annotation, item.text = (
            "removed", None, None, None, None,
        )  # fmt: skip
    return len(items)


def delete_unused_files(session: Session, media_dir: Path, files: list[tuple[str, str]]) -> int:
    """Delete local media files no remaining row uses (content-addressed: shared)."""
    root = media_dir.resolve()
    deleted = 0
    for sha, relative in dict.fromkeys(files):
        still_used = session.scalar(
            select(Media.id)
            .where((Media.local_path == relative) | ((Media.sha256 == sha) & (Media.sha256 != "")))
            .limit(1)
        )
        path = (root / relative).resolve()
        if still_used is None and path.is_relative_to(root) and path.is_file():
            path.unlink()
            deleted += 1
    return deleted


def forget(
    db: Database, config: Any, *, handle: str | None = None, post_ref: str | None = None,
    reason: str | None = None, export: bool = True,
) -> ForgetResult:  # fmt: skip
    """Forget an author or a post everywhere (see the module docstring)."""
    with db.writing() as session:
        result, files = forget_in_session(session, handle=handle, post_ref=post_ref, reason=reason)
    with db.reading() as session:
        result.media_files = delete_unused_files(session, config.media_dir, files)
    log.info("forgot %d post(s), %d author(s), %d media file(s)", result.posts, result.authors,
             result.media_files)  # fmt: skip
    if export and result.events:
        from backchannel.export import ExportOptions, export_site, published_events

        # Only the events already published: forgetting never publishes one that was not.
        published = published_events(config.site_dir)
        if again := [slug for slug in result.events if slug in published]:
            export_site(db, ExportOptions.from_config(config), again)
            result.exported = again
    return result


def list_tombstones(session: Session) -> list[Tombstone]:
    return list(session.scalars(select(Tombstone).order_by(Tombstone.created_at, Tombstone.id)))
