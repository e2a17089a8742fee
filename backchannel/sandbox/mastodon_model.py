"""The data of the Mastodon sandbox world: plain dataclasses, no behaviour.

Instances are referred to by name; media by key (the server renders the PNG bytes
from the key). Times are aware datetimes in UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

NEVER = 1_000_000  # an arrival step that never comes
VISIBILITIES = ("public", "unlisted", "private", "direct")
_EPOCH_ACCOUNTS = datetime(2024, 1, 1, tzinfo=UTC)


def snowflake(when: datetime, salt: str) -> int:
    """A Mastodon-style id: milliseconds since the epoch, shifted, plus 16 salt bits."""
    ms = int(when.timestamp() * 1000)
    low = int.from_bytes(
        hashlib.blake2b(salt.encode("utf-8", "surrogatepass"), digest_size=2).digest(), "big"
    )
    return (ms << 16) | low


@dataclass
class Instance:
    name: str
    title: str = ""
    sees: set[str] = field(default_factory=set)  # keys of remote accounts followed here


@dataclass
class CustomEmoji:
    shortcode: str
    instance: str
    key: str  # media key of its image


@dataclass
class Account:
    key: str  # "username@instance-name"
    username: str
    home: str
    display_name: str = ""
    note: str = ""  # HTML, placeholders allowed
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value HTML)
    bot: bool = False
    noindex: bool = False
    indexable: bool = True
    suspended: bool = False  # sent only when true, like Mastodon
    limited: bool = False
    discoverable: bool | None = True
    locked: bool = False
    group: bool = False
    created_at: datetime = _EPOCH_ACCOUNTS
    avatar: str | None = None  # media key; None -> the "missing" avatar
    avatar_description: str = ""
    header: str | None = None


@dataclass
class Media:
    key: str
    description: str | None = None  # alt text; None when the author gave none
    width: int = 96
    height: int = 64
    focus: tuple[float, float] | None = None
    type: str = "image"


@dataclass
class Card:
    url: str
    title: str
    description: str = ""
    provider_name: str = ""
    image: str | None = None  # media key
    type: str = "link"
    author_name: str = ""
    language: str | None = "en"


@dataclass
class Poll:
    options: list[tuple[str, int]]
    expires_at: datetime
    multiple: bool = False


@dataclass
class Edit:
    step: int
    content: str
    edited_at: datetime
    spoiler_text: str | None = None


@dataclass
class Post:
    key: str
    author: str  # account key
    created_at: datetime
    content: str  # HTML as the origin wrote it (placeholders allowed)
    visibility: str = "public"
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = "en"
    mentions: list[str] = field(default_factory=list)  # account keys
    media: list[Media] = field(default_factory=list)
    card: Card | None = None
    poll: Poll | None = None
    in_reply_to: str | None = None  # post key
    quote_of: str | None = None  # post key
    reblog_of: str | None = None  # post key: a boost wrapper
    arrives: dict[str, int] = field(default_factory=dict)  # instance -> step
    deleted_at: int | None = None  # step
    edits: list[Edit] = field(default_factory=list)
    reblogs_count: int = 0
    favourites_count: int = 0
    application: str | None = None
