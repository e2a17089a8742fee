"""A stranger's HTML (a Storify text block) as storyboard Markdown that means only text.

The storyboard file gives some lines a meaning of their own: a line that is only a web
address places a post, ``##`` starts a heading, ``>`` a note, a fence a code block.
Text written by someone else must not take those meanings by accident (or on purpose):
such lines are escaped, links are written ``[label](address)``, and what the HTML
meant as emphasis or a heading is kept as Markdown. The exporter sanitises the
Markdown's HTML as it does every curator's text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from backchannel.sanitize import clean_post_html, html_to_text, safe_url

_SPECIAL_START = re.compile(r"^(\s*)(#|>|`{3}|~{3}|-{3}|\[|<)")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>])")
_BLOCKS = {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}
_SKIPPED = {"script", "style", "head", "template", "noscript"}


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def safe_lines(text: str) -> str:
    """Each line made to mean text: no heading, note, fence, or bare address."""
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if re.fullmatch(r"(https?://|at://)\S+", stripped):
            url = safe_url(stripped)
            line = f"[{escape_markdown(stripped)}]({url})" if url else escape_markdown(stripped)
        elif _SPECIAL_START.match(line):
            line = _SPECIAL_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line, count=1)
        out.append(line)
    return "\n".join(out)


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.skipping = 0
        self.heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag in ("b", "strong"):
            self.parts.append("**")
        elif tag in ("i", "em"):
            self.parts.append("*")
        elif tag == "a":
            href = safe_url(dict(attrs).get("href") or "")
            self.links.append(href)
            if href:
                self.parts.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("b", "strong"):
            self.parts.append("**")
        elif tag in ("i", "em"):
            self.parts.append("*")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.parts.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(escape_markdown(re.sub(r"[ \t\r\n]+", " ", data)))


def html_markdown(source: str) -> str:
    """Markdown of ``source``'s text, links and emphasis; paragraphs by blank lines."""
    converter = _Converter()
    # Cleaned first: the sanitiser's parser takes any input (the standard library's
    # refuses some, such as ``<![>``), and what is left is the HTML it allows.
    converter.feed(clean_post_html(source or ""))
    converter.close()
    text = "".join(converter.parts)
    paragraphs = [" ".join(p.split()) if "\n" not in p.strip() else p.strip()
                  for p in re.split(r"\n\s*\n", text)]  # fmt: skip
    return safe_lines("\n\n".join(p.strip() for p in paragraphs if p.strip()))


def heading_of(source: str) -> tuple[int, str] | None:
    """A text block that is one heading and nothing else: (level 2 or 3, its text)."""
    match = re.fullmatch(r"\s*<h([1-6])[^>]*>(.*?)</h\1>\s*", source or "", re.S | re.I)
    if match is None:
        return None
    text = " ".join(html_to_text(match.group(2)).split())
    return (2 if int(match.group(1)) <= 2 else 3, text) if text else None
