"""The media gallery: every attachment of the event's posts, 60 to a page.

Each page is a unit of its own whose fingerprint is made of its items' posts' keys
(which change with the post's media, author, flags and place) and the gallery's size:
an export after new posts renders only the pages whose items changed or moved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from backchannel.export.context import AuthorView, MediaView, Views
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex, IndexedPost, KeyColumn
from backchannel.export.writer import SiteWriter

GALLERY_PAGE = 60  # a page of the gallery stays under 15 screens of a phone


@dataclass(frozen=True, slots=True)
class GalleryItem:
    media: MediaView
    post_href: str
    author: AuthorView
    blurred: bool  # sensitive, or behind a content warning: blurred until revealed
    time_local: str


def write_gallery(
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    event_fingerprint: str,
    keys: KeyColumn,
) -> None:
    """Page by page: one page of items in memory, not the event's every picture."""
    columns = index.columns
    # (row, attachment) of every item, from the columns: no post made for the others.
    items = [(row, at) for row, code in enumerate(columns.media_sets) if code
             for at in range(len(columns.media_lists[code]))]  # fmt: skip
    total = len(items)
    count = max(1, -(-total // GALLERY_PAGE))
    names = ["media.html"] + [f"media-{n}.html" for n in range(2, count + 1)]
    slug = base["event"].slug
    for number in range(1, count + 1):
        chunk = items[(number - 1) * GALLERY_PAGE : number * GALLERY_PAGE]
        digest = hashlib.sha256(f"{event_fingerprint}|{total}|{number}".encode())
        for row, at in chunk:
            digest.update(keys.raw(IndexedPost(columns, row)) + bytes([at % 256]))
        unit = f"{slug}/media/{number}"
        if writer.keep_unit(unit, digest.hexdigest()):
            continue
        with writer.unit(unit, digest.hexdigest()):
            shown = []
            for row, at in chunk:
                post = IndexedPost(columns, row)
                shown.append(GalleryItem(
                    views.media(post.media[at]), post.href, views.author(post.author_id),
                    post.sensitive or post.has_cw, index.dates.local(post.created_at),
                ))  # fmt: skip
            writer.write(
                f"{slug}/{names[number - 1]}",
                theme.get("media.html").render(**base, items=shown, number=number,
                                               pages=list(enumerate(names, start=1)),
                                               total=total),
            )  # fmt: skip
