"""Bluesky post views (raw JSON dicts) to :class:`NormalizedPost`.

Everything here works on the JSON exactly as the AppView sent it, never on the SDK's
pydantic models: a record that fails the SDK's validation (or falls back to a DotDict)
is normalised all the same, and ``NormalizedPost.raw`` is the post view unchanged.

Choices worth knowing:

* ``html`` is :func:`~backchannel.collectors.bluesky.facets.render_facets` output passed through
  :func:`backchannel.sanitize.clean.clean_post_html`, like every other post's HTML.

* ``created_at`` is the record's ``createdAt`` (client-supplied: ``Z``, an offset, or
  no zone, which means UTC); when it cannot be parsed, ``indexedAt`` stands in. A
  ``createdAt`` after ``indexedAt`` is a client's wrong clock: Bluesky orders such a
  post by ``sortAt`` (the earlier of the two), and so does the archive (``raw`` keeps
  the claimed date).
* ``tags`` are the facet hashtags, then the record's ``tags`` (hashtags not shown in
  the text, which a tag search matches), then ``#words`` in the text that no facet
  covers (clients that write no facets). All in ``normalize_hashtag`` form.
* Self-labels (record ``labels``) and labels on the post view with the values
  ``porn``, ``sexual``, ``nudity``, ``graphic-media`` (and a labeller's ``!warn``)
  give a content warning and ``sensitive=True``.
* A quoted post's snapshot is ``{"uri", "cid", "url", "author": {"did", "handle",
  "displayName"}, "text", "html", "createdAt"}``; one that cannot be shown is
  ``{"uri", "unavailable": REASON}`` with REASON one of ``notFound``, ``blocked``,
  ``detached``, ``optedOut`` (its author is labelled ``!no-unauthenticated``),
  ``missing`` (the view did not include it) or ``unsupported`` (a feed, list, ...).
* Video: ``url`` is None (Bluesky serves HLS only), ``playlist_url`` is the m3u8,
  ``preview_url`` the thumbnail.
* An external link card is ``{"url", "title", "description", "image"}``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from backchannel.collectors.base import (
    NormalizedAuthor,
    NormalizedMedia,
    NormalizedPost,
)
from backchannel.collectors.bluesky.facets import (
    PROFILE_URL,
    clean_text,
    hashtag,
    quote_path,
    render_facets,
    text_hashtags,
)
from backchannel.sanitize import clean_post_html, escape, limits, make_valid, safe_url

PLATFORM = "bluesky"
OPT_OUT_LABEL = "!no-unauthenticated"
POST_URL = "https://bsky.app/profile/{}/post/{}"

# Label values that hide content behind a warning, with the words the Bluesky app uses.
WARNING_LABELS = {
    "porn": "Adult content",
    "sexual": "Sexually suggestive",
    "nudity": "Non-sexual nudity",
    "graphic-media": "Graphic media",
    "!warn": "Content warning",
}

_UNAVAILABLE = {
    "app.bsky.embed.record#viewNotFound": "notFound",
    "app.bsky.embed.record#viewBlocked": "blocked",
    "app.bsky.embed.record#viewDetached": "detached",
}
_HANDLE = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


class UnreadablePost(ValueError):
    """A post view that cannot be normalised. ``reason`` is a short skip reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def _str(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_timestamp(value: object) -> datetime | None:
    """A UTC-aware datetime from ``Z``, offset or zoneless ISO 8601 text; else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)  # a zoneless createdAt means UTC
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def sort_at(view: dict[str, Any]) -> datetime | None:
    """The AppView's ``sortAt``: the earlier of ``createdAt`` and ``indexedAt``."""
    created = parse_timestamp(_dict(view.get("record")).get("createdAt"))
    indexed = parse_timestamp(view.get("indexedAt"))
    if created and indexed:
        return min(created, indexed)
    return created or indexed


def unwrap_post_view(item: dict[str, Any]) -> dict[str, Any]:
    """The post view inside a thread or feed item; a repost gives the original post."""
    if "uri" in item:
        return item
    for key in ("thread", "post"):
        inner = item.get(key)
        if "uri" not in item and isinstance(inner, dict):
            return unwrap_post_view(inner)
    return item


def effective_labels(labels: object) -> tuple[str, ...]:
    """Label values in order, without those a later ``neg`` label takes back."""
    values: list[str] = []
    for label in _list(labels):
        val = _str(_dict(label).get("val"))
        if not val:
            continue
        if label.get("neg") is True:
            values = [v for v in values if v != val]
        elif val not in values:
            values.append(val)
    return tuple(values)


def _self_labels(record: dict[str, Any]) -> tuple[str, ...]:
    values = _list(_dict(record.get("labels")).get("values"))
    return tuple(dict.fromkeys(v for v in (_str(_dict(x).get("val")) for x in values) if v))


def _web_name(handle: str, did: str) -> str:
    """What to put after /profile/: the handle when valid, else the DID."""
    if handle and handle != "handle.invalid" and _HANDLE.match(handle):
        return handle
    return quote_path(did, ":")


def normalize_author(author: object) -> NormalizedAuthor:
    """A profileViewBasic as a NormalizedAuthor (labels included)."""
    data = _dict(author)
    if data.get("labels"):
        return _author(data)
    # An unlabelled author that reads exactly as one seen before gives the same
    # (frozen) object again: an author comes with each of their posts.
    key = (data.get("did"), data.get("handle"), data.get("displayName"), data.get("avatar"))
    if not all(type(value) in _KEY_TYPES for value in key):
        return _author(data)  # 1 == True as keys, but _str() tells them apart
    found = _AUTHORS.get(key)
    if found is None:
        if len(_AUTHORS) >= _AUTHOR_CACHE_SIZE:
            _AUTHORS.clear()
        found = _AUTHORS[key] = _author(data)
    return found


_KEY_TYPES = (str, type(None))
_AUTHORS: dict[tuple[Any, ...], NormalizedAuthor] = {}
_AUTHOR_CACHE_SIZE = 4096


def _author(data: dict[str, Any]) -> NormalizedAuthor:
    did = _str(data.get("did"))
    if not did.startswith("did:"):
        raise UnreadablePost("unreadable", "author without a DID")
    handle = _str(data.get("handle")) or did
    display_name = limits.bounded(_str(data.get("displayName")), limits.NAME)
    labels = effective_labels(data.get("labels"))
    return NormalizedAuthor(
        platform=PLATFORM,
        uri=did,
        handle=handle,
        display_name=display_name,
        display_name_html=escape(display_name),
        avatar_url=safe_url(data.get("avatar")),
        profile_url=PROFILE_URL.format(quote_path(did, ":")),
        bot="bot" in labels,
        labels=labels,
    )


def _aspect(value: object) -> tuple[int | None, int | None]:
    ratio = _dict(value)
    width, height = _int(ratio.get("width")), _int(ratio.get("height"))
    return (width, height) if width and height else (None, None)


def _images(view: dict[str, Any]) -> list[NormalizedMedia]:
    media = []
    for image in _list(view.get("images")):
        image = _dict(image)
        width, height = _aspect(image.get("aspectRatio"))
        full, thumb = safe_url(image.get("fullsize")), safe_url(image.get("thumb"))
        if full or thumb:
            media.append(
                NormalizedMedia(
                    kind="image",
                    url=full or thumb,
                    preview_url=thumb,
                    alt=limits.bounded(_str(image.get("alt")), limits.ALT_TEXT) or None,
                    width=width,
                    height=height,
                )
            )
    return media


def _video(view: dict[str, Any]) -> list[NormalizedMedia]:
    width, height = _aspect(view.get("aspectRatio"))
    playlist, thumb = safe_url(view.get("playlist")), safe_url(view.get("thumbnail"))
    if not (playlist or thumb):
        return []
    return [
        NormalizedMedia(
            kind="video",
            url=None,
            preview_url=thumb,
            alt=limits.bounded(_str(view.get("alt")), limits.ALT_TEXT) or None,
            width=width,
            height=height,
            playlist_url=playlist,
        )
    ]


def _card(view: dict[str, Any]) -> dict[str, Any] | None:
    external = _dict(view.get("external"))
    url = safe_url(external.get("uri"))
    if not url:
        return None
    return {
        "url": url,
        "title": limits.bounded(_str(external.get("title")), limits.CARD_TITLE),
        "description": limits.bounded(_str(external.get("description")), limits.CARD_DESCRIPTION),
        "image": safe_url(external.get("thumb")),
    }


def quote_snapshot(record_view: object) -> tuple[str | None, dict[str, Any]]:
    """(quoted URI, snapshot) for the ``record`` member of an ``embed.record#view``."""
    view = _dict(record_view)
    uri = _str(view.get("uri")) or None
    kind = view.get("$type")
    if kind in _UNAVAILABLE:
        return uri, {"uri": uri, "unavailable": _UNAVAILABLE[kind]}
    if kind != "app.bsky.embed.record#viewRecord":
        return uri, {"uri": uri, "unavailable": "unsupported" if view else "missing"}
    author = _dict(view.get("author"))
    if OPT_OUT_LABEL in effective_labels(author.get("labels")):
        # The quoted author asked not to be shown to logged-out viewers.
        return uri, {"uri": uri, "unavailable": "optedOut"}
    value = _dict(view.get("value"))
    did, handle = _str(author.get("did")), _str(author.get("handle"))
    text = _str(value.get("text"))
    rkey = (uri or "").rsplit("/", 1)[-1]
    return uri, {
        "uri": uri,
        "cid": _str(view.get("cid")) or None,
        "url": POST_URL.format(_web_name(handle, did), quote(rkey, safe="")) if did else None,
        "author": {"did": did, "handle": handle, "displayName": _str(author.get("displayName"))},
        "text": text,
        "html": clean_post_html(render_facets(text, value.get("facets")).html),
        "createdAt": _str(value.get("createdAt")) or None,
    }


class _Embed:
    """What a post's embed view contributes."""

    def __init__(self) -> None:
        self.media: list[NormalizedMedia] = []
        self.card: dict[str, Any] | None = None
        self.quote_uri: str | None = None
        self.quote: dict[str, Any] | None = None

    def add(self, view: object) -> None:
        view = _dict(view)
        kind = _str(view.get("$type"))
        if kind == "app.bsky.embed.images#view":
            self.media += _images(view)
        elif kind == "app.bsky.embed.video#view":
            self.media += _video(view)
        elif kind == "app.bsky.embed.external#view":
            self.card = _card(view)
        elif kind == "app.bsky.embed.record#view":
            self.quote_uri, self.quote = quote_snapshot(view.get("record"))
        elif kind == "app.bsky.embed.recordWithMedia#view":
            self.add({**_dict(view.get("record")), "$type": "app.bsky.embed.record#view"})
            self.add(view.get("media"))
        # Anything else (a newer embed type): ignored here, kept in ``raw``.

    def from_record(self, embed: object) -> None:
        """A quote the view did not hydrate: keep its URI, mark it missing."""
        embed = _dict(embed)
        if embed.get("$type") == "app.bsky.embed.recordWithMedia":
            embed = _dict(embed.get("record"))
        if embed.get("$type") == "app.bsky.embed.record":
            uri = _str(_dict(embed.get("record")).get("uri")) or None
            if uri:
                self.quote_uri, self.quote = uri, {"uri": uri, "unavailable": "missing"}


def normalize_post_view(item: dict[str, Any]) -> NormalizedPost:
    """Normalise one post view (or a feed/thread item wrapping one).

    Raises :class:`UnreadablePost` when the view lacks what a post must have.
    """
    view = unwrap_post_view(_dict(item))
    uri = _str(view.get("uri"))
    if not uri.startswith("at://"):
        raise UnreadablePost("unreadable", f"no at:// uri in {sorted(view)[:8]}")
    record = view.get("record")
    if not isinstance(record, dict):
        raise UnreadablePost("unreadable", f"{uri}: no record")
    if record.get("$type", "app.bsky.feed.post") != "app.bsky.feed.post":
        raise UnreadablePost("not a post", f"{uri}: {record.get('$type')!r}")
    author = normalize_author(view.get("author"))
    indexed_at = parse_timestamp(view.get("indexedAt"))
    created_at = parse_timestamp(record.get("createdAt")) or indexed_at
    if created_at is not None and indexed_at is not None and created_at > indexed_at:
        created_at = indexed_at  # sortAt: a future createdAt cannot be when it was posted
    if created_at is None:
        raise UnreadablePost("unreadable", f"{uri}: no usable createdAt or indexedAt")

    text = _str(record.get("text"))
    rendered = render_facets(text, record.get("facets"))
    tags = list(rendered.tags)
    for tag in [_str(t) for t in _list(record.get("tags"))] + text_hashtags(text):
        name = hashtag(tag)
        if name and name not in tags:
            tags.append(name)

    embed = _Embed()
    if view.get("embed"):
        embed.add(view.get("embed"))
    if embed.quote_uri is None:
        embed.from_record(record.get("embed"))
    links = list(rendered.links)
    if embed.card and embed.card["url"] not in links:
        links.append(embed.card["url"])

    labels: tuple[str, ...] = ()
    if record.get("labels") or view.get("labels"):
        labels = tuple(dict.fromkeys(_self_labels(record) + effective_labels(view.get("labels"))))
    warnings = [WARNING_LABELS[v] for v in labels if v in WARNING_LABELS]
    reply = _dict(record.get("reply"))
    langs = [lang for lang in _list(record.get("langs")) if isinstance(lang, str) and lang]
    rkey = uri.rsplit("/", 1)[-1]
    return make_valid(
        NormalizedPost(
            platform=PLATFORM,
            uri=uri,
            url=POST_URL.format(_web_name(author.handle, author.uri), quote_path(rkey)),
            native_id=uri,
            author=author,
            created_at=created_at,
            raw=view,
            text=text,
            html=clean_post_html(rendered.html),  # built safe; cleaned anyway, as all post HTML
            language=clean_text(langs[0]) if langs else None,
            content_warning=", ".join(dict.fromkeys(warnings)) or None,
            sensitive=bool(warnings),
            indexed_at=indexed_at,
            reply_to_uri=_str(_dict(reply.get("parent")).get("uri")) or None,
            reply_root_uri=_str(_dict(reply.get("root")).get("uri")) or None,
            quote_uri=embed.quote_uri,
            quote_snapshot=embed.quote,
            reply_count=_int(view.get("replyCount")),
            repost_count=_int(view.get("repostCount")),
            like_count=_int(view.get("likeCount")),
            quote_count=_int(view.get("quoteCount")),
            tags=tuple(tags),
            mentions=rendered.mentions,
            links=tuple(links),
            media=tuple(embed.media),
            card=embed.card,
            labels=labels,
            cid=_str(view.get("cid")) or None,
        )
    )
