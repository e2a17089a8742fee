"""Bluesky rich text (``text`` + ``facets``) to safe HTML.

Facet ranges are zero-based **UTF-8 byte** offsets (start inclusive, end exclusive),
so the text is sliced as bytes, not as a Python ``str`` (unless it is ASCII, where
the two are the same and decoding can be skipped). Real data carries broken
facets, so the renderer is defensive and never raises on anything JSON can hold:

* a range that runs past the end is clamped to the text; a negative start becomes 0;
* a range that cuts through a character is shrunk inward to whole characters;
* an empty, reversed or non-integer range is skipped;
* facets are taken in order of ``byteStart``; one that overlaps an earlier one is
  skipped;
* a feature with an unknown ``$type`` (``#hashtag``, ``#bold``, ``blue.poll.*`` ...),
  a missing key, a link that is not ``http(s)``, or a mention whose DID is not a DID
  is skipped; a facet with no usable feature leaves its text plain.

Whatever is skipped, the visible text of the HTML is always exactly the original text
(escaped, with line breaks as ``<br>``): facets only ever add ``<a>`` around parts.

The HTML produced:

* link: ``<a href="FULL_URI" rel="nofollow noopener ugc">visible</a>``; the href is
  the facet's full URI, since the visible text may be shortened;
* mention: ``<a class="mention" href="https://bsky.app/profile/DID">@handle</a>``;
* hashtag: ``<a class="hashtag" href="https://bsky.app/hashtag/NAME" data-tag="NAME">``
  ``#Tag</a>``, where ``NAME`` is the
  :func:`~backchannel.collectors.base.normalize_hashtag` form (percent-encoded in the
  href). To link *within the archive*, the exporter rewrites every ``a.hashtag``
  (Mastodon's too) to its own tag page, taking the name from ``data-tag`` or the
  href's last path segment. The href is absolute on purpose:
  :func:`backchannel.sanitize.clean.clean_post_html` (which the normaliser applies on top)
  drops relative hrefs and ``data-`` attributes, and a hashtag link that still works
  un-rewritten beats a dead one.

Two helpers for Bluesky text go with it: :func:`text_hashtags` (``#words`` that no
facet marks) and :func:`quote_path` (a URL path segment, quoted only when it must be).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

from backchannel.collectors.base import normalize_hashtag
from backchannel.sanitize import LINK_REL, safe_url

__all__ = [
    "RenderedText",
    "clean_text",
    "escape_text",
    "hashtag",
    "quote_path",
    "render_facets",
    "safe_url",
    "text_hashtags",
]

LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"

PROFILE_URL = "https://bsky.app/profile/{}"
HASHTAG_URL = "https://bsky.app/hashtag/{}"
_DID_RE = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}$")
_MAX_TAG_CHARS = 640  # the lexicon's maxLength


class RenderedText(NamedTuple):
    """What :func:`render_facets` returns."""

    html: str
    links: tuple[str, ...]  # link facet URIs, in order, deduplicated
    mentions: tuple[tuple[str, str], ...]  # (handle, profile URL)
    tags: tuple[str, ...]  # normalize_hashtag() forms, in order, deduplicated


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` made storable: NUL dropped, lone surrogates as U+FFFD.

    JSON can carry both; neither survives UTF-8 encoding (SQLite) or PostgreSQL.
    """
    if text.isascii():  # most text; no surrogate can be in it
        return text.replace("\x00", "") if "\x00" in text else text
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def escape_text(text: str) -> str:
    """Escape plain text for HTML; line breaks become ``<br>``."""
    escaped = html.escape(clean_text(text), quote=True)
    if "\r" in escaped:
        escaped = escaped.replace("\r\n", "\n").replace("\r", "\n")
    return escaped.replace("\n", "<br>") if "\n" in escaped else escaped


def _slice(data: bytes | str, start: int, end: int) -> str:
    """Text between two byte offsets (``data`` is the text itself when it is ASCII)."""
    if isinstance(data, str):
        return data[start:end]
    return data[start:end].decode("utf-8", "surrogatepass")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _char_start(data: bytes | str, pos: int) -> bool:
    """Whether byte ``pos`` starts a UTF-8 character (or is the end of the text)."""
    return isinstance(data, str) or pos >= len(data) or (data[pos] & 0xC0) != 0x80


def _byte_range(facet: dict[str, Any], data: bytes | str) -> tuple[int, int] | None:
    index = facet.get("index")
    if not isinstance(index, dict):
        return None
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not (_is_int(start) and _is_int(end)):
        return None
    start, end = max(0, start), min(len(data), end)
    # Shrink inward to whole characters: never link half an emoji, never widen
    # a facet into text it did not claim.
    while start < end and not _char_start(data, start):
        start += 1
    while end > start and not _char_start(data, end):
        end -= 1
    if start >= end:
        return None
    return start, end


def _feature(facet: dict[str, Any], visible: str) -> tuple[str, str, str] | None:
    """The first usable feature of a facet as (kind, value, extra), or None."""
    features = facet.get("features")
    if not isinstance(features, list):
        return None
    for feature in features:
        if not isinstance(feature, dict):
            continue
        kind = feature.get("$type")
        if kind == LINK:
            uri = safe_url(feature.get("uri"))
            if uri:
                return "link", uri, ""
        elif kind == MENTION:
            did = feature.get("did")
            if isinstance(did, str) and _DID_RE.match(did):
                handle = visible.strip().lstrip("@") or did
                return "mention", did, handle
        elif kind == TAG:
            tag = feature.get("tag")
            if isinstance(tag, str) and len(tag) <= _MAX_TAG_CHARS:
                name = hashtag(tag)
                if name:
                    return "tag", name, ""
    return None


# normalize_hashtag(), remembered: a few hashtags make most of an event's posts.
hashtag = lru_cache(maxsize=4096)(normalize_hashtag)


@lru_cache(maxsize=4096)
def _hashtag_start(name: str) -> str:
    href = html.escape(HASHTAG_URL.format(quote(name, safe="")), quote=True)
    return f'<a class="hashtag" href="{href}" data-tag="{html.escape(name, quote=True)}">'


def render_facets(text: str, facets: object) -> RenderedText:
    """Render ``text`` with its ``facets`` (raw JSON list) as safe HTML. Never raises."""
    if not isinstance(text, str):
        text = ""
    if not facets:
        return RenderedText(escape_text(text), (), (), ())
    # surrogatepass: a lone surrogate (valid JSON, invalid UTF-8) must not crash us;
    # it keeps its 3 bytes so later offsets still line up.
    encoded = text.encode("utf-8", "surrogatepass")
    # ASCII: byte offsets are character offsets, and slicing the str saves decoding.
    data: bytes | str = text if len(encoded) == len(text) else encoded
    spans: list[tuple[int, int, int, dict[str, Any]]] = []
    if isinstance(facets, list):
        for order, facet in enumerate(facets):
            if isinstance(facet, dict):
                rng = _byte_range(facet, data)
                if rng is not None:
                    spans.append((rng[0], rng[1], order, facet))
    spans.sort(key=lambda s: (s[0], s[2]))

    out: list[str] = []
    links: list[str] = []
    mentions: list[tuple[str, str]] = []
    tags: list[str] = []
    pos = 0
    for start, end, _order, facet in spans:
        if start < pos:
            continue  # overlaps a facet already rendered
        visible = _slice(data, start, end)
        feature = _feature(facet, visible)
        if feature is None:
            continue
        kind, value, extra = feature
        out.append(escape_text(_slice(data, pos, start)))
        shown = escape_text(visible)
        if kind == "link":
            href = html.escape(value, quote=True)
            out.append(f'<a href="{href}" rel="{LINK_REL}">{shown}</a>')
            if value not in links:
                links.append(value)
        elif kind == "mention":
            url = PROFILE_URL.format(value)
            out.append(f'<a class="mention" href="{html.escape(url)}">{shown}</a>')
            if (extra, url) not in mentions:
                mentions.append((extra, url))
        else:
            out.append(f"{_hashtag_start(value)}{shown}</a>")
            if value not in tags:
                tags.append(value)
        pos = end
    out.append(escape_text(_slice(data, pos, len(data))))
    return RenderedText("".join(out), tuple(links), tuple(mentions), tuple(tags))


# A "#" at the start, after whitespace or an opening bracket or quote (not inside a
# URL), then the run up to whitespace or punctuation ("_" and "-" excepted):
# "(#swrs26)," gives "swrs26".
_TEXT_TAG = re.compile(
    r"(?:^|(?<=[\s(\[{\"'\u201c\u2018]))[#\uff03]([^\s#\uff03\u00ad\u2060\u200a-\u200d\u20e2]+)"
)


def text_hashtags(text: str) -> list[str]:
    """``#words`` of plain text, in :func:`hashtag` form (for clients that write no facets)."""
    tags = []
    if "#" not in text and "\uff03" not in text:
        return tags
    for match in _TEXT_TAG.finditer(text):
        word = match.group(1)
        if word.isascii():
            # The ASCII characters of Unicode category P (punctuation), "_" and "-" aside.
            if cut := _ASCII_PUNCTUATION.search(word):
                word = word[: cut.start()]
        else:
            for i, char in enumerate(word):
                if char not in "_-" and unicodedata.category(char).startswith("P"):
                    word = word[:i]
                    break
        if word and not word.isdigit():
            tags.append(hashtag(word))
    return tags


_ASCII_PUNCTUATION = re.compile(r"[!-#%-*,./:;?@\[-\]{}]")


_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~-]*")


def quote_path(value: str, safe: str = "") -> str:
    """``urllib.parse.quote(value, safe)``, without its cost for the usual plain value."""
    if _PLAIN_PATH.fullmatch(value.replace(safe, "") if safe else value):
        return value
    return quote(value, safe=safe)
