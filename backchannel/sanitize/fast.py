"""Clean HTML, plain text and links of *simple* post HTML, in one pass.

:func:`backchannel.sanitize.clean.clean_post` tries :class:`SimpleHtmlCleaner` first. It
returns None for anything that is not simple, and that input then goes the full way
(the ``HTMLParser`` rewrite, nh3, and a text extraction from nh3's output). For input
it accepts, the result is exactly what the full way gives; ``tests/test_sanitize_fast``
compares the two on the hostile corpora, the benchmark posts and generated input.

Why this is safe on its own: the output is written here, never copied from the input.
Only tags from a fixed list, only allowed attributes (``class`` cut to the allow list,
``href`` only as an absolute http(s) URL of a strict form, ``title``, ``lang``), every
text and attribute value escaped, and the tags balanced (input whose tags are not
perfectly nested is not simple). Nothing else in the input can reach the output.

Why "simple" is so narrow: to give nh3's (html5ever's) output without building a
tree, the input must be HTML whose tree *is* its tag nesting, and whose every token
reads the same to any HTML parser. So: lower-case tags from a short list (``<p>`` only
at the top, no ``<a>`` inside an ``<a>``: those are where HTML reshapes trees), end
tags that close the innermost open element, attributes written ``name="value"`` (no
``<`` or ``>`` in the value), no duplicate attribute, six character references
(``&amp; &lt; &gt; &quot; &#39; &#x27;``, the ones Mastodon and ``html.escape``
write), no control characters, no ``\\r``, and URLs whose host has plain labels (nh3
checks URLs with a stricter parser than :func:`safe_url`: a ``xn--`` label or an
IPv4-looking host might be refused there). That is what Mastodon and
:func:`~backchannel.collectors.bluesky.facets.render_facets` write for nearly every post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["CleanPost", "SimpleHtmlCleaner"]


class CleanPost(NamedTuple):
    """What :func:`backchannel.sanitize.clean.clean_post` returns."""

    html: str  # sanitised HTML
    text: str  # html_to_text() of that HTML
    links: list[str]  # http(s) hrefs of its <a> that are not mentions or hashtags


# Characters that make input not simple: C0 and C1 controls except tab and newline
# (html5ever rewrites \r and NUL), surrogates and non-characters.
_ODD = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
_ENTITY = "&(?:amp|lt|gt|quot|#39|#x27);"
_ATTRS = rf'(?: [a-z][a-z-]*="(?:[^"<>&{_ODD}\t\n]++|{_ENTITY})*+")*+'
_CONTAINERS = "p|span|a|b|strong|i|em|u|s|del|code"
_ODD_RE = re.compile(f"[{_ODD}]")
# "[^<>]", not "[^>]": a scan never runs past the next "<", so that text full of "<"
# and no ">" is split in linear time (it is then not simple).
_SPLIT_RE = re.compile(r"(<[^<>]*>)")
_BAD_AMP_RE = re.compile("&(?!(?:amp|lt|gt|quot|#39|#x27);)")
_TAG_RE = re.compile(
    rf"<({_CONTAINERS})({_ATTRS})>"  # 1, 2: start tag
    rf"|<(br|img)({_ATTRS})(?: ?/)?>"  # 3, 4: void element
    rf"|</({_CONTAINERS})>"  # 5: end tag
)
_START, _END, _BREAK, _IMAGE, _OTHER = range(5)
_NOT_SIMPLE_TAG = (_OTHER, "", None)
_ATTR_RE = re.compile(r' ([a-z][a-z-]*)="([^"]*)"')
_CLASS_VALUE_RE = re.compile(r"[A-Za-z0-9_ -]*")
# An absolute http(s) URL that both safe_url and nh3's URL parser accept: host labels
# of letters, digits and inner hyphens, the last starting with a letter, no "xn--",
# no port, no user info; the rest without spaces, quotes, angle brackets or backslash.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_STRICT_URL_RE = re.compile(
    rf"[Hh][Tt][Tt][Pp][Ss]?://(?:{_LABEL}\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    rf"(?:[/?#][^\s\"'<>\\`{_ODD}]*)?"
)
_PUNYCODE_RE = re.compile(r"[Xx][Nn]--")
_SHORTCODE_RE = re.compile(r":([A-Za-z0-9_]+):")
_GENERIC_ATTRS = ("title", "lang")  # nh3 keeps these on every allowed tag


def _unescape(text: str) -> str:
    # "&amp;" last, so that "&amp;lt;" gives "&lt;", not "<".
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
    )


def escape_text(text: str) -> str:
    """Text as html5ever writes it (quotes stay as they are)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\xa0" in text:
        text = text.replace("\xa0", "&nbsp;")
    return text


def escape_attr(value: str) -> str:
    """An attribute value as html5ever (nh3) writes it inside double quotes."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\xa0" in value:
        value = value.replace("\xa0", "&nbsp;")
    return value


def strict_url(url: str) -> bool:
    """Whether ``url`` is of the strict form above (which safe_url also accepts)."""
    return _STRICT_URL_RE.fullmatch(url) is not None and not _PUNYCODE_RE.search(url)


class _StartTag(NamedTuple):
    start_html: str  # the tag as written to the clean HTML
    end_html: str  # what its end tag writes ("…</span>" for an ellipsis span)
    end_text: str  # what its end adds to the text ("\n\n" after a paragraph)
    hides: bool  # an invisible span: nothing inside it is kept
    link: str  # an outbound link (href of an <a> that is no mention or hashtag)


_NOT_SIMPLE = object()
_CACHE_SIZE = 4096


class SimpleHtmlCleaner:
    """The one-pass cleaner; built once with the sanitiser's allow lists."""

    def __init__(self, classes: Mapping[str, set[str]], link_rel: str) -> None:
        self._classes = classes
        self._rel = f' rel="{escape_attr(link_rel)}"'
        # Start tags repeat (a server writes every hashtag link the same way): what
        # one means is worked out once. Shared by threads: a lost update only costs time.
        self._tags: dict[str, tuple[int, str, Any]] = {}

    def clean(self, source: str, emojis: Mapping[str, str]) -> CleanPost | None:
        """The clean HTML, text and links of ``source``; None when it is not simple.

        ``emojis`` must already be safe (shortcode -> http(s) URL).
        """
        if emojis and not all(strict_url(url) for url in emojis.values()):
            return None
        if _ODD_RE.search(source):
            return None
        # Text and tags alternate: parts[0] text, parts[1] tag, parts[2] text ...
        # A tag ends at the first ">": one with a ">" inside a quoted value is cut
        # short there, and the piece is then not a simple tag. A "<" left in a text
        # part opens no tag this split recognised: not simple either.
        parts = _SPLIT_RE.split(source)
        html: list[str] = []
        text: list[str] = []
        links: list[str] = []
        # Open elements: (name, what its end tag writes, what it adds to the text).
        stack: list[tuple[str, str, str]] = []
        hide_at = 0  # stack depth of an open invisible span, 0 when none
        in_link = False
        tags = self._tags
        for index, part in enumerate(parts):
            if not index % 2:  # text
                if not part or hide_at:
                    if "<" in part or ("&" in part and _BAD_AMP_RE.search(part)):
                        return None
                    continue
                if "<" in part:
                    return None  # a "<" that opens no tag: HTML has rules for that
                if "&" in part:
                    if _BAD_AMP_RE.search(part):
                        return None  # only the few references we decode as HTML does
                    part = _unescape(part)
                if emojis and ":" in part:
                    html.append(self._emojify(part, emojis))
                else:
                    html.append(escape_text(part))
                text.append(part)  # emoji images read as their alt, ":code:"
                continue
            tag = tags.get(part)
            if tag is None:
                tag = self._tag(part)
                if len(tags) >= _CACHE_SIZE:
                    tags.clear()
                tags[part] = tag
            kind, name, start = tag
            if kind == _START:
                if (name == "p" and stack) or (name == "a" and in_link):
                    return None  # HTML would close or reshape elements here
                in_link = in_link or name == "a"
                if hide_at:
                    stack.append((name, "", ""))
                    continue
                start_html, end_html, end_text, hides, link = start
                stack.append((name, end_html, end_text))
                if hides:
                    hide_at = len(stack)
                    continue
                html.append(start_html)
                if end_text == "\n\n":
                    text.append(end_text)  # a paragraph starts with a blank line too
                if link:
                    links.append(link)
            elif kind == _END:
                if not stack or stack[-1][0] != name:
                    return None
                _, end_html, end_text = stack.pop()
                if name == "a":
                    in_link = False
                if hide_at:
                    if len(stack) < hide_at:
                        hide_at = 0
                    continue
                html.append(end_html)
                if end_text:
                    text.append(end_text)
            elif kind == _BREAK:
                if not hide_at:
                    html.append("<br>")
                    text.append("\n")
            elif kind == _IMAGE:
                if not hide_at and (image := self._image(start, emojis)) is not None:
                    html.append(image[0])
                    text.append(image[1])
            else:
                return None
        if stack:
            return None  # unclosed elements: HTML would close them somewhere
        return CleanPost("".join(html), _plain("".join(text)), list(dict.fromkeys(links)))

    def _tag(self, piece: str) -> tuple[int, str, Any]:
        """What a tag means: (kind, name, details); kind _NOT_SIMPLE when it is not."""
        found = _TAG_RE.fullmatch(piece)
        if found is None:
            return _NOT_SIMPLE_TAG
        name, attrs, void, void_attrs, closing = found.groups()
        if closing is not None:
            return _END, closing, None
        if name is not None:
            start = self._start_tag(name, attrs)
            return _NOT_SIMPLE_TAG if start is _NOT_SIMPLE else (_START, name, start)
        pairs = _ATTR_RE.findall(void_attrs) if void_attrs else []
        if void == "br":
            return _NOT_SIMPLE_TAG if pairs else (_BREAK, void, None)
        return _IMAGE, void, pairs

    def _start_tag(self, name: str, attrs: str) -> _StartTag | object:
        """What a start tag writes and means, or _NOT_SIMPLE."""
        pairs = _ATTR_RE.findall(attrs) if attrs else []
        if len(pairs) > 1 and len({n for n, _ in pairs}) < len(pairs):
            return _NOT_SIMPLE  # which duplicate counts differs between parsers
        written = self._attributes(name, pairs)
        if written is None:
            return _NOT_SIMPLE
        start_html, classes = written
        end_html, end_text, link = f"</{name}>", "", ""
        if name == "span":
            if "invisible" in classes:
                return _StartTag("", "", "", True, "")
            if "ellipsis" in classes:
                end_html, end_text = "…</span>", "…"
        elif name == "a":
            href = next((v for n, v in pairs if n == "href"), None)
            if href is not None and not classes & {"mention", "hashtag"}:
                link = _unescape(href) if "&" in href else href
        elif name == "p":
            end_text = "\n\n"
        return _StartTag(start_html, end_html, end_text, False, link)

    def _attributes(self, tag: str, pairs: list[tuple[str, str]]) -> tuple[str, set[str]] | None:
        """The start tag as nh3 writes it, and the input's classes; None: not simple."""
        out = [f"<{tag}"]
        classes: set[str] = set()
        for name, value in pairs:
            if "&" in value:
                value = _unescape(value)
            if name == "class":
                if not _CLASS_VALUE_RE.fullmatch(value):
                    return None  # str.split() and HTML differ on other white space
                words = value.split()
                classes = set(words)
                allowed = self._classes.get(tag, ())
                kept = " ".join(w for w in words if w in allowed)
                if kept:
                    out.append(f' class="{kept}"')
            elif name == "href":
                if tag != "a":
                    continue
                if not strict_url(value):
                    return None  # let safe_url and nh3 decide
                out.append(f' href="{escape_attr(value)}"')
            elif name in _GENERIC_ATTRS:
                out.append(f' {name}="{escape_attr(value)}"')
        if tag == "a":
            out.append(self._rel)
        out.append(">")
        return "".join(out), classes

    def _image(
        self, pairs: list[tuple[str, str]], emojis: Mapping[str, str]
    ) -> tuple[str, str] | None:
        """An emoji image (HTML, text) as the full way writes it; None: dropped."""
        # ``pairs`` may repeat a name: the last one counts, as in sanitize._Rewriter.
        values = {n: (_unescape(v) if "&" in v else v) for n, v in pairs}
        src = values.get("src", "").strip()
        if "emoji" not in values.get("class", "").split() or src not in emojis.values():
            return None  # only our own emoji images; any other remote image is dropped
        code = next(c for c, u in emojis.items() if u == src)
        label = values.get("alt", "").strip(":")
        if emojis.get(label) == src:
            code = label
        return _emoji_img(code, src), f":{code}:"

    def _emojify(self, data: str, emojis: Mapping[str, str]) -> str:
        """Escaped ``data`` with known ``:shortcode:`` as images (see sanitize._emojify)."""
        out: list[str] = []
        last = pos = 0
        while (found := _SHORTCODE_RE.search(data, pos)) is not None:
            url = emojis.get(found.group(1))
            if url is None:
                pos = found.end() - 1  # the closing colon may open the next code
                continue
            out.append(escape_text(data[last : found.start()]))
            out.append(_emoji_img(found.group(1), url))
            last = pos = found.end()
        out.append(escape_text(data[last:]))
        return "".join(out)


def _emoji_img(code: str, url: str) -> str:
    # ``code`` is [A-Za-z0-9_]+: nothing in it needs escaping.
    return f'<img class="emoji" alt=":{code}:" title=":{code}:" src="{escape_attr(url)}">'


_AROUND_BREAK_RE = re.compile(r"[ \t]*\n[ \t]*")
_MANY_BREAKS_RE = re.compile(r"\n{3,}")


def _plain(text: str) -> str:
    """As sanitize._text: no stray spaces around line breaks, at most one blank line."""
    if "\n" in text:  # each sub only where it can change something: sub is not cheap
        if " \n" in text or "\n " in text or "\t" in text:
            text = _AROUND_BREAK_RE.sub("\n", text)
        if "\n\n\n" in text:
            text = _MANY_BREAKS_RE.sub("\n\n", text)
    return text.strip()
