"""A tweet (Twitter API v1.1, or v2 with its includes) -> ``NormalizedPost``.

A tweet is a post like any other: platform ``twitter``, its URI the permalink by id
(``https://twitter.com/i/web/status/ID``, which outlives a renamed account), its
author's the account by id, its HTML made from its text and entities
(:mod:`.entities`). Ids are strings
(``id_str``; v2 gives strings): a number read from JSON is taken only when it is an
integer, never a float (which has lost digits).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from backchannel.collectors import NormalizedAuthor, NormalizedMedia, NormalizedPost
from backchannel.importers.base import as_dict as _dict
from backchannel.importers.base import as_int as _int
from backchannel.importers.base import as_list as _list
from backchannel.importers.base import as_str as _str
from backchannel.importers.entities import (
    PROFILE_URL,
    Entity,
    entities_v1,
    render,
    text_tags,
)
from backchannel.sanitize import escape, make_valid, safe_url

TWITTER = "twitter"
STATUS_URI = "https://twitter.com/i/web/status/{}"
USER_URI = "https://twitter.com/i/user/{}"
_ID = re.compile(r"^[0-9]{1,25}$")
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
