"""Plain text and outbound links of HTML, as a reader sees them.

The handlers behind :func:`backchannel.sanitize.clean.html_to_text` and
:func:`backchannel.sanitize.clean.text_and_links`: paragraphs split by a blank line, ``<br>``
a newline, Mastodon's invisible link parts left out and ellipses shown (as the
sanitised HTML shows them), emoji images as their ``alt`` text.
"""

from __future__ import annotations

import re
from collections.abc import Set

from backchannel.sanitize.parse import TagHandlers, class_names
from backchannel.sanitize.urls import safe_url

__all__ = ["TextExtractor", "text_of"]

BLOCKS = {"p", "blockquote", "pre", "ul", "ol", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6"}


class TextExtractor(TagHandlers):
    """The text a reader sees of HTML, and (with ``links``) the outbound links of its
    ``<a>`` elements; the content of ``skip`` elements is left out."""

    def __init__(self, skip: Set[str], links: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self._skip_text = skip
        self.out: list[str] = []
        self.links: list[str] = []
        self._find_links = links
        self._hidden = 0
        self._skip: list[str] = []
        self._spans: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and self._find_links:
            values = dict(attrs)
            href = safe_url(values.get("href"))
            if href and not set((values.get("class") or "").split()) & {"mention", "hashtag"}:
                self.links.append(href)
        if tag in self._skip_text and tag not in self.VOID:
            self._skip.append(tag)
            return
        if self._hidden or self._skip:
            if tag == "span" and self._hidden:
                self._hidden += 1
            return
        if tag == "span":
            classes = class_names(attrs)
            if "invisible" in classes:
                self._hidden = 1
                return
            self._spans.append("ellipsis" in classes)
        elif tag == "br":
            self.out.append("\n")
        elif tag == "img":
            self.out.append(dict(attrs).get("alt") or "")
        elif tag == "li":
            self.out.append("\n")
        elif tag in BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if self._hidden:
            if tag == "span":
                self._hidden -= 1
            return
        if tag == "span" and self._spans and self._spans.pop():
            self.out.append("…")
        elif tag in BLOCKS and tag != "li":
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._skip:
            self.out.append(data)


def text_of(parser: TextExtractor) -> str:
    """What ``parser`` collected, with line breaks tidied."""
    text = "".join(parser.out)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)  # no stray spaces around line breaks
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
