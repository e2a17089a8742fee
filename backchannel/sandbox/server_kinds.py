"""How fediverse software other than Mastodon serves ``/api/v1/timelines/tag/:tag``.

The loopback Mastodon server (:mod:`backchannel.sandbox.mastodon_server`) can be told
to page a hashtag as another software does: ``server.kind = KINDS["gotosocial"]``.
A kind is its NodeInfo name, whether the tag feed needs a token (and the status it
answers without one), its id scheme and which paging parameters it honours. Facts
from each project's source code (``/work/shared/reference/fediverse-servers.md``):

================  ===============================  =====================================
kind              ids (their time part)            paging
================  ===============================  =====================================
mastodon          Snowflake, ms << 16 (created)    max_id, since_id, min_id; Link
gotosocial        ULID (the post's created_at)     string compare; since_id = min_id
akkoma            FlakeId base62 (insert time)     all three; a short numeric id is a
                                                   "fake flake", a long one base62
pixelfed          Snowflake, epoch 2019-02-10,     max_id, min_id (newest first);
                  << 22 (insert time)              since_id ignored; ids older than 6
                                                   months give []; only_media defaults
                                                   to true; no Link
friendica         an integer in storage order      integer compare
mitra             UUIDv7 (import time)             max_id only; min_id, since_id ignored
snac              ctime + md5 (opaque)             exact ids only; no Link
================  ===============================  =====================================

"Insert time" here: a post's ``created_at`` when it is on the server from the start,
30 days later per :meth:`~MastodonWorld.advance` step when it arrives late, so that a
late post sorts above what was there before it, as it does on a server whose ids are
made when a post is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from backchannel.sandbox.mastodon_model import NEVER, Post

if TYPE_CHECKING:
    from backchannel.sandbox.mastodon_world import MastodonWorld

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PIXELFED_EPOCH_MS = 1549756800000  # 2019-02-10, app/Services/SnowflakeService.php
PIXELFED_WINDOW = timedelta(days=183)  # "SnowflakeService::byDate(now()->subMonths(6))"
LATE_STEP = timedelta(days=30)


@dataclass(frozen=True)
class Made:
    """What a server knows of a post when it makes its id."""

    post: Post
    local_id: int  # the world's Mastodon id of the post on this instance (unique)
    arrival: int  # the step it reached the server
    sequence: int  # the order the world was told of it

    @property
    def created_ms(self) -> int:
        return int(self.post.created_at.timestamp() * 1000)

    @property
    def inserted_ms(self) -> int:
        return int((self.post.created_at + self.arrival * LATE_STEP).timestamp() * 1000)

    def noise(self, bits: int) -> int:
        digest = hashlib.blake2b(str(self.local_id).encode(), digest_size=16).digest()
        return int.from_bytes(digest, "big") & ((1 << bits) - 1)


@dataclass(frozen=True)
class IdScheme:
    name: str
    make: Callable[[Made], str]
    # A request's id as this server compares it; None: not an id it can read.
    key: Callable[[str], Any]
    exact: bool = False  # ids match only exactly (snac walks an index file)


def _digits(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def ulid(ms: int, random80: int) -> str:
    value = (ms << 80) | random80
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def _flake(made: Made) -> str:
    value = (made.inserted_ms << 64) | (0x0A1B2C3D4E5F << 16) | (made.local_id & 0xFFFF)
    out = ""
    while value:
        value, digit = divmod(value, 62)
        out = _BASE62[digit] + out
    return out


def _flake_key(raw: str) -> int | None:
    """Pleroma.FlakeId.from_string: a decimal shorter than 18 characters is a legacy
    serial id (``<<0::64, n::64>>``); anything else is read as base62."""
    if raw.isdigit() and len(raw) < 18:
        return int(raw)
    if not raw or any(c not in _BASE62 for c in raw):
        return None
    value = 0
    for c in raw:
        value = value * 62 + _BASE62.index(c)
    return value


def _uuid7(made: Made) -> str:
    value = (made.inserted_ms << 80) | (0x7 << 76) | (made.noise(12) << 64)
    value |= (0b10 << 62) | made.noise(62)
    return str(uuid.UUID(int=value))


def _uuid_key(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _snac(made: Made) -> str:
    seconds = made.post.created_at.timestamp()
    return f"{seconds:10.0f}" + hashlib.md5(made.post.key.encode()).hexdigest()  # noqa: S324


SCHEMES = {
    "snowflake": IdScheme("snowflake", lambda m: str(m.local_id), _digits),
    "ulid": IdScheme("ulid", lambda m: ulid(m.created_ms, m.noise(80)), str),
    "flake": IdScheme("flake", _flake, _flake_key),
    "pixelfed": IdScheme(
        "pixelfed",
        lambda m: str(((m.inserted_ms - PIXELFED_EPOCH_MS) << 22) | m.noise(22)),
        _digits,
    ),
    "integer": IdScheme("integer", lambda m: str(m.arrival * 10**7 + m.sequence + 1), _digits),
    "uuid7": IdScheme("uuid7", _uuid7, _uuid_key),
    # snac's index file is in the order posts reached it: (arrival, creation).
    "opaque": IdScheme("opaque", _snac, lambda raw: raw, exact=True),
}


@dataclass(frozen=True)
class ServerKind:
    software: str  # NodeInfo software.name
    version: str
    ids: IdScheme
    token_status: int | None = None  # the tag feed needs a token: the status without one
    min_id: bool = True
    since_id: bool = True
    since_is_min: bool = False  # GoToSocial: since_id pages as min_id does
    min_newest_first: bool = False  # Pixelfed: min_id gives the newest page above it
    only_media_default: bool = False
    link_header: bool = True
    max_age: timedelta | None = None  # Pixelfed: ids older than this give []
    batch: bool = False  # GET /api/v1/statuses?id[]= (Mastodon 4.3): others answer 404


KINDS = {
    "mastodon": ServerKind("mastodon", "4.3.0", SCHEMES["snowflake"], batch=True),
    "gotosocial": ServerKind(
        "gotosocial", "0.17.0", SCHEMES["ulid"], token_status=401, since_is_min=True
    ),  # fmt: skip
    "akkoma": ServerKind("akkoma", "3.13.2", SCHEMES["flake"]),
    "pixelfed": ServerKind(
        "pixelfed",
        "0.12.3",
        SCHEMES["pixelfed"],
        token_status=403,
        since_id=False,
        min_newest_first=True,
        only_media_default=True,
        link_header=False,
        max_age=PIXELFED_WINDOW,
    ),  # fmt: skip
    "friendica": ServerKind("friendica", "2024.08", SCHEMES["integer"], token_status=403),
    "mitra": ServerKind("mitra", "4.5.0", SCHEMES["uuid7"], min_id=False, since_id=False),
    "snac": ServerKind("snac", "2.75", SCHEMES["opaque"], link_header=False),
}


def pixelfed_floor(now: datetime | None = None) -> int:
    """The lowest id Pixelfed pages from: ``SnowflakeService::byDate(now - 6 months)``."""
    moment = (now or datetime.now(UTC)) - PIXELFED_WINDOW
    return (int(moment.timestamp() * 1000) - PIXELFED_EPOCH_MS) << 22


class ServerIds:
    """One server's status ids under its kind, and its tag feed paged as that kind
    pages it. Ids are made once per post and never change."""

    def __init__(self, world: MastodonWorld, instance: str, kind: ServerKind) -> None:
        self.world, self.instance, self.kind = world, instance, kind
        self._public: dict[str, str] = {}  # post key -> id
        self._by_public: dict[str, str] = {}  # id -> post key
        self._sequence: dict[str, int] = {}
        # The last feed as given and as this kind orders it (oldest first), with its keys.
        self._feed: tuple[list[tuple[int, Post]], list[tuple[Any, str, Post]], list[Any]] | None
        self._feed = None

    def of(self, post: Post) -> str:
        made = self._public.get(post.key)
        if made is None:
            if post.key not in self._sequence:
                self._sequence = {key: n for n, key in enumerate(self.world.posts)}
            arrival = self.world.arrival(post, self.instance)
            made = self.kind.ids.make(Made(post, self.world.local_id(self.instance, post),
                                           arrival if arrival < NEVER else 0,
                                           self._sequence[post.key]))  # fmt: skip
            self._public[post.key], self._by_public[made] = made, post.key
        return made

    def post(self, raw: str) -> Post | None:
        if raw not in self._by_public and len(self._public) < len(self.world.posts):
            for post in list(self.world.posts.values()):
                self.of(post)
        key = self._by_public.get(raw)
        return self.world.posts.get(key) if key else None

    def _ordered(
        self, candidates: list[tuple[int, Post]]
    ) -> tuple[list[tuple[Any, str, Post]], list[Any]]:
        if self._feed is not None and self._feed[0] is candidates:
            return self._feed[1], self._feed[2]
        ids = self.kind.ids
        if ids.exact:  # an index file: in the order posts reached the server
            feed = sorted(((self.world.arrival(p, self.instance), p.created_at, local), self.of(p), p)
                          for local, p in candidates)  # fmt: skip
        else:
            feed = sorted((ids.key(self.of(p)), self.of(p), p) for _, p in candidates)
        keys = [key for key, _, _ in feed]
        self._feed = (candidates, feed, keys)
        return feed, keys

    def page(
        self, candidates: list[tuple[int, Post]], args: dict[str, str | None], limit: int
    ) -> list[tuple[str, Post]] | None:
        """The page ``args`` (max_id, since_id, min_id) ask for, newest first; None for an
        id this server refuses (400)."""
        kind = self.kind
        max_raw, since_raw, min_raw = args.get("max_id"), args.get("since_id"), args.get("min_id")
        if not kind.min_id:
            min_raw = None
        if not kind.since_id:
            since_raw = None
        if kind.since_is_min and since_raw is not None and min_raw is None:
            min_raw, since_raw = since_raw, None
        if kind.min_newest_first and min_raw is not None and since_raw is None:
            since_raw, min_raw = min_raw, None
        feed, keys = self._ordered(candidates)
        if kind.ids.exact:
            bounds = self._exact_bounds(feed, max_raw, since_raw, min_raw)
            if bounds is None:
                return []
            low, high = bounds
        else:
            given = {}
            for name, raw in (("max", max_raw), ("since", since_raw), ("min", min_raw)):
                key = kind.ids.key(raw) if raw is not None else None
                if raw is not None and key is None and kind.ids.name == "uuid7":
                    return None  # a typed parameter: not a UUID is a 400
                if key is not None and kind.max_age and key < pixelfed_floor():
                    return []  # Pixelfed: nothing older than six months is paged
                if key is not None:
                    given[name] = key
            high = bisect_left(keys, given["max"]) if "max" in given else len(feed)
            floor = given.get("min", given.get("since"))
            low = bisect_right(keys, floor) if floor is not None else 0
        if high <= low:
            return []
        gap_free = min_raw is not None
        chosen = (
            feed[low : min(high, low + limit)] if gap_free else feed[max(low, high - limit) : high]
        )
        return [(public, post) for _, public, post in reversed(chosen)]

    @staticmethod
    def _exact_bounds(
        feed: list[tuple[Any, str, Post]], max_raw: str | None, since_raw: str | None,
        min_raw: str | None,
    ) -> tuple[int, int] | None:  # fmt: skip
        """snac finds a paging id by walking its index for that exact id: one it does
        not hold gives nothing for max_id and min_id and is ignored for since_id."""
        where = {public: n for n, (_, public, _) in enumerate(feed)}
        high, low = len(feed), 0
        if max_raw is not None:
            if max_raw not in where:
                return None
            high = where[max_raw]
        for raw, required in ((min_raw, True), (since_raw, False)):
            if raw is not None and raw in where:
                low = where[raw] + 1
            elif raw is not None and required:
                return None
        return low, high
