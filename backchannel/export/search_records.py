"""What the search index holds, and in which groups.

Every post whose author is indexable is one search result: a heading (the author's
name; its id ``<post id>-<anchor>-by-<platform>``, the post's heading anchor behind its
database id, then its platform) followed by the handle, the text, the image
descriptions, the quoted post's text and the hashtags. A post behind a content
warning contributes its author only: the warning and the text it covers are never
in the index, so never in a snippet. Pagefind is given these small pages instead of
the rendered timeline, which it would have to parse in full.

Posts are indexed in *groups* by database id (``id // size``, ``size`` a power of two
scaled to the event), each group a Pagefind bundle of its own that the browser merges.
New posts get new ids, so adding posts changes the newest group only; a group whose
posts did not change keeps its bundle. A group's fingerprint is made from the light
index (no text is read for a group that did not change).

A record links to the first page of its post's day; the search script finds a post
on a later page of that day in the day's *places* (page -> ids of its posts) and
drops the id from the link, since pages shift as posts are added and the index must
not depend on them.
"""

from __future__ import annotations

import hashlib
import math
from contextlib import ExitStack
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.excerpts import without_shortcodes
from backchannel.export.sections import Sectioner
from backchannel.export.selection import EventIndex, IndexedPost, chunks
from backchannel.store import EventPost, Post

FORMAT = 4  # bump when the pages below change: every group is indexed again
TARGET_GROUPS = 16  # posts / size: about this many groups for dense ids
MAX_GROUPS = 32  # id span / size: never more groups than this, however sparse the ids
MIN_SIZE = 256


@dataclass
class Group:
    key: str  # "g<number>": the bundle's folder
    posts: list[IndexedPost]
    fingerprint: str


def indexed_posts(index: EventIndex) -> list[IndexedPost]:
    return [p for p in index.posts if p.indexable and index.authors[p.author_id].indexable]


def group_size(ids: list[int]) -> int:
    """A power of two, so that it changes rarely as an event grows (and then every
    group is made again, once)."""
    if not ids:
        return MIN_SIZE
    span = max(ids) - min(ids) + 1
    need = max(len(ids) / TARGET_GROUPS, span / MAX_GROUPS, MIN_SIZE)
    return 1 << math.ceil(math.log2(need))


def day_entry(index: EventIndex, day: str) -> str:
    """The page a record of ``day`` links to: the day's first page."""
    return index.days[day][0].page


def plan_groups(index: EventIndex, version: str) -> list[Group]:
    posts = indexed_posts(index)
    size = group_size([p.id for p in posts])
    members: dict[int, list[IndexedPost]] = {}
    for post in posts:
        members.setdefault(post.id // size, []).append(post)
    groups = []
    states = _States(index)
    for number in sorted(members):
        group_posts = members[number]
        digest = hashlib.sha256(
            repr((FORMAT, version, size, index.event.slug, index.event.timezone)).encode()
        )  # the time zone: each record's heading says when, in it
        digest.update(index.event.title.encode("utf-8"))
        digest.update(repr(index.event.schedule).encode("utf-8"))  # sessions name results
        digest.update("".join(map(states.of, group_posts)).encode("utf-8"))
        groups.append(Group(f"g{number}", group_posts, digest.hexdigest()))
    return groups


class _States:
    """Everything a post's record is made from, as the light index knows it (its text
    changes only with ``edited_at`` or ``version``, the digest of fetch time and content id), as a line. This runs for every post
    of every export: what many posts share is made into text once."""

    def __init__(self, index: EventIndex) -> None:
        self.index = index
        self.authors: dict[int, str] = {}
        self.days = {day: posts[0].page for day, posts in index.days.items()}
        self.tags: dict[int, str] = {}  # id() of a shared tuple -> its text

    def of(self, post: IndexedPost) -> str:
        index = self.index
        author = self.authors.get(post.author_id)
        if author is None:
            row = index.authors[post.author_id]
            author = self.authors[post.author_id] = repr((row.display_name, row.handle))
        tags = post.tags
        tag_text = self.tags.get(id(tags))
        if tag_text is None:
            tag_text = self.tags[id(tags)] = repr(tags)
        state = (
            f"{post.id}|{post.version}|{post.edited_at}|{post.has_cw}|{author}|"
            f"{self.days[post.day]}|{tag_text}"
        )
        if post.media:
            state += repr([m.alt for m in post.media])
        if post.quote_uri:
            quoted = _quoted(index, post)
            if quoted is not None:
                state += f"|{quoted.uri}|{quoted.version}|{quoted.edited_at}"
        return state + "\n"


def _quoted(index: EventIndex, post: IndexedPost) -> IndexedPost | None:
    """The quoted post, when its text may be indexed with the quoting post."""
    if not post.quote_uri or post.has_cw:
        return None
    quoted = index.by_uri.get(post.quote_uri)
    if quoted is None or quoted.has_cw or not quoted.indexable:
        return None
    if not index.authors[quoted.author_id].indexable:
        return None
    return quoted


def _texts(session: Session, index: EventIndex, group: Group) -> dict[int, str]:
    """The text of the group's posts (one range query on the event's posts) and of the
    posts they quote."""
    ids = [p.id for p in group.posts]
    first, last = min(ids), max(ids)
    connection = session.connection()  # Core rows: no ORM work per row
    rows = connection.execute(
        select(Post.id, Post.text)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == index.event.id, Post.id >= first, Post.id <= last)
    )
    texts: dict[int, str] = {pid: text for pid, text in rows}
    quoted = [q.id for p in group.posts if (q := _quoted(index, p)) and q.id not in texts]
    for chunk in chunks(sorted(set(quoted))):
        rows = connection.execute(select(Post.id, Post.text).where(Post.id.in_(chunk)))
        texts.update((pid, text) for pid, text in rows)
    return texts


def _escape(text: str) -> str:
    """``html.escape`` without quotes (only element content is escaped here), skipped
    for the many texts that need none."""
    if "&" in text or "<" in text or ">" in text:
        return escape(text, quote=False)
    return text


def write_group_pages(session: Session, index: EventIndex, group: Group, site: Path) -> None:
    """The pages Pagefind indexes for ``group``, written under ``site``: one per day, at
    the day's entry page. Each record goes to its file as it is made: a group holds
    thousands of posts, and their pages held whole cost the export its peak memory."""
    texts = _texts(session, index, group)
    slug = index.event.slug
    bylines: dict[int, str] = {}  # author id -> heading text and handle, escaped
    sectioner = Sectioner(index)  # a post made during a session: the result names it
    title = escape(index.event.title)
    with ExitStack() as files:
        opened: dict[str, TextIO] = {}
        for post in group.posts:
            record = _record(index, post, texts, bylines, sectioner)
            handle = opened.get(post.day)
            if handle is None:
                path = site / slug / day_entry(index, post.day)
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = opened[post.day] = files.enter_context(
                    path.open("w", encoding="utf-8", newline="\n")
                )
                handle.write(
                    f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} '
                    f'{post.day}</title></head><body data-pagefind-body data-pagefind-filter="event:'
                    f'{escape(slug)}">\n{record}'
                )  # fmt: skip
            else:
                handle.write(f"\n{record}")
        for handle in opened.values():
            handle.write("\n</body></html>\n")


def _record(
    index: EventIndex,
    post: IndexedPost,
    texts: dict[int, str],
    bylines: dict[int, str],
    sectioner: Sectioner,
) -> str:
    """One post's record: its heading (who, when, the session), then its words."""
    byline = bylines.get(post.author_id)
    if byline is None:
        # The result's title: who and when; the excerpt is then the post's own words.
        author = index.authors[post.author_id]
        name = escape(without_shortcodes(author.display_name) or author.handle, quote=False)
        byline = bylines[post.author_id] = f"{name} (@{escape(author.handle)})"
    when = escape(index.dates.local(post.created_at), quote=False)
    section = sectioner.of(post)
    if section.session:
        when += f" · {escape(section.label, quote=False)}"
    # The id: the post's database id (to find its page), its heading's anchor, and
    # its platform (the results' platform filter).
    record = f'<h2 id="{post.id}-{post.anchor}-by-{post.platform}">{byline}, {when}</h2>'
    if not post.has_cw:
        text = without_shortcodes(texts.get(post.id) or "")
        record += f"\n<p>{_escape(text)}</p>"
        for media in post.media:
            if media.alt:
                record += f"\n<p>{_escape(media.alt)}</p>"
        quoted = _quoted(index, post)
        if quoted is not None:
            quote = escape(texts.get(quoted.id) or "", quote=False)
            record += f"\n<blockquote>{quote}</blockquote>"
        tags = post.tags
        if tags:
            # Only the tags the text does not show already: every word indexed costs.
            lower = text.lower()
            missing = [f"#{escape(t, quote=False)}" for t in tags if f"#{t}" not in lower]
            if missing:
                record += f"\n<p>{' '.join(missing)}</p>"
    return record


def day_places(index: EventIndex) -> dict[str, dict[str, str]]:
    """For each day spread over several pages: page -> the ids of its indexed posts,
    for every page but the first (a post not listed is on the first)."""
    places: dict[str, dict[str, str]] = {}
    for posts in index.days.values():
        first = posts[0].page
        if posts[-1].page == first:
            continue
        pages: dict[str, list[str]] = {}
        for post in posts:
            if post.page != first and post.indexable:
                pages.setdefault(post.page, []).append(str(post.id))
        places[first] = {page: " ".join(ids) for page, ids in pages.items()}
    return places
