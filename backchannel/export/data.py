"""``posts.csv`` and ``posts.jsonl``: an event's published posts as data.

Posts of authors whose ``indexable`` is false are left out (they agreed to be shown,
not to be harvested). The columns are documented in ``docs/export.md``; keep the two
in step. Rows are streamed chunk by chunk, in chronological order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.export.dates import utc_text
from backchannel.export.selection import EventIndex, IndexedPost, KeyColumn, chunks
from backchannel.export.writer import SiteWriter
from backchannel.store import Post

COLUMNS = (
    "uri", "url", "archive_url", "platform", "created_at", "created_local", "edited_at",
    "author_handle", "author_name", "author_uri", "language", "text", "content_warning",
    "sensitive", "reply_to_uri", "quote_uri", "tags", "links", "media_count",
    "media_alt", "reply_count", "repost_count", "like_count", "quote_count", "featured",
)  # fmt: skip


def _utc(moment: Any) -> str:
    return utc_text(moment) if moment else ""  # stored as UTC


def records(
    session: Session, index: EventIndex, slug: str, posts: list[IndexedPost] | None = None
) -> Iterator[dict[str, Any]]:
    """One dict per published, indexable post (of ``posts``, default all), with the keys
    of :data:`COLUMNS`."""
    if posts is None:
        posts = [p for p in index.posts if p.indexable]
    by_id = {p.id: p for p in posts}
    for chunk in chunks([p.id for p in posts], 1000):
        query = select(Post.id, Post.url, Post.text, Post.content_warning).where(Post.id.in_(chunk))
        loaded = {row[0]: row for row in session.connection().execute(query).all()}
        for post_id in chunk:
            yield _record(index, by_id[post_id], loaded[post_id], slug)


def _record(index: EventIndex, post: IndexedPost, row: Any, slug: str) -> dict[str, Any]:
    author = index.authors[post.author_id]
    media = post.media
    replies, reposts, likes, quotes = post.counts
    return {
        "uri": post.uri,
        "url": row[1] or "",
        "archive_url": f"{slug}/{post.href}",
        "platform": post.platform,
        "created_at": _utc(post.created_at),
        "created_local": index.dates.local(post.created_at),
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
        "tags": list(post.tags),
        "links": list(post.links),
        "media_count": len(media),
        "media_alt": [m.alt or "" for m in media],
        "reply_count": replies,
        "repost_count": reposts,
        "like_count": likes,
        "quote_count": quotes,
        "featured": post.featured,
    }


_JSON = json.JSONEncoder(ensure_ascii=False)  # what json.dumps(..., ensure_ascii=False) makes


def _csv_row(record: dict[str, Any]) -> list[Any]:
    """A record as CSV cells: booleans as true/false, lists space-separated, media
    alt texts as a JSON list (the record's keys are in the order of COLUMNS)."""
    row = list(record.values())
    for at in _BOOLS:
        row[at] = "true" if row[at] else "false"
    for at in _LISTS:
        row[at] = " ".join(row[at])
    row[_ALT] = _JSON.encode(row[_ALT])
    # (one comprehension for the 25 cells of every post: a call per cell cost a tenth
    # of the data files' time)
    return ["'" + v if isinstance(v, str) and v[:1] in _FORMULA_START else v for v in row]


# A spreadsheet runs a cell that begins with one of these as a formula
# (=HYPERLINK(...) in a stranger's post). OWASP's advice: begin such a cell with a
# single quote, which spreadsheets show as text and do not display.
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


_BOOLS = [COLUMNS.index(c) for c in ("sensitive", "featured")]
_LISTS = [COLUMNS.index(c) for c in ("tags", "links")]
_ALT = COLUMNS.index("media_alt")


def _chunk_key(index: EventIndex, slug: str, keys: KeyColumn, chunk: list[IndexedPost]) -> str:
    payload = [slug, index.event.timezone]
    payload += [[keys[p], p.counts, p.links, index.authors[p.author_id].uri] for p in chunk]
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _page_chunks(posts: Iterable[IndexedPost]) -> Iterator[list[IndexedPost]]:
    """Consecutive posts of one timeline page: a chunk the next export can reuse (one
    chunk in memory at a time)."""
    chunk: list[IndexedPost] = []
    for post in posts:
        if chunk and post.page != chunk[-1].page:
            yield chunk
            chunk = []
        chunk.append(post)
    if chunk:
        yield chunk


class _Previous:
    """Byte ranges of chunks in the previous export's data files."""

    def __init__(self, writer: SiteWriter, slug: str, previous: dict[str, Any] | None) -> None:
        self.places: dict[str, tuple[int, int, int, int]] = {}
        spans = str((previous or {}).get("chunks") or "")
        for span in spans.split(";") if spans else ():
            key, *numbers = span.split(":")
            a, b, c, d = (int(n) for n in numbers)
            self.places[key] = (a, b, c, d)
        self.files: list[Any] = []
        if self.places:
            for name in ("posts.csv", "posts.jsonl"):
                handle = writer.previous_file(f"{slug}/{name}")
                if handle is None:
                    self.close()
                    self.places = {}
                    break
                self.files.append(handle)

    def get(self, key: str) -> tuple[str, str] | None:
        place = self.places.get(key)
        if place is None:
            return None
        parts = []
        for handle, start, end in zip(self.files, place[::2], place[1::2], strict=True):
            handle.seek(start)
            data = handle.read(end - start)
            if len(data) != end - start or not data.endswith(b"\n"):
                return None
            parts.append(data.decode("utf-8"))
        return parts[0], parts[1]

    def close(self) -> None:
        for handle in self.files:
            handle.close()


def _render_chunk(
    session: Session, index: EventIndex, slug: str, chunk: list[IndexedPost]
) -> tuple[str, str]:
    csv_out, jsonl_out = io.StringIO(), io.StringIO()
    table = csv.writer(csv_out, lineterminator="\r\n")
    for record in records(session, index, slug, chunk):
        table.writerow(_csv_row(record))
        jsonl_out.write(_JSON.encode(record) + "\n")
    return csv_out.getvalue(), jsonl_out.getvalue()


def write_data(
    session: Session,
    writer: SiteWriter,
    index: EventIndex,
    slug: str,
    keys: KeyColumn | None = None,
    previous: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Write both files; returns the number of rows and where each chunk of rows sits
    in them (for the next export, which copies unchanged chunks instead of making them)."""
    rows = 0
    old = _Previous(writer, slug, previous) if keys is not None else None
    spans: list[str] = []
    try:
        with (
            writer.stream(f"{slug}/posts.csv") as csv_file,
            writer.stream(f"{slug}/posts.jsonl") as jsonl_file,
        ):
            header = io.StringIO()
            csv.writer(header, lineterminator="\r\n").writerow(COLUMNS)
            csv_file.write(header.getvalue())
            at_csv, at_jsonl = len(header.getvalue().encode("utf-8")), 0
            pending: list[IndexedPost] = []

            def flush() -> None:
                if pending:
                    emit(None, *_render_chunk(session, index, slug, pending))
                    pending.clear()

            def emit(key: str | None, csv_text: str, jsonl_text: str) -> None:
                nonlocal at_csv, at_jsonl
                csv_file.write(csv_text)
                jsonl_file.write(jsonl_text)
                csv_size, jsonl_size = len(csv_text.encode()), len(jsonl_text.encode())
                if key is not None:
                    spans.append(f"{key}:{at_csv}:{at_csv + csv_size}:"
                                 f"{at_jsonl}:{at_jsonl + jsonl_size}")  # fmt: skip
                at_csv += csv_size
                at_jsonl += jsonl_size

            for chunk in _page_chunks(p for p in index.posts if p.indexable):
                rows += len(chunk)
                if keys is None:
                    pending.extend(chunk)
                    if len(pending) >= 1000:
                        flush()
                    continue
                key = _chunk_key(index, slug, keys, chunk)
                reused = old.get(key) if old is not None else None
                emit(key, *(reused or _render_chunk(session, index, slug, chunk)))
            flush()
    finally:
        if old is not None:
            old.close()
    return rows, ";".join(spans)
