"""The Mastodon collector's cursor and how it compares ids (see
:mod:`backchannel.collectors.mastodon.collector` for what each field means to a walk)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.collectors.base import Window
from backchannel.collectors.id_schemes import FLOORS, Floor
from backchannel.collectors.mastodon.normalize import parse_datetime

log = logging.getLogger(__name__)

CURSOR_VERSION = 1


def id_key(native_id: str) -> tuple[int, str]:
    """Sort key for ids: numeric Snowflakes by value; opaque strings by length, then text."""
    return (len(native_id.lstrip("0")), native_id.lstrip("0"))


def highest_id(ids: list[str]) -> str:
    return max(ids, key=id_key)


def recent_within(moment: datetime | None, within: timedelta) -> bool:
    return moment is not None and datetime.now(UTC) - moment < within


def lowest_id(ids: list[str]) -> str:
    return min(ids, key=id_key)


@dataclass
class Cursor:
    start_id: str
    min_id: str
    newest_at: datetime | None = None
    rescan_since: str | None = None
    rescan_done_until: str | None = None
    rescan_done_at: datetime | None = None
    top_down: bool = False  # the server ignores min_id: every run walks down from the top
    top_id: str | None = None  # the newest id the last complete top-down walk met
    top_at: datetime | None = None  # and when that post was made

    @classmethod
    def load(
        cls, raw: dict[str, Any] | None, window: Window, floor: Floor | None = FLOORS["mastodon"]
    ) -> Cursor:
        """``floor``: the server's ids of a moment (:mod:`~backchannel.collectors.id_schemes`);
        None: they do not carry the time, and a first run walks down from the newest post."""
        down = floor is None
        # ``min_id`` is exclusive: below the window's first possible id.
        start_id = (floor or FLOORS["mastodon"])(window.start)
        fresh = cls(start_id=start_id, min_id=start_id, top_down=down)
        if not raw or raw.get("v") != CURSOR_VERSION or not raw.get("min_id"):
            return fresh
        if id_key(start_id) < id_key(str(raw.get("start_id") or start_id)):
            log.info("the window now starts earlier than the cursor's; walking from its start")
            return fresh
        newest = raw.get("newest_at")
        done_at = raw.get("rescan_done_at")
        return cls(
            start_id=start_id,
            min_id=max(str(raw["min_id"]), start_id, key=id_key),
            newest_at=parse_datetime(newest) if newest else None,
            rescan_since=raw.get("rescan_since") or None,
            rescan_done_until=raw.get("rescan_done_until") or None,
            rescan_done_at=parse_datetime(done_at) if done_at else None,
            top_down=bool(raw.get("top_down")),
            top_id=raw.get("top_id") or None,
            top_at=parse_datetime(raw["top_at"]) if raw.get("top_at") else None,
        )

    def dump(self) -> dict[str, Any]:
        return {
            "v": CURSOR_VERSION,
            "start_id": self.start_id,
            "min_id": self.min_id,
            "newest_at": self.newest_at.isoformat() if self.newest_at else None,
            "rescan_since": self.rescan_since,
            "rescan_done_until": self.rescan_done_until,
            "rescan_done_at": self.rescan_done_at.isoformat() if self.rescan_done_at else None,
            "top_down": self.top_down,
            "top_id": self.top_id,
            "top_at": self.top_at.isoformat() if self.top_at else None,
        }
