"""Mastodon Status JSON -> :class:`NormalizedPost`.

Works on the raw JSON exactly as the server sent it (a ``dict`` from ``json.loads``),
never on Mastodon.py's objects: those fill in every declared field with ``None`` (an
absent ``noindex`` would read as "not opted out" instead of "not said") and parse
values, so they are not what the server said.

Anything that does not look like a Status raises :class:`MalformedResponseError`, so a
bad page is refused as a whole before any of it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from backchannel.collectors.base import (
    NormalizedAuthor,
    NormalizedMedia,
    NormalizedPost,
    normalize_hashtag,
)
from backchannel.errors import MalformedResponseError
from backchannel.sanitize import clean_post, escape, html_to_text, limits, safe_url

log = logging.getLogger(__name__)

PLATFORM = "mastodon"
_VIDEO_KINDS = {"video", "gifv", "audio"}


def normalize_status(raw: Mapping[str, Any], server_domain: str) -> NormalizedPost:
    """Normalise one Status from a timeline of the server at ``server_domain``.

    A boost is unwrapped: the result is the original post, with ``raw`` the original's
    JSON (the wrapper is never archived). ``native_id`` is the id under which this
    server knows the post. ``reply_to_uri`` is only known when the caller can map
    ``in_reply_to_id`` (see ``NormalizedPost.reply_to_native_id``).

    ``raw`` must hold valid text: parse it with :func:`backchannel.sanitize.parse_json`
    (the collector, recheck and lookups do), which replaces lone surrogates and
    control characters in the whole body at once, raw JSON included.
    """
    try:
        return _normalize(raw, server_domain)
    except MalformedResponseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        ident = raw.get("id") if isinstance(raw, Mapping) else None
        raise MalformedResponseError(
            f"status {ident!r} from {server_domain} is not a valid Mastodon Status: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def unwrap(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The original status of a boost, or the status itself."""
    inner = raw.get("reblog")
    return inner if isinstance(inner, Mapping) else raw


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 time from the API as a UTC-aware datetime (naive means UTC)."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {value!r}")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalize_account(raw: Mapping[str, Any], server_domain: str) -> NormalizedAuthor:
    """An Account as this server describes it, with every consent signal it carried."""
    _require(raw, "account", ("id", "username", "acct"))
    # An author comes with each of their posts, a page often has several: an account
    # that reads exactly as one seen before gives the same (frozen) object again.
    key = _account_key(raw, server_domain)
    if key is None:
        return _account(raw, server_domain)
    author = _AUTHORS.get(key)
    if author is None:
        if len(_AUTHORS) >= _AUTHOR_CACHE_SIZE:
            _AUTHORS.clear()
        author = _AUTHORS[key] = _account(raw, server_domain)
    return author


# Everything _account reads. Scalars must be str, bool or None to be part of a key:
# 1 == True == 1.0 as keys, but str() tells them apart.
_ACCOUNT_SCALARS = (
    "acct", "url", "uri", "display_name", "note", "avatar",
    "bot", "noindex", "indexable", "discoverable", "suspended", "limited",
)  # fmt: skip
_KEY_TYPES = (str, bool, type(None))
_AUTHORS: dict[tuple[Any, ...], NormalizedAuthor] = {}
_AUTHOR_CACHE_SIZE = 4096


def _account_key(raw: Mapping[str, Any], server_domain: str) -> tuple[Any, ...] | None:
    values = tuple(raw.get(name) for name in _ACCOUNT_SCALARS)
    for value in values:
        if type(value) not in _KEY_TYPES:
            return None
    # Lists of objects: their repr tells every JSON value apart.
    return (server_domain, *values, repr(raw.get("fields")), repr(raw.get("emojis")))


def _account(raw: Mapping[str, Any], server_domain: str) -> NormalizedAuthor:
    acct = str(raw["acct"])
    domain = acct.partition("@")[2] or _host(raw.get("url")) or server_domain
    handle = acct if "@" in acct else f"{acct}@{domain}"
    emojis = _emoji_pairs(raw.get("emojis"))
    display_name = limits.bounded(str(raw.get("display_name") or ""), limits.NAME)
    bio = [_plain(str(raw.get("note") or ""))]
    for item in raw.get("fields") or ():
        if isinstance(item, Mapping):
            bio.append(f"{item.get('name') or ''}: {_plain(str(item.get('value') or ''))}")
    profile_url = safe_url(raw.get("url"))
    return NormalizedAuthor(
        platform=PLATFORM,
        # ``uri`` (the ActivityPub actor) is in the API since 4.2; older servers only
        # give the profile URL, which is the next most stable identity.
        uri=str(raw.get("uri") or profile_url or f"acct:{handle}"),
        handle=handle,
        display_name=display_name,
        display_name_html=escape(display_name, dict(emojis)),
        avatar_url=safe_url(raw.get("avatar")),
        profile_url=profile_url,
        bot=bool(raw.get("bot")),
        # Absent is not False: noindex is only sent for the server's own accounts.
        noindex=_optional_bool(raw.get("noindex")),
        indexable=_optional_bool(raw.get("indexable")),
        discoverable=_optional_bool(raw.get("discoverable")),
        bio_text="\n".join(part for part in bio if part.strip()),
        suspended=bool(raw.get("suspended")),
        limited=bool(raw.get("limited")),
        home_server=domain.lower(),
        emojis=emojis,
    )


# -- internals ----------------------------------------------------------------------


def _normalize(wrapper: Mapping[str, Any], server_domain: str) -> NormalizedPost:
    _require(wrapper, "status", ("id", "uri", "created_at", "account"))
    raw = unwrap(wrapper)
    _require(raw, "status", ("id", "uri", "created_at", "account", "content"))
    if not isinstance(raw["account"], Mapping):
        raise MalformedResponseError(f"status {raw['id']!r}: account is not an object")
    emojis = _emoji_pairs(raw.get("emojis"))
    body, text, links = clean_post(str(raw.get("content") or ""), dict(emojis))
    mentions = tuple(_mention(m, server_domain) for m in raw.get("mentions") or ())
    tag_urls = {safe_url(t.get("url")) for t in raw.get("tags") or () if isinstance(t, Mapping)}
    skip_links = {url for _, url in mentions} | tag_urls
    quote_uri, quote_snapshot = _quote(raw.get("quote"), server_domain)
    edited_at = raw.get("edited_at")
    reply_to = raw.get("in_reply_to_id")
    return NormalizedPost(
        platform=PLATFORM,
        uri=str(raw["uri"]),
        url=safe_url(raw.get("url")),
        native_id=str(raw["id"]),
        author=normalize_account(raw["account"], server_domain),
        created_at=parse_datetime(raw["created_at"]),
        raw=dict(raw),
        text=text,
        html=body,
        language=raw.get("language") or None,
        content_warning=str(raw.get("spoiler_text") or "") or None,
        sensitive=bool(raw.get("sensitive")),
        visibility=str(raw.get("visibility") or "public"),
        edited_at=parse_datetime(edited_at) if edited_at else None,
        reply_to_native_id=str(reply_to) if reply_to is not None else None,
        quote_uri=quote_uri,
        quote_snapshot=quote_snapshot,
        reply_count=_count(raw.get("replies_count")),
        repost_count=_count(raw.get("reblogs_count")),
        like_count=_count(raw.get("favourites_count")),
        quote_count=_count(raw.get("quotes_count")),
        tags=_tags(raw.get("tags")),
        mentions=mentions,
        links=tuple(url for url in links if url not in skip_links),
        media=tuple(_media(m) for m in raw.get("media_attachments") or ()),
        emojis=emojis,
        poll=_poll(raw.get("poll")),
        card=_card(raw.get("card")),
    )


def _require(raw: object, what: str, keys: tuple[str, ...]) -> None:
    if not isinstance(raw, Mapping):
        raise MalformedResponseError(f"{what} is not a JSON object: {type(raw).__name__}")
    missing = [key for key in keys if raw.get(key) is None]
    if missing:
        raise MalformedResponseError(f"{what} {raw.get('id')!r} lacks {', '.join(missing)}")


def _optional_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _host(url: object) -> str | None:
    return urlsplit(url).hostname if isinstance(url, str) and safe_url(url) else None


def _emoji_pairs(items: object) -> tuple[tuple[str, str], ...]:
    pairs: dict[str, str] = {}
    for item in items or ():  # type: ignore[attr-defined]
        if not isinstance(item, Mapping):
            continue
        url = safe_url(item.get("url")) or safe_url(item.get("static_url"))
        code = item.get("shortcode")
        if isinstance(code, str) and code and url:
            pairs.setdefault(code, url)
    return tuple(pairs.items())


def _tags(items: object) -> tuple[str, ...]:
    # The API lower-cases names ("thisisahashtag" for #ThisIsAHashtag); compare in the
    # one normalised form so that matching an event's tags ignores case.
    seen: dict[str, None] = {}
    for item in items or ():  # type: ignore[attr-defined]
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            name = normalize_hashtag(item["name"])
            if name:
                seen.setdefault(name, None)
    return tuple(seen)


def _mention(item: Mapping[str, Any], server_domain: str) -> tuple[str, str]:
    acct = str(item["acct"])
    if "@" not in acct:  # local to the server that answered
        acct = f"{acct}@{_host(item.get('url')) or server_domain}"
    return acct, safe_url(item.get("url")) or ""


def _media(item: Mapping[str, Any]) -> NormalizedMedia:
    kind = str(item.get("type") or "unknown")
    meta = item.get("meta") if isinstance(item.get("meta"), Mapping) else {}
    original = meta.get("original") if isinstance(meta.get("original"), Mapping) else {}
    small = meta.get("small") if isinstance(meta.get("small"), Mapping) else {}
    focus = meta.get("focus") if isinstance(meta.get("focus"), Mapping) else {}
    # ``url`` is this server's copy (null while processing, or for uncached remote
    # media); ``remote_url`` is the origin's.
    file_url = safe_url(item.get("url")) or safe_url(item.get("remote_url"))
    preview = safe_url(item.get("preview_url"))
    if kind in _VIDEO_KINDS:
        # The file itself goes to ``playlist_url`` so that it is only fetched when the
        # config allows video; ``url`` is then the still image (poster) to show.
        url, playlist = preview, file_url
    else:
        url, playlist = file_url, None
    return NormalizedMedia(
        kind=kind,
        url=url,
        preview_url=preview,
        alt=limits.bounded(str(item.get("description") or ""), limits.ALT_TEXT) or None,
        width=_int(original.get("width")) or _int(small.get("width")),
        height=_int(original.get("height")) or _int(small.get("height")),
        focus_x=_float(focus.get("x")),
        focus_y=_float(focus.get("y")),
        blurhash=item.get("blurhash") or None,
        playlist_url=playlist,
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _poll(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        return None
    return {
        "expires_at": raw.get("expires_at"),
        "expired": bool(raw.get("expired")),
        "multiple": bool(raw.get("multiple")),
        "votes_count": _count(raw.get("votes_count")),
        "voters_count": _count(raw.get("voters_count")) if raw.get("voters_count") else None,
        "options": [
            {
                "title": limits.bounded(str(o.get("title") or ""), limits.POLL_OPTION),
                "votes_count": o.get("votes_count"),
            }
            for o in raw.get("options") or ()
            if isinstance(o, Mapping)
        ],
    }


def _card(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping) or not safe_url(raw.get("url")):
        return None
    # ``html`` (an embed <iframe>) is left out on purpose: the archive embeds nothing.
    return {
        "url": safe_url(raw.get("url")),
        "title": limits.bounded(str(raw.get("title") or ""), limits.CARD_TITLE),
        "description": limits.bounded(str(raw.get("description") or ""), limits.CARD_DESCRIPTION),
        "type": str(raw.get("type") or "link"),
        "provider_name": str(raw.get("provider_name") or ""),
        "author_name": str(raw.get("author_name") or ""),
        "image": safe_url(raw.get("image")),
        "image_description": limits.bounded(
            str(raw.get("image_description") or ""), limits.ALT_TEXT
        ),
        "width": _int(raw.get("width")),
        "height": _int(raw.get("height")),
        "blurhash": raw.get("blurhash") or None,
    }


def _quote(raw: object, server_domain: str) -> tuple[str | None, dict[str, Any] | None]:
    """The quoted post's URI and a small view of it, when the server shows it.

    Mastodon 4.4+ sends ``{"state": ..., "quoted_status": Status | null}`` (a "shallow"
    quote has only ``quoted_status_id``); some forks send the quoted Status itself.
    """
    if not isinstance(raw, Mapping):
        return None, None
    quoted = raw.get("quoted_status") if "state" in raw else raw
    if "state" in raw and raw.get("state") not in ("accepted", None):
        return None, None  # pending, rejected, revoked: the author did not allow it
    if not isinstance(quoted, Mapping) or not isinstance(quoted.get("uri"), str):
        return None, None
    try:
        post = _normalize(quoted, server_domain)
    except (MalformedResponseError, KeyError, TypeError, ValueError) as exc:
        log.warning("quoted status of %s could not be read: %s", server_domain, exc)
        return str(quoted["uri"]), None
    if post.visibility != "public":
        return post.uri, None  # only public posts are archived, quoted ones included
    return post.uri, {
        "uri": post.uri,
        "url": post.url,
        "author_handle": post.author.handle,
        "author_name": post.author.display_name,
        "created_at": post.created_at.isoformat(),
        "html": post.html,
        "text": post.text,
        "content_warning": post.content_warning,
        "sensitive": post.sensitive,
        "visibility": post.visibility,
    }


# An author's bio comes with every one of their posts: convert each distinct one once.
_plain = lru_cache(maxsize=4096)(html_to_text)
