"""The Bluesky sandbox's data: accounts, posts, blobs, and the answer key's shape.

Plain dataclasses; :mod:`backchannel.sandbox.bluesky_world` holds them, indexes them
and changes them under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backchannel.sandbox.bluesky_ids import micros, parse_datetime
from backchannel.sandbox.bluesky_text import hashtags

POST_TYPE = "app.bsky.feed.post"
SELF_LABELS = "com.atproto.label.defs#selfLabels"
NO_UNAUTHENTICATED = "!no-unauthenticated"

Key = tuple[int, str]  # (sortAt in microseconds, uri)


@dataclass
class Account:
    did: str
    handle: str
    display_name: str
    created_at: datetime
    description: str = ""
    app_password: str | None = None
    opted_out: bool = False  # self-label !no-unauthenticated on the profile record
    avatar: str | None = None  # blob CID

    @property
    def profile_uri(self) -> str:
        return f"at://{self.did}/app.bsky.actor.profile/self"


@dataclass
class Blob:
    data: bytes
    mime: str


@dataclass(eq=False)
class Post:
    uri: str
    author: Account
    record: dict[str, Any]
    cid: str
    indexed_at: datetime
    tags: frozenset[str]  # lower-cased hashtags the generator meant it to carry
    reply_count: int = 0
    repost_count: int = 0
    like_count: int = 0
    quote_count: int = 0
    quote_view: str | None = None  # force "detached" or "blocked" for its quoted post
    deleted: bool = False
    arrived: bool = True  # False until world.advance() for late posts
    late: bool = False
    invalid: bool = False  # made to fail the SDK's model validation on purpose
    sort_at: datetime = field(init=False)
    key: Key = field(init=False)
    search_tags: frozenset[str] = field(init=False)
    search_text: str = field(init=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute what search reads from the record (after an edit)."""
        created = record_created_at(self.record, self.indexed_at)
        # sortAt is the earlier of createdAt and indexedAt (docs.bsky.app timestamps).
        self.sort_at = min(created, self.indexed_at)
        self.key = (micros(self.sort_at), self.uri)
        text = self.record.get("text") if isinstance(self.record.get("text"), str) else ""
        found = hashtags(text)
        for facet in self.record.get("facets") or []:
            for feature in facet.get("features") or []:
                if isinstance(feature, dict) and isinstance(feature.get("tag"), str):
                    found.add(feature["tag"].lower())
        for tag in self.record.get("tags") or []:
            if isinstance(tag, str):
                found.add(tag.lower())
        self.search_tags = frozenset(found)
        self.search_text = text.lower()

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    @property
    def live(self) -> bool:
        return self.arrived and not self.deleted

    def strong_ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def record_created_at(record: dict[str, Any], fallback: datetime) -> datetime:
    value = record.get("createdAt")
    try:
        return parse_datetime(value) if isinstance(value, str) else fallback
    except ValueError:
        return fallback


@dataclass(frozen=True)
class AnswerKey:
    """What a correct collector of ``hashtags`` over ``since``..``until`` ends up with.

    ``by_tag``: live posts (arrived, not deleted, not due for deletion) carrying each
    tag with sortAt in [since, until): the window is the event plus a 1 h margin.
    The other sets are subsets or companions of those, by at:// URI.
    """

    since: datetime
    until: datetime
    by_tag: dict[str, frozenset[str]]
    opted_out: frozenset[str]  # in by_tag, author has !no-unauthenticated: never publish
    deleted: frozenset[str]  # tagged in-window posts deleted, or deleted once served
    edited: dict[str, str]  # uri -> the CID a collector should end up with
    late: frozenset[str]  # arrive only with world.advance()
    pending: frozenset[str]  # late posts that have not arrived yet
    outside_window: frozenset[str]  # carry a tag but sortAt is outside the window
    invalid_records: frozenset[str]  # records the SDK cannot validate (DotDict)

    @property
    def all(self) -> frozenset[str]:
        return frozenset().union(*self.by_tag.values())

    @property
    def publishable(self) -> frozenset[str]:
        return self.all - self.opted_out
