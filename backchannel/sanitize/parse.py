"""Feeding post HTML to :class:`html.parser.HTMLParser` handlers in linear time.

The sanitiser's HTML rewrite and text extraction are ``HTMLParser`` subclasses. Two
ways lead to their handlers, both linear in the length of the input:

* Simple HTML (lower-case tags from a short list, double-quoted attributes, no
  comments) is split by one regular expression and handed to the very handlers
  ``HTMLParser`` would call, with the same arguments.
* Anything else is first normalised by nh3 (html5ever, written in Rust, linear) and
  only its output goes through ``HTMLParser``.

Why not ``HTMLParser`` on anything else: CPython's parser rescans. At an unterminated
construct (``<a`` with no ``>``, ``<!--`` with no ``-->``, an unclosed quote) it
scans to the end of the input, gives up, emits a few characters as text and scans
again from the next ``<``: quadratic time, ~12 s for 80 kB of ``'<a' * n``, so one
hostile post could stall ingest. Which inputs do that is hard to predict (a tag name
or attribute name may run across ``<``), so none is trusted. html5ever's output, on
the other hand, is the tamest HTML there is: every ``<`` opens a complete tag with a
known name and double-quoted values, text has ``<``, ``>`` and ``&`` escaped, comments
are gone; ``HTMLParser`` reads that in one pass.

The normalising cleaner keeps what the handlers look at (tags, the classes of
Mastodon's invisible and ellipsis spans and of emoji images, ``href``, ``src``,
``alt``) and removes script-like elements with their content; the sanitiser's own
nh3 cleaner still has the last word on what is published.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Set
from html.parser import HTMLParser

import nh3

__all__ = ["HtmlFeeder", "TagHandlers", "class_names"]

_WS = "[ \t\n\r\f]"
# Simple HTML, token by token: text, a start tag with double-quoted attributes, or an
# end tag. Tag names from a short list only: others (script, style, textarea ...) have
# parsing rules of their own, which HTMLParser knows. Every alternative stops at the
# next "<", so matching token after token is linear.
_TOKEN_RE = re.compile(
    r"([^<]+)"
    rf'|<([a-z][a-z0-9]*)((?:{_WS}+[a-z][a-z0-9_.:-]*="[^"<]*")*){_WS}*(/?)>'
    r"|</([a-z][a-z0-9]*)>"
)
_ATTR_FIND_RE = re.compile(r'([a-z][a-z0-9_.:-]*)="([^"<]*)"')


class TagHandlers(HTMLParser):
    """Base of the sanitiser's handler classes (the HTML rewrite, the text extraction)."""

    VOID = frozenset(
        {"br", "img", "hr", "wbr", "input", "meta", "link", "source", "track", "area", "col"}
    )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<span/>" opens a span in HTML; only void elements close themselves.
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)


def class_names(attrs: list[tuple[str, str | None]]) -> set[str]:
    """The class names of a tag's attributes, as ``HTMLParser`` hands them over."""
    for name, value in attrs:
        if name == "class" and value:
            return set(value.split())
    return set()


class HtmlFeeder:
    """Feeds HTML to an ``HTMLParser``'s handlers, in linear time (module docstring).

    ``tags``: the tag names the simple split accepts and the normaliser keeps;
    ``clean_content``: elements the normaliser drops with everything inside them;
    ``attributes``: what the normaliser keeps of each tag.
    """

    def __init__(
        self,
        tags: Set[str],
        clean_content: Set[str],
        attributes: Mapping[str, Set[str]],
    ) -> None:
        self._tags = frozenset(tags)
        self._normaliser = nh3.Cleaner(
            tags=set(tags),
            clean_content_tags=set(clean_content),
            attributes={tag: set(names) for tag, names in attributes.items()},
            link_rel=None,
            strip_comments=True,
        )

    def feed(self, parser: HTMLParser, source: str) -> None:
        """Call ``parser``'s handlers for ``source`` as ``HTMLParser`` would for
        simple HTML, or for nh3's normal form of ``source`` otherwise."""
        tokens = self._split(source)
        if tokens is None:
            normal = self._normaliser.clean(source)
            tokens = self._split(normal)
            if tokens is None:  # a tag the split does not know: tame HTML all the same
                parser.feed(normal)
                parser.close()
                return
        unescape = html.unescape
        for text, tag, attrs, slash, closing in tokens:
            if text is not None:
                parser.handle_data(unescape(text) if "&" in text else text)
            elif closing is not None:
                parser.handle_endtag(closing)
            else:
                pairs: list[tuple[str, str | None]] = [
                    (name, unescape(value) if "&" in value else value)
                    for name, value in _ATTR_FIND_RE.findall(attrs)
                ]
                if slash:
                    parser.handle_startendtag(tag, pairs)
                else:
                    parser.handle_starttag(tag, pairs)

    def _split(self, source: str) -> list[tuple[str | None, ...]] | None:
        """The tokens of ``source`` if all of it is simple HTML, else None."""
        tokens = []
        pos, end = 0, len(source)
        match = _TOKEN_RE.match
        tags = self._tags
        while pos < end:
            token = match(source, pos)
            if token is None:
                return None
            text, tag, attrs, slash, closing = token.groups()
            if (tag or closing) and (tag or closing) not in tags:
                return None
            tokens.append((text, tag, attrs, slash, closing))
            pos = token.end()
        return tokens
