"""Storify stories saved as JSON: the v1 API's and the older pre-v1 shape (and, through
:mod:`.storify_html`, Storify's HTML export: a file that starts with markup).

* **v1** (``{"content": {...}, "code": 200}``): the story's ``title``, ``slug``,
  ``description``, ``author`` and ``elements``, a list of ``{"type", "permalink",
  "posted_at", "source", "data", "attribution"}``. The API paged elements 50 at a
  time: pages saved one after another in one file are joined (by element id); when
  the story says it has more elements than the file holds, the summary says so.
* **pre-v1**: ``elements`` an object keyed ``"0"``, ``"1"`` ..., ``elementClass``
  instead of ``type``, times as Unix seconds in strings.

An element's ``type`` does not say it is a tweet (Storify called tweets "quote", and
quotes of other sites too): a tweet is an element whose source is Twitter *and* whose
permalink is a ``twitter.com/<name>/status/<id>`` address. Tweets become posts (the
full tweet when the element kept it, else from its text and attribution); text
elements become the story's text and headings; every other element (links, images,
videos, quotes of other sites) becomes a card in the story's text: its title, its
description and its link, never a third-party embed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backchannel.importers.base import BATCH, Batch
from backchannel.importers.markdown_text import escape_markdown, heading_of, html_markdown
from backchannel.importers.tweets import Unusable, make_post, tweet_uri, v1_parts
from backchannel.sanitize import safe_url

_STATUS = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter\.com|x\.com)/(?:#!/)?([A-Za-z0-9_]{1,50})"
    r"/status(?:es)?/([0-9]{1,25})(?:[/?#]|$)"
)


@dataclass
class StoryDraft:
    """The story an import makes: its front matter and its blocks in order. A block is
    ``("heading", level, text)``, ``("text", markdown)`` or ``("post", uri)``."""

    title: str
    slug: str
    curator: str = ""
    description: str = ""
    made_at: datetime | None = None  # when it was made on Storify
    blocks: list[tuple[Any, ...]] = field(default_factory=list)


def looks_like_storify(data: object) -> bool:
    content = data.get("content") if isinstance(data, dict) else None
    return isinstance(content, dict) and "elements" in content


def read_storify(path: Path) -> Iterator[Batch]:
    """The story's tweets, a batch at a time; the last batch carries the story (see
    :func:`story_batches`, which Storify's HTML export goes through too)."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if text.lstrip().startswith("<"):  # Storify's HTML export, not its JSON
        from backchannel.importers.storify_html import read_storify_html

        yield from read_storify_html(path)
        return
    batch = Batch(tool="Storify")
    contents = list(_documents(text, batch))
    yield from story_batches(contents, batch)


def story_batches(contents: list[dict[str, Any]], batch: Batch) -> Iterator[Batch]:
    """The tweets of a story (its pages' ``content`` objects, in order), a batch at a
    time, ``batch`` first (it may hold problems already); the last carries the story."""
    if not contents:
        batch.problems.append("line 1: no Storify story (content.elements) in the file")
        yield batch
        return
    first = contents[0]
    story = StoryDraft(
        title=_plain(first.get("title")) or "Untitled Storify story",
        slug=_slug(_plain(first.get("slug")) or _plain(first.get("title"))),
        curator=_plain(
            _dict(first.get("author")).get("name") or _dict(first.get("author")).get("username")
        ),  # fmt: skip
        description=_plain(first.get("description")),
        made_at=_made(first),
    )
    batch.captured_at = _made(first, "last_updated", "updated")
    seen: set[str] = set()
    elements: list[dict[str, Any]] = []
    for content in contents:
        for element in _elements(content.get("elements")):
            key = _plain(element.get("id") or element.get("eid")) or json.dumps(element)[:200]
            if key not in seen:
                seen.add(key)
                elements.append(element)
    said = _int(_dict(_dict(first.get("stats")).get("elements")).get("total")) or sum(
        _int(v) for v in _dict(_dict(first.get("stats")).get("elements")).values()
    )
    if said > len(elements):
        batch.problems.append(f"the story has {said} elements and the file holds {len(elements)}: "
                              "give its other pages too, in order, in the same command")  # fmt: skip
    for number, element in enumerate(elements, start=1):
        batch.read += 1
        batch.position = number
        try:
            block = _block(element, batch)
        except Unusable as exc:
            batch.skip(str(exc), f"element {number}")
            continue
        if block is not None:
            story.blocks.append(block)
        if len(batch.posts) >= BATCH:
            yield batch
            batch = batch.after()
    batch.story = story
    yield batch


def _documents(text: str, batch: Batch) -> Iterator[dict[str, Any]]:
    """Each JSON document in the file (pages saved one after another) with a story."""
    decoder = json.JSONDecoder(strict=False)
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return
        try:
            data, at = decoder.raw_decode(text, at)
        except ValueError:
            line = text.count("\n", 0, at) + 1
            batch.problems.append(f"line {line}: cut short, or not JSON, from here on")
            batch.skipped["unreadable part"] += 1
            return
        if looks_like_storify(data):
            yield data["content"]


def _elements(value: object) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [e for e in value if isinstance(e, dict)]
    if isinstance(value, dict):  # pre-v1: keyed "0", "1" ...
        keys = sorted((k for k in value if str(k).isdigit()), key=int)
        return [value[k] for k in keys if isinstance(value[k], dict)]
    return []


def _block(element: dict[str, Any], batch: Batch) -> tuple[Any, ...] | None:
    kind = _plain(element.get("type") or element.get("elementClass")).lower()
    data = _dict(element.get("data"))
    tweet = _tweet_address(element)
    if tweet is not None:
        post = _tweet(element, data, *tweet)
        batch.posts.append(post)
        return ("post", post.uri)
    if kind == "text":
        source = _plain(data.get("text") or element.get("text") or data.get("html"))
        heading = heading_of(source)
        if heading is not None:
            return ("heading", *heading)
        markdown = html_markdown(source)
        return ("text", markdown) if markdown else None
    return _card(kind, element, data)


def _tweet_address(element: dict[str, Any]) -> tuple[str, str] | None:
    """(screen name, id) of an element that is a tweet: Twitter its source, and a
    status permalink; anything else is not a tweet, whatever its type says."""
    source = element.get("source")
    name = _plain(source.get("name") if isinstance(source, dict) else source).lower()
    href = _plain(source.get("href") if isinstance(source, dict) else "").lower()
    permalink = _plain(element.get("permalink") or _dict(element.get("data")).get("url"))
    found = _STATUS.match(permalink)
    from_twitter = name == "twitter" or "twitter.com" in href
    if found is None or not from_twitter:
        return None
    return found.group(1), found.group(2)


def _tweet(element: dict[str, Any], data: dict[str, Any], name: str, tweet_id: str) -> Any:
    for kept in (element.get("meta"), data.get("tweet"), data.get("status")):
        if isinstance(kept, dict) and isinstance(kept.get("user"), dict) and kept.get("id_str"):
            parts = v1_parts(kept)
            if parts is not None:
                return make_post(user=kept["user"], **parts)
    attribution = _dict(element.get("attribution"))
    quote = _dict(data.get("quote"))
    text = _plain(quote.get("text") or data.get("text") or element.get("description"))
    user = {"screen_name": _plain(attribution.get("username")) or name,
            "name": _plain(attribution.get("name")) or name,
            "profile_image_url_https": _plain(attribution.get("thumbnail"))}  # fmt: skip
    return make_post(
        tweet_id_text=tweet_id,
        user=user,
        created=_time(element.get("posted_at") or element.get("added_at")),
        text=text,
        entities=[],
        media=[],
        raw={"storify_element": element, "uri": tweet_uri(tweet_id)},
    )


def _card(kind: str, element: dict[str, Any], data: dict[str, Any]) -> tuple[Any, ...] | None:
    """A link, image, video or other site's post as a card in the story's text."""
    part = (_dict(data.get(kind)) or _dict(data.get("link")) or _dict(data.get("image"))
            or _dict(data.get("card")))  # fmt: skip
    title = _plain(part.get("title") or element.get("title") or _dict(data.get("oembed")).get("title")
                   or part.get("caption"))  # fmt: skip
    description = _plain(part.get("description") or element.get("description")
                         or _dict(data.get("quote")).get("text") or part.get("text"))  # fmt: skip
    url = safe_url(_plain(element.get("permalink") or part.get("url") or part.get("src")))
    who = _plain(_dict(element.get("attribution")).get("name"))
    source = element.get("source")
    site = _plain(source.get("name") if isinstance(source, dict) else source)
    lines = []
    label = escape_markdown(title or url or "")
    if url:
        lines.append(f"**[{label}]({url})**")
    elif label:
        lines.append(f"**{label}**")
    if description:
        lines.append(html_markdown(description))
    credit = ", ".join(escape_markdown(x) for x in (who, site) if x)
    if credit:
        lines.append(f"*{credit}*")
    return ("text", "\n\n".join(lines)) if lines else None


def _made(content: dict[str, Any], *keys: str) -> datetime | None:
    """The first of the story's dates named ``keys`` (by default when it was made)."""
    dates = _dict(content.get("date"))
    names = keys or ("published", "created")
    for value in [*(dates.get(k) for k in names), None if keys else content.get("created_at")]:
        text = _time(value)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


def _time(value: object) -> str:
    """An ISO time, or Unix seconds in a string (pre-v1), as ISO."""
    text = _plain(value)
    if re.fullmatch(r"[0-9]{9,11}(\.[0-9]+)?", text):
        return datetime.fromtimestamp(float(text), UTC).isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC).isoformat()
    return text


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:80].strip("-")
    return slug or "storify"


def _plain(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
