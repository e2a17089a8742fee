"""The first id of a moment, in each id scheme whose ids carry a post's own time.

A walk may start at such a *floor* ("the posts just above this id") only on a server
whose ids are made from the post's creation time and which compares them in order:
then the floor of the window's start skips everything older without reading it.
Elsewhere (ids made when a post is stored: Akkoma's FlakeIds, Pixelfed's and Takahē's
Snowflakes, Mitra's UUIDv7; ids that are a storage counter: Friendica; ids matched
only exactly: snac) a floor would start the walk in the wrong place or nowhere, and the
walk goes down from the newest post instead (:mod:`backchannel.collectors.mastodon.collector`).

Each floor is the lowest value of its scheme at that millisecond, written as the
server writes ids, so ``id > floor`` holds for every post made at or after it:

* **Mastodon Snowflake** (``lib/mastodon/snowflake.rb``): ``ms << 16`` plus 16
  sequence bits, decimal; the floor is one below ``ms << 16``.
* **ULID** (GoToSocial, ``internal/id/ulid.go``): 48 bits of ms then 80 random bits,
  26 characters of Crockford's base32, compared as text; the floor has zero randomness.
* **base36 time prefix** (Misskey's aid/aidx, ``misc/id/aidx.ts``; Iceshrimp.NET,
  ``IdHelpers.cs``): 8 characters of base36 of the ms since 2000-01-01, then random
  or counter characters, compared as text; the floor is the 8-character prefix
  (padded with ``0`` to the scheme's length), which sorts before every id of that
  millisecond.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
MISSKEY_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def snowflake_floor(when: datetime) -> int:
    """The smallest Mastodon Snowflake id of ``when`` (milliseconds << 16)."""
    return _ms(when) << 16


def ulid_floor(when: datetime) -> str:
    """The smallest ULID of ``when``: its 48-bit time and no randomness."""
    value = max(0, _ms(when)) << 80
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def base36_floor(when: datetime) -> str:
    """The 8-character time prefix of Misskey's aid/aidx and Iceshrimp.NET's ids."""
    ms = max(0, _ms(when) - _ms(MISSKEY_EPOCH))
    out = ""
    for _ in range(8):
        ms, digit = divmod(ms, 36)
        out = BASE36[digit] + out
    return out


Floor = Callable[[datetime], str]

# Servers whose ``since_id`` pages as ``min_id`` does (the posts just above it, not the
# newest): their re-scan goes up from its floor (GoToSocial's ``paging.EitherMinID``).
SINCE_IS_MIN = frozenset({"gotosocial"})

# The exclusive floor a walk may start from, by the software NodeInfo names (lower
# case). Software not named here has no floor: its walk goes down from the top.
FLOORS: dict[str, Floor] = {
    "mastodon": lambda when: str(snowflake_floor(when) - 1),
    "hometown": lambda when: str(snowflake_floor(when) - 1),
    "glitch-soc": lambda when: str(snowflake_floor(when) - 1),
    "gotosocial": ulid_floor,
    # Its ids are 16 characters (8 of time, 8 random): the floor is written as long,
    # so it compares with them as ids of one server do (length, then text).
    "iceshrimp.net": lambda when: base36_floor(when) + "0" * 8,
}


def floor_for(software: str | None) -> Floor | None:
    """The floor of ``software``'s ids; Mastodon's when nothing is known (a first run
    then checks that the server's ids do carry the time), None where they do not."""
    if not software:
        return FLOORS["mastodon"]
    return FLOORS.get(software.lower())
