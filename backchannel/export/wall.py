"""The live wall: ``<event>/wall.html``, the newest posts in large type for a projector.

Written with ``[export] live = true`` (``backchannel run`` re-exports after each
collection). The page reloads itself every :data:`REFRESH_SECONDS` with a
``<meta http-equiv="refresh">``, which the site's Content Security Policy does not
govern, so it needs no script and makes no third-party request. Its posts are the
exporter's own selection (:func:`backchannel.export.selection.load_index`): hidden,
deleted and opted-out posts are left out exactly as on the timeline.
"""

from __future__ import annotations

import hashlib
from typing import Any

from markupsafe import Markup

from backchannel.export.context import Views
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex
from backchannel.export.timeline import PostKeys
from backchannel.export.writer import SiteWriter

WALL_POSTS = 30
REFRESH_SECONDS = 30


def write_wall(
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    event_fingerprint: str,
) -> None:
    """Write the event's wall page, unless its newest posts are as they were."""
    slug = base["event"].slug
    newest = list(reversed(index.posts[-WALL_POSTS:]))
    keys = PostKeys(event_fingerprint, index)
    text = repr((REFRESH_SECONDS, [keys.key(p) for p in newest]))
    fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
    name = f"{slug}/wall"
    if writer.keep_unit(name, fingerprint):
        return
    post_template = theme.get("_post.html")
    with writer.unit(name, fingerprint):
        posts = [
            Markup(post_template.render(post=view, **base))  # noqa: S704 - our template
            for view in views.posts(newest)
        ]
        page = theme.get("wall.html").render(
            **base, posts=posts, refresh=REFRESH_SECONDS, page_kind="wall"
        )
        writer.write(f"{slug}/wall.html", page)
