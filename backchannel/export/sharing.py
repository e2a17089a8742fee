"""Shared as Storify's stories were: preview cards, an embeddable page, oEmbed.

With ``[export] base_url`` set (cards and oEmbed need absolute addresses), each story
and each event's overview carry Open Graph and Twitter card metadata (title,
description, address, and the story's first image kept in the archive, if any), and
each story gets ``story-<slug>-embed.html``: the story alone, compact, without
navigation or script, links opening outside the frame, and its oEmbed description
(``story-<slug>.oembed.json``, announced by the story's page). The embed page is the
one page a host should let other sites frame (``backchannel serve`` does so).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

EMBED_WIDTH, EMBED_HEIGHT = 560, 800


@dataclass(frozen=True, slots=True)
class ShareCard:
    url: str  # absolute
    title: str
    description: str
    site_name: str
    image: str | None  # absolute, a file of the archive
    kind: str  # "article" (a story) or "website" (an event)


def absolute(site: Any, relative_to_root: str) -> str:
    return f"{site.base_url.rstrip('/')}/{relative_to_root.lstrip('/')}"


def card(site: Any, relative_to_root: str, title: str, description: str, kind: str,
         image: str | None = None) -> ShareCard | None:  # fmt: skip
    """The page's card, or None without a base URL (a card needs absolute addresses)."""
    if not site.base_url:
        return None
    words = " ".join(description.split())
    if len(words) > 200:
        words = words[:199].rsplit(" ", 1)[0] + "…"
    return ShareCard(absolute(site, relative_to_root), title, words, site.title,
                     absolute(site, image) if image else None, kind)  # fmt: skip


def first_image(shown: list[tuple[Any, Any]]) -> str | None:
    """The first picture of the story's posts kept in the archive, relative to the site
    root (a placeholder is no picture)."""
    for post, _note in shown:
        for media in post.media:
            if media.local and media.kind == "image" and media.src.startswith("../"):
                return media.src.removeprefix("../")
    return None


def oembed(site: Any, slug: str, stem: str, title: str, curator: str) -> bytes:
    """The oEmbed "rich" answer for a story: its embed page in an iframe."""
    page = absolute(site, f"{slug}/{stem}-embed.html")
    frame = (f'<iframe src="{page}" width="{EMBED_WIDTH}" height="{EMBED_HEIGHT}" '
             f'title="{_attr(title)}" loading="lazy" style="border:0;max-width:100%"></iframe>')  # fmt: skip
    answer = {
        "version": "1.0", "type": "rich", "title": title,
        "author_name": curator or site.title, "provider_name": site.title,
        "provider_url": absolute(site, ""), "html": frame,
        "width": EMBED_WIDTH, "height": EMBED_HEIGHT,
    }  # fmt: skip
    return (json.dumps(answer, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))  # fmt: skip
