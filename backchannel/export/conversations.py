"""Who answered whom: the conversation figures of the statistics page.

Counted among the posts of this archive (consent applies, as everywhere): a reply
counts for its parent when both are here; a thread's own replies (an author answering
themselves) count for the post but not as one person answering another.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.excerpts import first_line
from backchannel.export.selection import EventIndex
from backchannel.export.threads import answers
from backchannel.store import Post


@dataclass(frozen=True, slots=True)
class AnsweredPost:
    handle: str  # its author's
    when: str  # "14 November 2013, 09:15 NZDT"
    href: str  # relative to an event page
    excerpt: str  # its first line ("" behind a content warning)
    replies: int  # replies to it in this archive


def most_answered(session: Session, index: EventIndex, limit: int = 10) -> list[AnsweredPost]:
    children = answers(index)
    counts = {pid: len(posts) for pid, posts in children.items()}
    parents = {post.id: post for post in index.posts if post.id in children}
    top = sorted(counts, key=lambda pid: (-counts[pid], parents[pid].created_at, pid))[:limit]
    texts = dict(session.execute(select(Post.id, Post.text).where(Post.id.in_(top))).all())
    return [
        AnsweredPost(
            index.authors[parents[pid].author_id].handle,
            index.dates.local(parents[pid].created_at),
            parents[pid].href,
            "" if parents[pid].has_cw else first_line(texts.get(pid) or ""),
            counts[pid],
        )
        for pid in top
    ]


def reply_pairs(index: EventIndex, limit: int = 10) -> list[tuple[str, int]]:
    """("@who → @whom", replies), most first: one person answering another."""
    children = answers(index)
    counts: Counter[tuple[str, str]] = Counter()
    for parent in index.posts:
        for post in children.get(parent.id, ()):
            if post.author_id != parent.author_id:
                who = index.authors[post.author_id].handle
                counts[who, index.authors[parent.author_id].handle] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [(f"@{who} → @{whom}", n) for (who, whom), n in ordered]
