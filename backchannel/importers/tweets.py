"""A tweet (Twitter API v1.1, or v2 with its includes) -> ``NormalizedPost``.

A tweet is a post like any other: platform ``twitter``, its URI the permalink by id
(``https://twitter.com/i/web/status/ID``, which outlives a renamed account), its
author's the account by id. Its HTML is made from the text and the entities, as
Twitter's own clients did:

* the text is HTML-escaped by the API (``&amp;``, ``&lt;``); entity offsets count
  Unicode code points of that escaped text (Python's ``str`` indices), so entities
  are placed first and the text between them unescaped after;
* offsets are known to be wrong in some captures: an entity whose text is not where
  it says is looked for after the previous one, and left as plain text if not found;
* a ``t.co`` link to the tweet's own media is dropped from the text (the media show
  as attachments); other links show their ``display_url`` and lead to
  ``expanded_url``; mentions lead to the account, hashtags to Twitter's tag page,
  which the exporter rewrites to its own (by the address's last segment, as for
  Bluesky's).

Whatever the entities say, the visible text is the tweet's text. Ids are strings
(``id_str``; v2 gives strings): a number read from JSON is taken only when it is an
integer, never a float (which has lost digits).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from backchannel.collectors import NormalizedAuthor, NormalizedMedia, NormalizedPost
from backchannel.collectors import normalize_hashtag as hashtag_form
from backchannel.sanitize import LINK_REL, clean_post_html, escape, make_valid, safe_url

TWITTER = "twitter"
STATUS_URI = "https://twitter.com/i/web/status/{}"
USER_URI = "https://twitter.com/i/user/{}"
PROFILE_URL = "https://twitter.com/{}"
HASHTAG_URL = "https://twitter.com/hashtag/{}"
_ID = re.compile(r"^[0-9]{1,25}$")
_TEXT_TAG = re.compile(r"(?<![\w&])[#＃](\w{1,139})")
MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "gifv"}


class Unusable(Exception):
    """A tweet that cannot be imported; the message is the reason (counted)."""


def tweet_uri(tweet_id: str) -> str:
    return STATUS_URI.format(tweet_id)


def tweet_id(value: object) -> str:
    """A tweet's or a user's id as digits; a float or anything else is refused."""
    if isinstance(value, bool):
        raise Unusable("id not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _ID.match(value.strip()):
        return value.strip()
    if isinstance(value, float) or (isinstance(value, str) and re.match(r"^\d[\d.]*[eE]", value)):
        raise Unusable("id written as a float (digits lost)")
    raise Unusable("no usable id")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


_MONTHS = {m: n for n, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"), start=1)}  # fmt: skip
_V1_TIME = re.compile(
    r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) \+0000 (\d{4})$"
)


def parse_time(value: object) -> datetime:
    """v1.1's ``Wed Oct 10 20:19:24 +0000 2018`` (always UTC: read by hand, ``strptime``
    took a sixth of an import), or v2's ISO 8601; UTC."""
    text = _str(value).strip()
    found = _V1_TIME.match(text)
    if found and found.group(1) in _MONTHS:
        month, day, hour, minute, second, year = found.groups()
        try:
            return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                            int(second), tzinfo=UTC)  # fmt: skip
        except ValueError:
            raise Unusable("no usable created_at") from None
    try:
        return datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Unusable("no usable created_at") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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


def author(user: dict[str, Any]) -> NormalizedAuthor:
    """A v1.1 or v2 user object; ``screen_name`` or ``username``. An account whose id
    the data does not hold (a TAGS sheet) is known by its profile's address."""
    name_given = _str(user.get("screen_name") or user.get("username")).strip()
    if not (user.get("id_str") or user.get("id")) and name_given:
        user_uri = PROFILE_URL.format(quote(name_given, safe=""))
        handle = name_given
    else:
        user_id = tweet_id(user.get("id_str") or user.get("id"))
        user_uri = USER_URI.format(user_id)
        handle = name_given or user_id
    name = _str(user.get("name"))
    bio = " ".join(filter(None, (_str(user.get("description")), _str(user.get("location")))))
    return NormalizedAuthor(
        platform=TWITTER,
        uri=user_uri,
        handle=handle,
        display_name=name,
        display_name_html=escape(name),
        avatar_url=safe_url(
            _str(user.get("profile_image_url_https") or user.get("profile_image_url"))
        ),  # fmt: skip
        profile_url=PROFILE_URL.format(quote(handle, safe="")),
        bio_text=bio,
        suspended=bool(user.get("suspended")),
    )


def protected(user: dict[str, Any]) -> bool:
    return user.get("protected") is True or user.get("protected") == "true"


def withheld(item: dict[str, Any]) -> bool:
    """Withheld in some country, or for copyright: not ours to publish anywhere."""
    held = item.get("withheld")
    return bool(item.get("withheld_in_countries") or item.get("withheld_copyright")
                or (isinstance(held, dict) and (held.get("country_codes") or held.get("copyright"))))  # fmt: skip


def media_v1(items: list[Any]) -> list[NormalizedMedia]:
    media = []
    for item in map(_dict, items):
        image = safe_url(_str(item.get("media_url_https") or item.get("media_url")))
        kind = MEDIA_KINDS.get(_str(item.get("type")), "unknown")
        url = image
        if kind in ("video", "gifv"):
            url = _best_variant(_list(_dict(item.get("video_info")).get("variants"))) or image
        size = _dict(_dict(item.get("sizes")).get("large")) or _dict(item.get("original_info"))
        if url:
            media.append(NormalizedMedia(
                kind=kind, url=url, preview_url=image, alt=_str(item.get("ext_alt_text")) or None,
                width=_int(size.get("w") or size.get("width")) or None,
                height=_int(size.get("h") or size.get("height")) or None,
            ))  # fmt: skip
    return media


def media_v2(items: list[Any]) -> list[NormalizedMedia]:
    media = []
    for item in map(_dict, items):
        kind = MEDIA_KINDS.get(_str(item.get("type")), "unknown")
        preview = safe_url(_str(item.get("preview_image_url") or item.get("url")))
        url = (
            safe_url(_str(item.get("url"))) or _best_variant(_list(item.get("variants"))) or preview
        )
        if url:
            media.append(NormalizedMedia(
                kind=kind, url=url, preview_url=preview, alt=_str(item.get("alt_text")) or None,
                width=_int(item.get("width")) or None, height=_int(item.get("height")) or None,
            ))  # fmt: skip
    return media


def _best_variant(variants: list[Any]) -> str | None:
    """The MP4 of the highest bit rate (the others are HLS playlists)."""
    mp4 = [_dict(v) for v in variants if _str(_dict(v).get("content_type")) == "video/mp4"]
    mp4.sort(key=lambda v: _int(v.get("bitrate") or v.get("bit_rate")), reverse=True)
    return safe_url(_str(mp4[0].get("url"))) if mp4 else None


def v1_parts(tweet: dict[str, Any]) -> dict[str, Any] | None:
    """What :func:`make_post` needs of an API v1.1 tweet but its user (a twarc line has
    one inside, a Twitter archive beside it); None when the tweet is withheld."""
    if withheld(tweet):
        return None
    extended = _dict(tweet.get("extended_tweet"))
    text = extended.get("full_text") or tweet.get("full_text") or tweet.get("text") or ""
    source = extended or tweet
    entities = _dict(source.get("entities"))
    extended_media = _dict(source.get("extended_entities")).get("media")
    media = extended_media if isinstance(extended_media, list) else _list(entities.get("media"))
    media_urls = {_str(_dict(m).get("url")) for m in media}
    return {
        "tweet_id_text": tweet_id(tweet.get("id_str") or tweet.get("id")),
        "created": tweet.get("created_at"),
        "text": _str(text),
        "entities": entities_v1(entities, media_urls),
        "media": media_v1(media),
        "raw": tweet,
        "language": tweet.get("lang"),
        "sensitive": tweet.get("possibly_sensitive"),
        "reply_to": tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"),
        "quote_of": tweet.get("quoted_status_id_str") or tweet.get("quoted_status_id"),
        "counts": (
            tweet.get("reply_count"),
            tweet.get("retweet_count"),
            tweet.get("favorite_count"),
            tweet.get("quote_count"),
        ),  # fmt: skip
    }


def make_post(
    *,
    tweet_id_text: str,
    user: dict[str, Any],
    created: object,
    text: str,
    entities: list[Entity],
    media: list[NormalizedMedia],
    raw: dict[str, Any],
    language: object = None,
    sensitive: object = False,
    reply_to: object = None,
    quote_of: object = None,
    counts: tuple[object, object, object, object] = (0, 0, 0, 0),
) -> NormalizedPost:
    """The parts both API versions share, as one post."""
    writer = author(user)
    # Hashtags from the text when the entities name none (the oldest captures have no
    # entities at all; a hand-made or damaged file may lack their hashtags).
    if not any(e.kind == "hashtag" for e in entities):
        entities = [*entities, *text_tags(text)]
    rendered = render(text, entities)
    plain = html.unescape(text)
    lang = _str(language)
    replies, reposts, likes, quotes = counts
    return make_valid(NormalizedPost(
        platform=TWITTER,
        uri=tweet_uri(tweet_id_text),
        url=f"{PROFILE_URL.format(quote(writer.handle, safe=''))}/status/{tweet_id_text}",
        native_id=tweet_id_text,
        author=writer,
        created_at=parse_time(created),
        raw=raw,
        text=plain,
        html=rendered.html,
        language=lang if lang and lang not in ("und", "zxx") else None,
        sensitive=sensitive is True or sensitive == "true",
        visibility="private" if protected(user) else "public",
        reply_to_uri=tweet_uri(tweet_id(reply_to)) if reply_to else None,
        quote_uri=tweet_uri(tweet_id(quote_of)) if quote_of else None,
        reply_count=_int(replies), repost_count=_int(reposts), like_count=_int(likes),
        quote_count=_int(quotes),
        tags=rendered.tags,
        mentions=rendered.mentions,
        links=rendered.links,
        media=tuple(media),
    ))  # fmt: skip
