"""Each id scheme's floor against the scheme's definition: the floor of a moment sorts
below every id made at or after it and above every id made before it, compared as
that software compares its ids. The ids here are made by the sandbox
(sandbox/server_kinds.py) and by hand from each project's definition, not by the
code under test."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from backchannel.collectors import FLOORS, floor_for
from backchannel.collectors.id_schemes import base36_floor, ulid_floor
from backchannel.collectors.mastodon.cursor import id_key
from backchannel.sandbox.server_kinds import ulid

MOMENT = datetime(2026, 9, 1, tzinfo=UTC)
MS = int(MOMENT.timestamp() * 1000)


def _base36(n: int, width: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(width):
        n, d = divmod(n, 36)
        out = digits[d] + out
    return out


def _snowflake(ms: int, seq: int) -> str:  # lib/mastodon/snowflake.rb
    return str((ms << 16) | seq)


def _iceshrimp(ms: int, noise: int) -> str:  # IdHelpers.cs: ms since 2000, base36, + 8
    return _base36(ms - 946684800000, 8) + _base36(noise, 8)


@pytest.mark.parametrize(
    ("software", "make"),
    [("mastodon", lambda ms, r: _snowflake(ms, r & 0xFFFF)),
     ("gotosocial", lambda ms, r: ulid(ms, r & ((1 << 80) - 1))),
     ("iceshrimp.net", _iceshrimp)],
)  # fmt: skip
def test_a_floor_sorts_between_the_ids_before_and_after_its_moment(
    software: str, make: Callable[[int, int], str]
) -> None:
    floor = FLOORS[software](MOMENT)
    chance = random.Random(7)
    for _ in range(200):
        noise = chance.getrandbits(80)
        at_or_after = make(MS + chance.choice([0, 0, 1, 1000, 86_400_000]), noise)
        before = make(MS - chance.choice([1, 2, 1000, 86_400_000]), noise)
        assert id_key(before) < id_key(floor) < id_key(at_or_after), (before, floor, at_or_after)
    assert id_key(floor) < id_key(make(MS, 0)) or floor == make(MS, 0)


def test_the_floors_are_the_documented_values() -> None:
    # Worked out by hand in the reference (fediverse-servers.md, A12.3).
    assert FLOORS["mastodon"](MOMENT) == str(117192838348800000 - 1)
    assert ulid_floor(MOMENT) == "01M1D47Z000000000000000000"
    assert base36_floor(MOMENT) == "aqlgt1c0"
    assert FLOORS["iceshrimp.net"](MOMENT) == "aqlgt1c000000000"
    assert base36_floor(MOMENT + timedelta(milliseconds=1)) > base36_floor(MOMENT)


def test_software_without_a_floor_walks_from_the_top() -> None:
    for software in ("akkoma", "pleroma", "pixelfed", "friendica", "mitra", "snac", "takahe"):
        assert floor_for(software) is None, software
    assert floor_for(None) is FLOORS["mastodon"]  # tried, then checked
    assert floor_for("GoToSocial") is FLOORS["gotosocial"]
