"""Posts per hour: counted per UTC quarter hour, then placed in local hours."""

from __future__ import annotations

import random
from array import array
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backchannel.export.stats import hourly

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _post_by_post(posts: list[Any], zone: ZoneInfo) -> list[tuple[str, int]]:
    """What hourly() did before it counted quarter hours: each post's local hour."""
    counts: Counter[datetime] = Counter()
    for post in posts:
        counts[post.created_at.astimezone(zone).replace(minute=0, second=0, microsecond=0)] += 1
    hours = []
    moment = min(counts).astimezone(zone)
    while moment <= max(counts):
        hours.append((moment.isoformat(), counts.get(moment, 0)))
        moment = (moment + timedelta(hours=1)).astimezone(zone)
        moment = moment.replace(minute=0, second=0, microsecond=0)
    return hours


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/London", datetime(2024, 10, 27, 0, tzinfo=UTC)),  # an hour repeated
        ("Pacific/Auckland", datetime(2024, 9, 28, 12, tzinfo=UTC)),  # an hour skipped
        ("Asia/Kathmandu", datetime(2024, 4, 6, 14, tzinfo=UTC)),  # +05:45
        ("Europe/Amsterdam", datetime(1930, 5, 1, tzinfo=UTC)),  # +00:20 local mean time
        ("Africa/Monrovia", datetime(1971, 1, 1, tzinfo=UTC)),  # -00:44:30
    ],
)
def test_hourly_matches_counting_post_by_post(zone: str, start: datetime) -> None:
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    moments = sorted(start + timedelta(seconds=rng.uniform(0, 2 * 86400)) for _ in range(2000))
    # The index's column of times (microseconds since 1970), and its posts.
    created = array("q", ((m - EPOCH) // timedelta(microseconds=1) for m in moments))
    index = SimpleNamespace(posts=[SimpleNamespace(created_at=m) for m in moments], zone=tz,
                            columns=SimpleNamespace(created=created))  # fmt: skip
    hours = hourly(index)  # type: ignore[arg-type]
    assert [(h.isoformat(), n) for h, n in hours] == _post_by_post(index.posts, tz)
    assert sum(n for _, n in hours) == len(moments)
