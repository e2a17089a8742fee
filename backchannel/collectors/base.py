"""What every collector produces, and the protocol the collect service drives.

A collector speaks HTTP to one source (a Mastodon server, or Bluesky) and turns what
it reads into :class:`NormalizedPost` objects, one :class:`Page` at a time. It never
touches the database: the collect service stores each page together with the
``Page.cursor`` that follows it, in one transaction, and hands that cursor back on the
next run. So a collector can be killed anywhere and resume without gaps or duplicates.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


def normalize_hashtag(tag: str) -> str:
    """The form a hashtag is compared in: no leading ``#``, Unicode NFC, case-folded."""
    return unicodedata.normalize("NFC", tag.strip().lstrip("#")).casefold()


@dataclass(frozen=True, slots=True)
class Window:
    """The span of time to collect, both ends UTC-aware. ``end`` may be in the future."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class NormalizedMedia:
    """One attachment of a post (image, video, gifv, audio, unknown)."""

    kind: str
    url: str | None
    preview_url: str | None = None
    alt: str | None = None
    width: int | None = None
    height: int | None = None
    focus_x: float | None = None
    focus_y: float | None = None
    blurhash: str | None = None
    # Video: the HLS playlist or original file; not fetched unless the config allows.
    playlist_url: str | None = None


@dataclass(frozen=True, slots=True)
class NormalizedAuthor:
    """An account as the source saw it, with every consent signal it carried."""

    platform: str  # "mastodon" or "bluesky"
    uri: str  # stable identity: the ActivityPub actor URI, or the DID
    handle: str  # "user@example.social" or "name.bsky.social"
    display_name: str = ""  # plain text
    display_name_html: str = ""  # sanitised; custom emoji as <img>
    avatar_url: str | None = None
    profile_url: str | None = None
    bot: bool = False
    noindex: bool | None = None  # None: the source did not say (see consent)
    indexable: bool | None = None
    discoverable: bool | None = None
    bio_text: str = ""  # plain text of the bio and profile fields, for #nobot and friends
    suspended: bool = False
    limited: bool = False
    labels: tuple[str, ...] = ()  # Bluesky self-labels such as "!no-unauthenticated"
    home_server: str | None = None  # Mastodon: the account's home domain
    home_checked_at: datetime | None = None  # when the home server was last asked (noindex)
    emojis: tuple[tuple[str, str], ...] = ()  # (shortcode, image URL)


@dataclass(slots=True)
class NormalizedPost:
    """One post, normalised from a platform's JSON. ``raw`` keeps that JSON unchanged."""

    platform: str
    uri: str  # canonical: ActivityPub id or at:// URI; the merge key
    url: str | None  # web permalink on the origin (or bsky.app)
    native_id: str  # the id under which the queried source knows the post
    author: NormalizedAuthor
    created_at: datetime  # UTC-aware
    raw: dict[str, Any]
    text: str = ""  # plain text
    html: str = ""  # sanitised HTML, safe to publish
    language: str | None = None
    content_warning: str | None = None
    sensitive: bool = False
    visibility: str = "public"
    edited_at: datetime | None = None
    indexed_at: datetime | None = None
    reply_to_uri: str | None = None
    reply_root_uri: str | None = None
    quote_uri: str | None = None
    quote_snapshot: dict[str, Any] | None = None  # a view of the quoted post, when shown
    reply_count: int = 0
    repost_count: int = 0
    like_count: int = 0
    quote_count: int = 0
    tags: tuple[str, ...] = ()  # normalize_hashtag() forms, in order of appearance
    mentions: tuple[tuple[str, str], ...] = ()  # (handle, profile URL)
    links: tuple[str, ...] = ()  # outbound URLs (not mentions, not hashtags)
    media: tuple[NormalizedMedia, ...] = ()
    emojis: tuple[tuple[str, str], ...] = ()  # (shortcode, image URL) used in the content
    poll: dict[str, Any] | None = None
    card: dict[str, Any] | None = None  # preview card / external link card
    labels: tuple[str, ...] = ()  # Bluesky post self-labels
    cid: str | None = None  # Bluesky content id: a change means the record was rewritten
    # Mastodon gives a parent only as the queried server's id (``in_reply_to_id``), not
    # as a URI; the store can resolve it through that server's sightings.
    reply_to_native_id: str | None = None
    # ``raw`` as the JSON text received, when the caller has it: the store keeps that
    # text instead of serialising ``raw`` again. It must parse to ``raw``.
    raw_json: str | None = None


@dataclass(slots=True)
class Page:
    """Posts read in one request, and the state to resume from after them.

    ``cursor`` is opaque to everyone but the collector that made it; it must be
    JSON-serialisable. ``skipped`` counts posts left out, by reason (``"not public"``,
    ``"opted out: noindex"`` ...). ``requests`` counts the HTTP requests this page cost.
    """

    posts: list[NormalizedPost]
    cursor: dict[str, Any]
    skipped: Counter[str] = field(default_factory=Counter)
    requests: int = 1
    unreadable: list[str] = field(default_factory=list)  # ids of posts skipped as unreadable


class Collector(Protocol):
    """One source of posts: a Mastodon server, or Bluesky."""

    platform: str
    base_url: str

    def collect(
        self, hashtag: str, window: Window, cursor: dict[str, Any] | None
    ) -> Iterator[Page]:
        """Yield pages for ``hashtag`` within ``window``, resuming after ``cursor``.

        Raises a :class:`backchannel.errors.SourceError` when the source cannot go on;
        pages already yielded stay valid.
        """
        ...

    def probe(self, hashtag: str) -> str:
        """One or two cheap requests that show the source usable for ``hashtag``; a short
        description of what was seen. Raises :class:`backchannel.errors.SourceError` (or
        a ConfigError for a missing secret) saying what to fix."""
        ...

    def close(self) -> None: ...
