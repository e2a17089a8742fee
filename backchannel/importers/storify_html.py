"""Storify's HTML export (the end-of-life "export as HTML" of 2018): one page a story.

What is read, and how (the traps the issue names):

* the story: its title (``<h1>``, else ``<title>``), description and author (their
  ``<meta>`` tags, else the elements of class ``description`` and ``author``);
* each element is an ``<li>`` that carries ``data-*`` attributes, in page order. Its
  kind, permalink, source, author and **time come from those attributes**
  (``data-type``, ``data-permalink``, ``data-source``, ``data-username``,
  ``data-timestamp`` in Unix seconds or milliseconds, ``data-posted-at``), or a
  ``<time datetime>`` inside; never from the page's words ("6 months ago");
* text inside links is read without the hidden spans tweets carry (``invisible``,
  ``hidden``, ``display: none``: the parts of a shortened address that are not shown).

Each ``<li>`` becomes the v1 JSON element it stands for and goes through
:mod:`backchannel.importers.storify` (tweets told by source and status permalink,
cards for the rest). Page markup that Python's HTML parser refuses ends the reading
there, with what came before kept and the line named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from backchannel.importers.base import Batch
from backchannel.importers.storify import story_batches

_VOID = {"br", "img", "meta", "link", "input", "hr", "source", "wbr", "area", "col", "embed"}
_HIDDEN_CLASSES = {"invisible", "hidden", "visually-hidden", "visuallyhidden", "sr-only"}
_KINDS = ("quote", "tweet", "text", "image", "link", "video", "other")
_SKIPPED = {"script", "style", "template", "noscript"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Any] = field(default_factory=list)  # Nodes and strings
    line: int = 1

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def hidden(self) -> bool:
        style = self.attrs.get("style", "").replace(" ", "").lower()
        return (
            bool(self.classes & _HIDDEN_CLASSES)
            or "display:none" in style
            or ("hidden" in self.attrs or self.attrs.get("aria-hidden") == "true")
        )

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def text(self) -> str:
        """The words a reader sees: hidden spans, scripts and styles left out."""
        if self.hidden() or self.tag in _SKIPPED:
            return ""
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            else:
                parts.append(child.text())
                if child.tag in ("p", "br", "div", "li", "blockquote"):
                    parts.append("\n")
        return "".join(parts)

    def html(self) -> str:
        """The inner HTML again (for a text block, cleaned later as all such text)."""
        out = []
        for child in self.children:
            if isinstance(child, str):
                out.append(child.replace("&", "&amp;").replace("<", "&lt;"))
            elif not child.hidden() and child.tag not in _SKIPPED:
                href = child.attrs.get("href")
                attrs = f' href="{href}"' if href and child.tag == "a" else ""
                inner = "" if child.tag in _VOID else child.html()
                out.append(f"<{child.tag}{attrs}>{inner}</{child.tag}>")
        return "".join(out)

    def first(self, test: Any) -> Node | None:
        return next((n for n in self.walk() if test(n)), None)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("li", "p") and self.stack[-1].tag == tag:
            self.stack.pop()  # an <li> or <p> left open ends at the next one
        node = Node(tag, {k: v or "" for k, v in attrs}, line=self.getpos()[0])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> tuple[Node, str]:
    """The page as a tree, and what stopped the reading ("" when nothing did)."""
    builder = _TreeBuilder()
    # "<![" opens a marked section, which the standard parser refuses unless it is
    # CDATA: as text, the rest of the page can still be read.
    text = re.sub(r"<!\[(?!CDATA\[)", "&lt;![", text)
    try:
        builder.feed(text)
        builder.close()
    except (AssertionError, ValueError) as exc:  # the standard parser's own refusals
        return (
            builder.root,
            f"line {builder.getpos()[0]}: the page cannot be read from here on ({exc})",
        )
    return builder.root, ""


def looks_like_storify_html(head: str) -> bool:
    return "<li" in head and "data-permalink" in head and ("storify" in head.lower())


def read_storify_html(path: Path) -> Iterator[Batch]:
    root, stopped = parse_html(path.read_text(encoding="utf-8-sig", errors="replace"))
    batch = Batch(problems=[stopped] if stopped else [], tool="Storify (HTML export)")
    if stopped:
        batch.skipped["unreadable part"] += 1
    yield from story_batches([_content(root)], batch)


def _meta(root: Node, name: str) -> str:
    found = root.first(lambda n: n.tag == "meta" and n.attrs.get("name", "").lower() == name)
    return found.attrs.get("content", "").strip() if found else ""


def _by_class(root: Node, name: str) -> str:
    found = root.first(lambda n: name in n.classes)
    return " ".join(found.text().split()) if found else ""


def _content(root: Node) -> dict[str, Any]:
    """The story as the v1 API would give it."""
    title = root.first(lambda n: n.tag == "h1") or root.first(lambda n: n.tag == "title")
    return {
        "title": " ".join(title.text().split()) if title else "",
        "description": _meta(root, "description") or _by_class(root, "description"),
        "author": {"name": _meta(root, "author") or _by_class(root, "author")},
        "elements": [_element(node) for node in root.walk()
                     if node.tag == "li" and any(k.startswith("data-") for k in node.attrs)],
    }  # fmt: skip


def _element(li: Node) -> dict[str, Any]:
    data = {k.removeprefix("data-"): v for k, v in li.attrs.items() if k.startswith("data-")}
    kind = data.get("type") or next((k for k in _KINDS if k in li.classes), "other")
    links = [n.attrs["href"] for n in li.walk() if n.tag == "a" and n.attrs.get("href")]
    permalink = (
        data.get("permalink")
        or next((h for h in links if "/status" in h), "")
        or (links[0] if links else "")
    )
    body = li.first(lambda n: bool(n.classes & {"text", "content", "tweet-text"}))
    body = body or li.first(lambda n: n.tag == "blockquote") or li
    words = " ".join(body.text().split())
    title = li.first(lambda n: n.tag in ("h2", "h3", "h4") or "title" in n.classes)
    image = li.first(lambda n: n.tag == "img" and "avatar" not in n.classes)
    avatar = li.first(lambda n: n.tag == "img" and "avatar" in n.classes)
    return {
        "id": data.get("id") or data.get("eid") or f"line-{li.line}",
        "type": "quote" if kind == "tweet" else kind,
        "permalink": permalink,
        "posted_at": _time(data, li),
        "source": {"name": data.get("source") or data.get("service") or ""},
        "data": {
            "text": body.html() if kind == "text" else words,
            "quote": {"text": words},
            "card": {"title": " ".join(title.text().split()) if title else "",
                     "description": words, "src": image.attrs.get("src", "") if image else ""},
        },
        "attribution": {
            "name": data.get("author") or data.get("name") or _by_class(li, "name"),
            "username": (data.get("username") or _by_class(li, "username")).lstrip("@"),
            "thumbnail": avatar.attrs.get("src", "") if avatar else "",
        },
    }  # fmt: skip


def _time(data: dict[str, str], li: Node) -> str:
    """From the attributes only: Unix seconds or milliseconds, or an ISO time."""
    stamp = data.get("timestamp") or data.get("posted-at") or data.get("created-at") or ""
    if stamp.isdigit():
        seconds = int(stamp) / (1000 if len(stamp) > 11 else 1)
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    if stamp:
        return stamp
    found = li.first(lambda n: n.tag == "time" and n.attrs.get("datetime"))
    return found.attrs["datetime"] if found else ""
