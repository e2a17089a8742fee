"""Remote HTML made safe to publish, shared by the collectors and the exporter.

Seven functions, and nothing else is public:

* :func:`clean_post_html` -- post HTML (Mastodon ``content``, or HTML a collector built)
  to a small allow list: paragraphs, line breaks, basic inline formatting, lists,
  quotes, code, links (``rel="nofollow noopener ugc"``, http(s) only), the few classes
  Mastodon uses (``h-card``, ``mention``, ``hashtag``, ``u-url``, ``quote-inline``) and
  custom emoji as ``<img class="emoji">``. Mastodon's shortened links are made plain:
  ``<span class="invisible">`` parts are dropped and an ``ellipsis`` span gets a real
  "…", so the text reads ``example.org/abc…`` while ``href`` keeps the full URL.
  Output is stable: cleaning it again with the same emoji gives the same string.
* :func:`clean_post` -- :func:`clean_post_html`, and the :func:`text_and_links` of its
  result, together (what a collector needs of a post).
* :func:`safe_url` -- an absolute http(s) URL, or None.
* :func:`html_to_text` -- the plain text a reader sees (for feeds, search, opt-out tags).
* :func:`text_and_links` -- that text and the outbound links of sanitised HTML, from
  one parse.
* :func:`escape` -- plain text to HTML, optionally with custom emoji as images
  (display names).
* :func:`emoji_img` -- the one way an emoji image is written.

Why a pre-pass before nh3: nh3 (ammonia) decides what is *allowed*, but cannot drop
the text inside an invisible span, add the ellipsis, or turn ``:shortcode:`` text into
images. A small :class:`html.parser.HTMLParser` rewrite does those first; its output
then goes through nh3, which has the last word on what survives.

Speed: nh3 alone costs more per post than the rest of normalising it. So post HTML
that is *simple* (the narrow grammar of :mod:`backchannel.sanitize.fast`: what Mastodon
and the Bluesky renderer write for nearly every post) is cleaned in one pass that
writes the clean HTML, its text and its links itself, from the same allow lists and
exactly as the full way above would (the tests compare the two); everything else goes
the full way. The nh3 cleaner is built once and reused.

Linear time on any input, since posts come from strangers: the full way first bounds
what makes html5ever slow (:mod:`backchannel.sanitize.tame`: nesting depth, attributes
per tag), and then feeds its handlers through :mod:`backchannel.sanitize.parse`, which
never lets ``HTMLParser`` see raw odd input (it rescans: quadratic time).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping

import nh3

from backchannel.sanitize.fast import CleanPost, SimpleHtmlCleaner
from backchannel.sanitize.parse import HtmlFeeder, TagHandlers, class_names
from backchannel.sanitize.tame import tame
from backchannel.sanitize.text import TextExtractor, text_of
from backchannel.sanitize.urls import SCHEMES, safe_url

__all__ = [
    "CleanPost",
    "clean_post",
    "clean_post_html",
    "emoji_img",
    "escape",
    "html_to_text",
    "safe_url",
    "text_and_links",
]

_TAGS = {
    "p", "br", "span", "a", "img",
    "b", "strong", "i", "em", "u", "s", "del",
    "code", "pre", "blockquote", "ul", "ol", "li",
}  # fmt: skip
# Removed together with everything inside them (nh3 requires these to be disjoint
# from _TAGS). Keeping the text of a <script> or an <svg> would only show garbage.
_CLEAN_CONTENT = {
    "script", "style", "svg", "math", "iframe", "object", "embed", "template",
    "noscript", "textarea", "title", "select", "noembed", "noframes", "xmp",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_CLASSES = {
    "a": {"mention", "hashtag", "u-url"},
    "span": {"h-card"},
    "p": {"quote-inline"},  # Mastodon's "RE: <link>" fallback line of a quote post
    "img": {"emoji"},
}
LINK_REL = "nofollow noopener ugc"
_SKIP_TEXT = _CLEAN_CONTENT | {"head"}  # elements whose text is not text a reader sees
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_ATTR_RE = re.compile(r"^[a-z][a-z0-9_.:-]*$")
_SHORTCODE_RE = re.compile(r":([A-Za-z0-9_]+):")


def escape(text: str, emojis: Mapping[str, str] | None = None) -> str:
    """Plain ``text`` as HTML; ``:shortcode:`` of ``emojis`` become emoji images."""
    return _emojify(text or "", _safe_emojis(emojis))


def emoji_img(shortcode: str, url: str) -> str:
    """``<img class="emoji">`` for one custom emoji (alt and title are ``:shortcode:``)."""
    label = html.escape(f":{shortcode}:", quote=True)
    return f'<img class="emoji" alt="{label}" title="{label}" src="{html.escape(url, quote=True)}">'


def clean_post_html(source: str, emojis: Mapping[str, str] | None = None) -> str:
    """Sanitised HTML of a post, safe to publish (see the module docstring).

    ``emojis`` maps shortcodes (without colons) to image URLs: ``:code:`` in text
    becomes an emoji image. An ``<img>`` already in ``source`` survives only if it is
    an emoji image whose ``src`` is one of those URLs, so that cleaning twice is stable
    and no other remote image (a tracking pixel) can reach the archive.
    """
    allowed = _safe_emojis(emojis)
    simple = _SIMPLE.clean(source or "", allowed)
    if simple is not None:
        return simple.html
    return _clean_fully(source or "", allowed)


def clean_post(source: str, emojis: Mapping[str, str] | None = None) -> CleanPost:
    """:func:`clean_post_html` of ``source``, and the text and links of that HTML as
    :func:`text_and_links` gives them: one pass for simple HTML."""
    allowed = _safe_emojis(emojis)
    simple = _SIMPLE.clean(source or "", allowed)
    if simple is not None:
        return simple
    body = _clean_fully(source or "", allowed)
    return CleanPost(body, *_text_and_links(body))  # nh3's output: tame already


def _clean_fully(source: str, allowed: dict[str, str]) -> str:
    """The HTMLParser rewrite, then nh3 (see the module docstring)."""
    rewriter = _Rewriter(allowed)
    _parse(rewriter, tame(source))
    # The cleaner is shared (threads included); the emoji URLs of this call reach its
    # attribute filter through a thread-local, since nh3 calls it on this thread.
    _state.urls = set(allowed.values())
    try:
        return _CLEANER.clean("".join(rewriter.out))
    finally:
        _state.urls = set()


def html_to_text(source: str) -> str:
    """The text a reader sees: paragraphs split by a blank line, ``<br>`` a newline.

    Invisible link parts are left out and ellipses shown, as in :func:`clean_post_html`;
    emoji images become their ``:shortcode:``; script and style content is ignored.
    """
    parser = TextExtractor(_SKIP_TEXT)
    _parse(parser, tame(source or ""))
    return text_of(parser)


def text_and_links(source: str) -> tuple[str, list[str]]:
    """:func:`html_to_text` of ``source``, and the http(s) hrefs of its ``<a>`` elements
    that are not mention or hashtag links (in order, without repeats): one parse."""
    return _text_and_links(tame(source or ""))


def _text_and_links(source: str) -> tuple[str, list[str]]:
    parser = TextExtractor(_SKIP_TEXT, links=True)
    _parse(parser, source)
    return text_of(parser), list(dict.fromkeys(parser.links))


# -- internals ----------------------------------------------------------------------


def _keep(element: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        if safe_url(value) is None:
            return None
        if element == "img" and value.strip() not in getattr(_state, "urls", ()):
            return None
    return value


_state = threading.local()
_SIMPLE = SimpleHtmlCleaner(_CLASSES, LINK_REL)
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CLEAN_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_keep,
    link_rel=LINK_REL,
    url_schemes=SCHEMES,
    allowed_classes=_CLASSES,
    url_relative="deny",
)

_SIMPLE_TAGS = _TAGS | {"div", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "sub", "sup"}
# What the rewrite and the text extraction look at, kept by the normaliser that tames
# odd input before HTMLParser sees it (see backchannel.sanitize_parse).
_FEEDER = HtmlFeeder(
    _SIMPLE_TAGS,
    _CLEAN_CONTENT,
    {
        "a": {"href", "class"},
        "span": {"class"},
        "p": {"class"},
        "img": {"src", "alt", "title", "class"},
        "ol": {"start"},
    },
)
_parse = _FEEDER.feed


def _safe_emojis(emojis: Mapping[str, str] | None) -> dict[str, str]:
    if not emojis:
        return {}
    result: dict[str, str] = {}
    for code, url in (emojis or {}).items():
        safe = safe_url(url)
        if safe and re.fullmatch(r"[A-Za-z0-9_]+", code or ""):
            result[code] = safe
    return result


def _emojify(text: str, emojis: Mapping[str, str]) -> str:
    """Escape ``text``; known ``:shortcode:`` become images.

    A colon that closes an unknown code may open the next one (``:x:blob:``), so the
    scan steps back onto it rather than past it.
    """
    if not emojis or ":" not in text:
        return html.escape(text, quote=True)
    out: list[str] = []
    last = pos = 0
    while (match := _SHORTCODE_RE.search(text, pos)) is not None:
        url = emojis.get(match.group(1))
        if url is None:
            pos = match.end() - 1
            continue
        out.append(html.escape(text[last : match.start()], quote=True))
        out.append(emoji_img(match.group(1), url))
        last = pos = match.end()
    out.append(html.escape(text[last:], quote=True))
    return "".join(out)


def _attributes(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    """Attributes re-serialised; classes cut to the allow list now, so that a span
    whose only class was ``ellipsis`` does not end up as ``<span class="">``."""
    parts = []
    for name, value in attrs:
        if not _ATTR_RE.match(name):
            continue
        if name == "class":
            value = " ".join(c for c in (value or "").split() if c in _CLASSES.get(tag, ()))
            if not value:
                continue
        parts.append(f' {name}="{html.escape(value or "", quote=True)}"')
    return "".join(parts)


class _Rewriter(TagHandlers):
    """Re-serialises HTML with Mastodon's link spans resolved and emoji as images.

    It is not a sanitiser (nh3 runs after it); it only has to keep what it does not
    understand escaped, so that nothing it writes can change meaning later.
    """

    def __init__(self, emojis: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._emojis = emojis
        self._emoji_urls = set(emojis.values())
        self._hidden = 0  # depth of <span> nesting inside an invisible span
        self._spans: list[bool] = []  # open spans: does each end with an ellipsis?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._hidden:
            if tag == "span":
                self._hidden += 1
            return
        if not _NAME_RE.match(tag):
            return
        if tag == "img":
            self._image(attrs)
            return
        if tag == "span":
            classes = class_names(attrs)
            if "invisible" in classes:
                self._hidden = 1
                return
            self._spans.append("ellipsis" in classes)
        self.out.append(f"<{tag}{_attributes(tag, attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        if self._hidden:
            if tag == "span":
                self._hidden -= 1
            return
        if not _NAME_RE.match(tag) or tag in self.VOID:
            return
        if tag == "span" and self._spans and self._spans.pop():
            self.out.append("…")
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(_emojify(data, self._emojis))

    def _image(self, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        src = (values.get("src") or "").strip()
        if "emoji" not in class_names(attrs) or src not in self._emoji_urls:
            return  # only our own emoji images; any other remote image is dropped
        code = next((c for c, u in self._emojis.items() if u == src), None)
        label = (values.get("alt") or "").strip(":")
        if label in self._emojis and self._emojis[label] == src:
            code = label
        if code is not None:
            self.out.append(emoji_img(code, src))

    # Comments, doctypes, processing instructions and CDATA are dropped: the default
    # handlers of HTMLParser do nothing with them.
