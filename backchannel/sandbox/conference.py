"""The fictional conference behind the demo event, shared by both sandbox platforms.

No real organisation or person: every name here is made up. Times are local to
``TIMEZONE`` (not UTC, on purpose: exporters must show local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SLUG = "swrs26"
TITLE = "Southern Social Work Research Symposium 2026"
DESCRIPTION = (
    "Two days of research, practice and argument about social work in Aotearoa and "
    "beyond, held at the (fictional) Harbourview Convention Centre."
)
HASHTAGS = ("swrs26", "socialworkresearch")  # primary tag first; both are collected
TIMEZONE = "Pacific/Auckland"
FIRST_DAY = date(2026, 3, 12)
DAYS = 2
SEED = 20260312


@dataclass(frozen=True)
class Session:
    title: str
    starts_at: datetime  # aware, local time
    ends_at: datetime
    keynote: bool = False


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=day), time(hour, minute), ZoneInfo(TIMEZONE))


SESSIONS: tuple[Session, ...] = (
    Session(
        "Opening keynote: Relational practice in a data-hungry age", _at(0, 9), _at(0, 10, 15), True
    ),
    Session("Panel: Child protection and the algorithm", _at(0, 10, 45), _at(0, 12, 15)),
    Session("Paper session: Kaupapa Māori research methods", _at(0, 13, 15), _at(0, 14, 45)),
    Session("Workshop: Supervision that sustains", _at(0, 15, 15), _at(0, 16, 45)),
    Session("Keynote: Whānau-led decision making, ten years on", _at(1, 9), _at(1, 10, 15), True),
    Session("Paper session: Ageing, care and community", _at(1, 10, 45), _at(1, 12, 15)),
    Session("Panel: Ethics of social media in practice", _at(1, 13, 15), _at(1, 14, 45)),
    Session("Closing keynote: What we owe each other", _at(1, 15, 30), _at(1, 16, 30), True),
)

STARTS_AT = _at(0, 8, 30)
ENDS_AT = _at(1, 17, 30)
