"""Rich text for the Bluesky sandbox: post text with facets at UTF-8 byte offsets.

Bluesky facets index the UTF-8 *bytes* of the text (start inclusive, end
exclusive), never Python string positions, so every offset here is computed from
``len(prefix.encode("utf-8"))``. :class:`RichText` builds text piece by piece (a link
may show shortened text while its facet carries the full URI); :func:`detect_facets`
finds tags, links and mentions in finished text, as the Bluesky app does when a post
is (re)written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

FACET = "app.bsky.richtext.facet"
TAG_RE = re.compile(r"(?<![\w#])#([^\s#.,;:!?()\[\]{}\"'“”]+)")
LINK_RE = re.compile(r"https?://[^\s)\]]+")
MENTION_RE = re.compile(r"(?<![\w@])@([a-zA-Z0-9.-]+\.[a-zA-Z]+)")


def byte_len(text: str) -> int:
    return len(text.encode("utf-8"))


def facet(start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {
        "$type": FACET,
        "index": {"byteStart": start, "byteEnd": end},
        "features": [feature],
    }


def tag_feature(tag: str) -> dict[str, Any]:
    return {"$type": f"{FACET}#tag", "tag": tag}


def link_feature(uri: str) -> dict[str, Any]:
    return {"$type": f"{FACET}#link", "uri": uri}


def mention_feature(did: str) -> dict[str, Any]:
    return {"$type": f"{FACET}#mention", "did": did}


class RichText:
    """Text assembled from pieces, with a facet for each tag, link and mention."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._bytes = 0
        self.facets: list[dict[str, Any]] = []

    def add(self, text: str) -> RichText:
        self._parts.append(text)
        self._bytes += byte_len(text)
        return self

    def _feature(self, shown: str, feature: dict[str, Any]) -> RichText:
        start = self._bytes
        self.add(shown)
        self.facets.append(facet(start, self._bytes, feature))
        return self

    def tag(self, tag: str) -> RichText:
        """``#tag`` as typed; the facet's ``tag`` keeps the case the author used."""
        return self._feature(f"#{tag}", tag_feature(tag))

    def link(self, uri: str, shown: str | None = None) -> RichText:
        """A link; the app shortens long URLs in the text, the facet keeps the full URI."""
        return self._feature(shown if shown is not None else uri, link_feature(uri))

    def mention(self, handle: str, did: str) -> RichText:
        return self._feature(f"@{handle}", mention_feature(did))

    @property
    def text(self) -> str:
        return "".join(self._parts)


def detect_facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Facets for the tags, links and mentions in ``text``, sorted by byteStart.

    ``resolve`` maps a handle to a DID; a mention of an unknown handle gets no facet,
    as in the app.
    """
    found: list[dict[str, Any]] = []

    def offsets(match: re.Match[str]) -> tuple[int, int]:
        return byte_len(text[: match.start()]), byte_len(text[: match.end()])

    for match in TAG_RE.finditer(text):
        found.append(facet(*offsets(match), tag_feature(match.group(1))))
    for match in LINK_RE.finditer(text):
        found.append(facet(*offsets(match), link_feature(match.group(0))))
    for match in MENTION_RE.finditer(text):
        did = resolve(match.group(1))
        if did is not None:
            found.append(facet(*offsets(match), mention_feature(did)))
    found.sort(key=lambda f: f["index"]["byteStart"])
    return found


def hashtags(text: str) -> set[str]:
    """The hashtags written in ``text``, lower-cased."""
    return {match.group(1).lower() for match in TAG_RE.finditer(text)}
