"""``posts.csv`` and ``posts.jsonl``: an event's published posts as data.

Posts of authors whose ``indexable`` is false are left out (they agreed to be shown,
not to be harvested). The columns are documented in ``docs/export.md``; keep the two
in step. Rows are streamed chunk by chunk, in chronological order.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.context import time_view
from backchannel.export.selection import EventIndex, IndexedPost, chunks
from backchannel.export.writer import SiteWriter
from backchannel.models import Post

COLUMNS = (
    "uri", "url", "archive_url", "platform", "created_at", "created_local", "edited_at",
    "author_handle", "author_name", "author_uri", "language", "text", "content_warning",
    "sensitive", "reply_to_uri", "quote_uri", "tags", "links", "media_count",
    "media_alt", "reply_count", "repost_count", "like_count", "quote_count", "featured",
)  # fmt: skip


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def records(session: Session, index: EventIndex, slug: str) -> Iterator[dict[str, Any]]:
    """One dict per published, indexable post, with the keys of :data:`COLUMNS`."""
    posts: list[IndexedPost] = [p for p in index.posts if p.indexable]
    by_id = {p.id: p for p in posts}
    for chunk in chunks([p.id for p in posts], 1000):
        loaded = {
            row[0]: row
            for row in session.execute(
                select(Post.id, Post.url, Post.text, Post.content_warning).where(Post.id.in_(chunk))
            )
        }
        for post_id in chunk:
            yield _record(index, by_id[post_id], loaded[post_id], slug)


def _record(index: EventIndex, post: IndexedPost, row: Any, slug: str) -> dict[str, Any]:
    author = index.authors[post.author_id]
    media = index.media.get(post.id, [])
    replies, reposts, likes, quotes = post.counts
    return {
        "uri": post.uri,
        "url": row[1] or "",
        "archive_url": f"{slug}/{post.href}",
        "platform": post.platform,
        "created_at": _utc(post.created_at),
        "created_local": time_view(post.created_at, index.zone).local,
        "edited_at": _utc(post.edited_at),
        "author_handle": author.handle,
        "author_name": author.display_name,
        "author_uri": author.uri,
        "language": post.language or "",
        "text": row[2] or "",
        "content_warning": row[3] or "",
        "sensitive": post.sensitive,
        "reply_to_uri": post.reply_to_uri or "",
        "quote_uri": post.quote_uri or "",
        "tags": list(index.tags.get(post.id, [])),
        "links": list(index.links.get(post.id, [])),
        "media_count": len(media),
        "media_alt": [m.alt or "" for m in media],
        "reply_count": replies,
        "repost_count": reposts,
        "like_count": likes,
        "quote_count": quotes,
        "featured": post.featured,
    }


def _csv_value(column: str, value: Any) -> Any:
    if column == "media_alt":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def write_data(session: Session, writer: SiteWriter, index: EventIndex, slug: str) -> int:
    """Write both files; returns the number of rows."""
    count = 0
    with (
        writer.stream(f"{slug}/posts.csv") as csv_file,
        writer.stream(f"{slug}/posts.jsonl") as jsonl_file,
    ):
        table = csv.writer(csv_file, lineterminator="\r\n")
        table.writerow(COLUMNS)
        for record in records(session, index, slug):
            table.writerow([_csv_value(c, record[c]) for c in COLUMNS])
            jsonl_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
