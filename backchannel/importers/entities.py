"""A tweet's text and entities as safe HTML, as Twitter's own clients showed them.

* The text is HTML-escaped by the API (``&amp;``, ``&lt;``); entity offsets count
  Unicode code points of that escaped text (Python's ``str`` indices), so entities
  are placed first and the text between them unescaped after.
* Offsets are known to be wrong in some captures: an entity whose text is not where
  it says is looked for after the previous one, and left as plain text if not found.
* A ``t.co`` link to the tweet's own media is dropped from the text (the media show
  as attachments); other links show their ``display_url`` and lead to
  ``expanded_url``; mentions lead to the account, hashtags to Twitter's tag page
  (as a Bluesky post's lead to bsky.app's).

Whatever the entities say, the visible text is the tweet's text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from backchannel.collectors import normalize_hashtag as hashtag_form
from backchannel.importers.base import as_dict as _dict
from backchannel.importers.base import as_list as _list
from backchannel.importers.base import as_str as _str
from backchannel.sanitize import LINK_REL, clean_post_html, escape, safe_url

PROFILE_URL = "https://twitter.com/{}"
HASHTAG_URL = "https://twitter.com/hashtag/{}"
_TEXT_TAG = re.compile(r"(?<![\w&])[#＃](\w{1,139})")


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    kind: str  # "url", "media", "mention", "hashtag"
    expected: str  # the text the entity should cover, to check the offsets
    href: str = ""
    visible: str = ""
    name: str = ""  # a hashtag's normalised form


@dataclass(frozen=True)
class Rendered:
    html: str
    links: tuple[str, ...]
    mentions: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]


def render(text: str, entities: list[Entity]) -> Rendered:
    """HTML of a tweet's escaped ``text`` with its entities (see the module's text)."""
    placed: list[tuple[int, int, Entity]] = []
    at = 0
    for entity in sorted(entities, key=lambda e: (e.start, e.end)):
        start, end = entity.start, entity.end
        if not (0 <= start < end <= len(text)) or not _covers(text[start:end], entity):
            found = _find(text, entity, at)
            if found < 0:
                continue
            start, end = found, found + len(entity.expected)
        if start < at:
            continue  # overlaps the one before (media entities repeat their link)
        placed.append((start, end, entity))
        at = end
    parts: list[str] = []
    plain: list[str] = []
    links: list[str] = []
    mentions: list[tuple[str, str]] = []
    tags: list[str] = []
    at = 0
    for start, end, entity in placed:
        between = html.unescape(text[at:start])
        parts.append(escape(between))
        plain.append(between)
        at = end
        if entity.kind == "media":
            continue
        plain.append(entity.visible)
        label = escape(entity.visible)
        if entity.kind == "url" and entity.href:
            parts.append(f'<a href="{html.escape(entity.href)}" rel="{LINK_REL}">{label}</a>')
            if entity.href not in links:
                links.append(entity.href)
        elif entity.kind == "mention":
            parts.append(f'<a class="mention" href="{html.escape(entity.href)}">{label}</a>')
            mentions.append((entity.visible.lstrip("@"), entity.href))
        elif entity.kind == "hashtag":
            parts.append(f'<a class="hashtag" href="{html.escape(entity.href)}">{label}</a>')
            if entity.name not in tags:
                tags.append(entity.name)
        else:
            parts.append(label)
    rest = html.unescape(text[at:])
    parts.append(escape(rest))
    body = "".join(parts).strip()
    blocks = [b for b in re.split(r"\n\s*\n", body) if b.strip()]
    markup = "".join("<p>" + b.strip().replace("\n", "<br>") + "</p>" for b in blocks)
    return Rendered(clean_post_html(markup), tuple(links), tuple(mentions), tuple(tags))


def _covers(covered: str, entity: Entity) -> bool:
    if entity.kind in ("url", "media"):
        return covered == entity.expected
    return covered[1:].casefold() == entity.expected[1:].casefold()


def _find(text: str, entity: Entity, after: int) -> int:
    if entity.kind in ("url", "media"):
        return text.find(entity.expected, after)
    match = re.compile(re.escape(entity.expected[1:]), re.IGNORECASE)
    for found in match.finditer(text, after + 1):
        if text[found.start() - 1] in "@＠#＃":
            return found.start() - 1
    return -1


def _url_entity(item: dict[str, Any], start: int, end: int, media_urls: set[str]) -> Entity | None:
    short = _str(item.get("url"))
    if not short:
        return None
    if short in media_urls or item.get("media_key"):
        return Entity(start, end, "media", short)
    href = safe_url(_str(item.get("expanded_url")) or short) or ""
    visible = _str(item.get("display_url")) or _str(item.get("expanded_url")) or short
    return Entity(start, end, "url", short, href, visible)


def _mention(name: str, start: int, end: int) -> Entity | None:
    if not re.match(r"^\w{1,50}$", name):
        return None
    return Entity(start, end, "mention", "@" + name, PROFILE_URL.format(name), "@" + name)


def _hashtag(tag: str, start: int, end: int) -> Entity | None:
    name = hashtag_form(tag)
    if not name:
        return None
    href = HASHTAG_URL.format(quote(name, safe=""))
    return Entity(start, end, "hashtag", "#" + tag, href, "#" + tag, name)


def _span(item: dict[str, Any]) -> tuple[int, int]:
    # A Twitter archive writes every number as a string, offsets too.
    indices = [
        int(i) if isinstance(i, str) and i.isdigit() else i for i in _list(item.get("indices"))
    ]
    if len(indices) == 2 and all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
        return indices[0], indices[1]
    start, end = item.get("start"), item.get("end")
    if isinstance(start, int) and isinstance(end, int):
        return start, end
    return -1, -1


def entities_v1(entities: dict[str, Any], media_urls: set[str]) -> list[Entity]:
    found: list[Entity | None] = []
    for item in map(_dict, _list(entities.get("urls"))):
        found.append(_url_entity(item, *_span(item), media_urls))
    for item in map(_dict, _list(entities.get("media"))):
        found.append(
            Entity(*_span(item), "media", _str(item.get("url"))) if item.get("url") else None
        )
    for item in map(_dict, _list(entities.get("user_mentions"))):
        found.append(_mention(_str(item.get("screen_name")), *_span(item)))
    for item in map(_dict, _list(entities.get("hashtags"))):
        found.append(_hashtag(_str(item.get("text")), *_span(item)))
    return [e for e in found if e is not None]


def entities_v2(entities: dict[str, Any]) -> list[Entity]:
    found: list[Entity | None] = []
    for item in map(_dict, _list(entities.get("urls"))):
        found.append(_url_entity(item, *_span(item), set()))
    for item in map(_dict, _list(entities.get("mentions"))):
        found.append(_mention(_str(item.get("username")), *_span(item)))
    for item in map(_dict, _list(entities.get("hashtags"))):
        found.append(_hashtag(_str(item.get("tag")), *_span(item)))
    return [e for e in found if e is not None]


def text_tags(text: str) -> list[Entity]:
    """Hashtags of a tweet that came without entities (the oldest captures)."""
    return [e for m in _TEXT_TAG.finditer(text) if (e := _hashtag(m.group(1), m.start(), m.end()))]
