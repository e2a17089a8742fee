"""``import``: a file of an old backchannel into an event, through the same store.

The file is read by its format's importer (:mod:`backchannel.importers`) in batches;
each batch is stored in one transaction by the collectors' path
(:func:`backchannel.store.writer.save_posts`): the consent rule, the tombstones, the
organiser's lists, one post per URI. Killed anywhere, an import run again stores
what is missing and nothing twice. A post outside the event's time (with its
margins) or without one of its hashtags is skipped, as a collector would not have
found it. A deletion in the file forgets the post and leaves a tombstone. An archive
sent by its owner (a Twitter or Mastodon archive, a Bluesky repository) records their consent as an allow entry. A
Storify file makes its story too (through the storyboard path of ``story import``);
its tweets are kept whatever their hashtag and time, as the curator chose them.

Every post is sighted at its file's ``import:<digest>``: where it came from, kept.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.collectors import NormalizedPost
from backchannel.config import Config
from backchannel.consent import (
    DELETED,
    bury_posts,
    decisions,
    event_policy,
    normalize_handle,
    set_decision,
)
from backchannel.curation import Block, StoryDoc, format_story, import_story
from backchannel.errors import InputError
from backchannel.events import collection_window, get_event
from backchannel.importers import (
    CURATED,
    Batch,
    StoryDraft,
    detect_format,
    read_car,
    read_outbox,
    read_storify,
    read_tags,
    read_twarc,
    read_twitter_archive,
)
from backchannel.store import (
    Author,
    Database,
    Event,
    EventPost,
    ImportRecord,
    Post,
    Target,
    remove_post,
    save_posts,
)

READERS: dict[str, Callable[[Path], Iterator[Batch]]] = {
    "storify": read_storify, "twarc": read_twarc,
    "tags": read_tags,
    "twitter-archive": read_twitter_archive, "mastodon-outbox": read_outbox,
    "bluesky-car": read_car,
}  # fmt: skip
KEPT_PROBLEMS = 20  # named in the summary and kept with the import; the rest counted
OUTSIDE = "outside the event's time"

# progress(lines read, lines in the file)
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """What one run of ``import`` did with one file."""

    file: str
    format: str
    read: int = 0
    imported: int = 0
    already: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    forgotten: int = 0  # posts the file says were deleted, removed
    consent: str = ""  # an archive's owner: what their consent became
    story: str = ""  # the story a Storify file made: its slug
    tool: str = ""  # the tool that made the file, where it says
    captured_at: datetime | None = None  # when it captured its posts, where it says


def import_file(
    db: Database,
    config: Config,
    event_slug: str,
    path: Path,
    file_format: str = "auto",
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``path`` into the event ``event_slug``; see the module's text."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if file_format == "auto":
        file_format = detect_format(path)
    elif file_format not in READERS:
        raise InputError(f"--format {file_format}: not one of {', '.join(['auto', *READERS])}")
    digest, size, lines = _measure(path)
    result = ImportResult(path.name, file_format)
    with db.writing() as session:
        event = get_event(session, event_slug)
        record = session.scalar(
            select(ImportRecord).where(
                ImportRecord.event_id == event.id, ImportRecord.sha256 == digest
            )  # fmt: skip
        )
        if record is None:
            record = ImportRecord(event_id=event.id, sha256=digest, size=size)
            session.add(record)
        record.format, record.file_name = file_format, path.name[:500]
        record.started_at, record.finished_at = datetime.now(UTC), None
        record.read = record.imported = record.already = 0
        record.skipped, record.problems = {}, []
        session.flush()
        target = Target(event.id, record.server)
        record_id = record.id
        window = collection_window(event)
        hashtags = set(event.hashtags)
        policy = event_policy(session, event, config.consent.default_policy == "opt-in",
                              config.consent.allow_bots)  # fmt: skip
    curated = file_format in CURATED  # a story's posts: the curator chose them

    def wanted(post: NormalizedPost) -> bool:
        return curated or not hashtags.isdisjoint(post.tags)

    renamed: dict[str, str] = {}  # author URI -> the handle the store knows
    for batch in READERS[file_format](path):
        if renamed:
            batch.posts = [_renamed(p, renamed) for p in batch.posts]
        if batch.owner is not None:
            # An archive sent by its owner: their consent, recorded as an allow entry
            # (unless the organiser decided about them already), then in force.
            with db.writing() as session:
                if batch.owner_account is not None:
                    known = _stored_handle(session, *batch.owner_account)
                    if known:  # a repository names no handle: the store's, if it has one
                        renamed[batch.owner_account[1]] = batch.owner = known
                event = get_event(session, event_slug)
                result.consent = _record_consent(session, event, batch.owner, path.name)
                policy = event_policy(session, event, config.consent.default_policy == "opt-in",
                                      config.consent.allow_bots)  # fmt: skip
        kept = [p for p in batch.posts if curated or window.start <= p.created_at <= window.end]
        with db.writing() as session:
            stored = save_posts(session, target, kept, policy, wanted)
            result.forgotten += _forget(session, batch.deleted)
            result.read += batch.read
            result.imported += stored.new
            result.already += len(kept) - stored.new - sum(stored.skipped.values())
            result.skipped.update(stored.skipped)
            result.skipped.update(batch.skipped)
            if len(kept) < len(batch.posts):
                result.skipped[OUTSIDE] += len(batch.posts) - len(kept)
            result.problems += batch.problems
            result.tool = result.tool or batch.tool
            if batch.captured_at is not None:
                result.captured_at = max(filter(None, (result.captured_at, batch.captured_at)))
            if batch.story is not None:
                result.story = _store_story(session, event_slug, batch.story, result)
            _record(session, record_id, result, finished=False)
        if progress is not None:  # by line; a record or an element where there are none
            progress(min(batch.position, lines), lines)
    with db.writing() as session:
        _record(session, record_id, result, finished=True)
    if progress is not None:
        progress(lines, lines)
    return result


def _store_story(session: Session, event_slug: str, draft: StoryDraft, result: ImportResult) -> str:
    """The file's story, stored as a storyboard (as ``story import`` stores one): its
    posts that were not imported (left out by consent) are left out of it, counted."""
    uris = [block[1] for block in draft.blocks if block[0] == "post"]
    event = get_event(session, event_slug)
    present = set()
    for chunk in (uris[i : i + 500] for i in range(0, len(uris), 500)):
        present |= set(session.scalars(
            select(Post.uri).join(EventPost, EventPost.post_id == Post.id).where(
                EventPost.event_id == event.id, EventPost.state != "hidden",
                Post.deleted_at.is_(None), Post.uri.in_(chunk),
            )
        ))  # fmt: skip
    blocks: list[Block] = []
    for block in draft.blocks:
        if block[0] == "post" and block[1] not in present:
            result.skipped["story item left out: its post was not imported"] += 1
        elif block[0] == "post":
            blocks.append(Block("post", len(blocks) + 1, ref=block[1]))
        elif block[0] == "heading":
            blocks.append(Block("heading", len(blocks) + 1, level=block[1], text=block[2]))
        else:
            blocks.append(Block("text", len(blocks) + 1, text=block[1]))
    doc = StoryDoc(draft.title, draft.slug, event_slug, draft.curator, draft.description, blocks)
    import_story(session, format_story(doc), f"{result.file} (Storify)", author="import",
                 made_at=draft.made_at)  # fmt: skip
    return draft.slug


def _stored_handle(session: Session, platform: str, uri: str) -> str | None:
    return session.scalar(select(Author.handle).where(Author.platform == platform,
                                                      Author.uri == uri))  # fmt: skip


def _renamed(post: NormalizedPost, handles: dict[str, str]) -> NormalizedPost:
    handle = handles.get(post.author.uri)
    if handle is not None and post.author.handle != handle:
        post.author = replace(post.author, handle=handle)
    return post


def _record_consent(session: Session, event: Event, owner: str, file_name: str) -> str:
    """Allow the archive's owner in the event, unless the organiser decided already."""
    existing = {row.handle: row.decision for row in decisions(session, event.slug)}
    handle = normalize_handle(owner)
    if handle in existing:
        return f"{owner}: the event's {existing[handle]} entry stands"
    set_decision(session, event.slug, owner, "allow",
                 f"sent their own archive ({file_name[:200]})")  # fmt: skip
    return f"{owner}: allowed (sent their own archive)"


def _measure(path: Path) -> tuple[str, int, int]:
    """The file's SHA-256, size and count of lines, in one pass over its bytes."""
    digest, size, lines, last = hashlib.sha256(), 0, 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), size, lines + (last != b"\n")


def _forget(session: Session, uris: list[str]) -> int:
    """Tombstones for the tweets the file says were deleted; those stored, removed."""
    if not uris:
        return 0
    bury_posts(session, uris, DELETED)
    removed = 0
    for row in session.scalars(select(Post).where(Post.uri.in_(uris))):
        remove_post(session, row)
        removed += 1
    return removed


def _record(session: Session, record_id: int, result: ImportResult, finished: bool) -> None:
    record = session.get(ImportRecord, record_id)
    assert record is not None
    record.read, record.imported, record.already = result.read, result.imported, result.already
    record.skipped = dict(sorted(result.skipped.items()))
    record.problems = result.problems[:KEPT_PROBLEMS]
    record.tool, record.captured_at = result.tool[:100], result.captured_at
    if finished:
        record.finished_at = datetime.now(UTC)
