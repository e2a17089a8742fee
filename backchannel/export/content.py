"""Sanitised HTML made ready for the site: images local, never remote.

Post HTML was cleaned at collection by :mod:`backchannel.sanitize.clean`. Here, as defence
in depth, :func:`post_html` checks that it still has the shape the sanitiser writes
(known tags, known attributes, http(s) links, double-quoted values) and sends anything
else back through :func:`~backchannel.sanitize.clean.clean_post_html`. The check is a fast
regular expression, so a 100,000-post export does not pay the full cleaner twice.

The only images sanitised HTML can hold are custom emoji pointing at remote URLs.
:func:`localise_images` points them at the local copy, or drops them to their
``:shortcode:`` alt text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup

from backchannel.sanitize import clean_post_html, escape, limits

_IMG = re.compile(r"<img\b([^<>]*)>")
_ATTR = re.compile(r'\s([a-z][a-z-]*)="([^"]*)"')
_TAG = re.compile(r"<(/?)([a-z0-9]+)((?:\s[a-z][a-z-]*=\"[^\"<>]*\")*)\s*(/?)>")
_SAFE_TAGS = {
    "p", "br", "span", "a", "img", "b", "strong", "i", "em", "u", "s", "del",
    "code", "pre", "blockquote", "ul", "ol", "li",
}  # fmt: skip
_SAFE_ATTRS = {"href", "src", "alt", "title", "class", "rel", "start", "translate"}
_URL_ATTRS = {"href", "src"}
_HTTP = re.compile(r"https?://", re.I)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _looks_sanitised(source: str) -> bool:
    """True when every tag in ``source`` is one the sanitiser could have written."""
    if "<" not in source and ">" not in source:
        return True
    at = 0  # one pass: the text between tags holds no "<" nor ">", each tag is safe
    for match in _TAG.finditer(source):
        gap = source[at : match.start()]
        if "<" in gap or ">" in gap or match.group(2) not in _SAFE_TAGS:
            return False
        if match.group(3) and not _safe_attributes(match.group(3)):
            return False
        at = match.end()
    tail = source[at:]
    return "<" not in tail and ">" not in tail


@lru_cache(maxsize=4096)
def _safe_attributes(attributes: str) -> bool:
    """Known names only, and http(s) URLs (the same classes and links recur a lot)."""
    for name, value in _ATTR.findall(attributes):
        if name not in _SAFE_ATTRS:
            return False
        if name in _URL_ATTRS and not _HTTP.match(html.unescape(value)):
            return False
    return True


def image_urls(source: str) -> set[str]:
    """The ``src`` of every image in sanitised HTML (custom emoji)."""
    urls = set()
    for match in _IMG.finditer(source):
        src = dict(_ATTR.findall(match.group(1))).get("src")
        if src:
            urls.add(html.unescape(src))
    return urls


def localise_images(source: str, paths: Mapping[str, str | None], prefix: str) -> str:
    """Emoji images pointed at their local copies (``prefix`` + site path), or
    replaced by their escaped alt text when no local copy exists."""
    if "<img" not in source:
        return source

    def swap(match: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(match.group(1)))
        alt = attrs.get("alt", "")  # already escaped by the sanitiser
        local = paths.get(html.unescape(attrs.get("src", "")))
        if not local:
            return alt
        src = html.escape(prefix + local, quote=True)
        return f'<img class="emoji" alt="{alt}" title="{alt}" src="{src}">'

    return _IMG.sub(swap, source)


def emoji_map(pairs: object) -> dict[str, str]:
    """``[[shortcode, url], ...]`` as stored -> ``{shortcode: url}``."""
    result: dict[str, str] = {}
    if not pairs:
        return result
    for pair in pairs:  # type: ignore[attr-defined]
        if isinstance(pair, list | tuple) and len(pair) == 2:
            result[str(pair[0])] = str(pair[1])
    return result


def post_html(
    source: str, emojis: Mapping[str, str], paths: Mapping[str, str | None], prefix: str
) -> Markup:
    """A post's HTML for a page: checked (re-cleaned if need be), images local."""
    if not _looks_sanitised(source):
        source = clean_post_html(source, emojis)
    # A stranger's post of any length: shown up to limits.POST_TEXT (the raw JSON and
    # the stored text keep it all).
    source = limits.bounded_html(source)
    return Markup(localise_images(source, paths, prefix))  # noqa: S704 - sanitiser output


def name_html(
    text: str, emojis: Mapping[str, str], paths: Mapping[str, str | None], prefix: str
) -> Markup:
    """A display name as HTML: escaped, with custom emoji as local images or text."""
    return Markup(localise_images(escape(text, emojis), paths, prefix))  # noqa: S704


def name_image_urls(text: str, emojis: Mapping[str, str]) -> set[str]:
    return image_urls(escape(text, emojis)) if emojis and ":" in text else set()


def markdown_html(text: str) -> Markup:
    """A curator's Markdown as sanitised HTML (raw HTML in it is shown as text)."""
    return Markup(clean_post_html(_markdown.render(text or "")))  # noqa: S704
