"""Dates and times in the archive's locale (CLDR through Babel), one format everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from backchannel.export.dates import Dates, date_text, long_date

AUCKLAND = ZoneInfo("Pacific/Auckland")
MOMENT = datetime(2013, 11, 13, 20, 30, tzinfo=UTC)  # 09:30 NZDT on the 14th


@pytest.mark.parametrize(
    ("locale", "local", "date", "axis"),
    [
        ("en_GB", "14 November 2013, 09:30 NZDT", "Thursday, 14 November 2013", "14 Nov"),
        ("en_US", "November 14, 2013, 9:30\u202fAM NZDT", "Thursday, November 14, 2013", "Nov 14"),
        ("de", "14. November 2013, 09:30 NZDT", "Donnerstag, 14. November 2013", "14. Nov."),
        ("mi_NZ", "14 Noema 2013 9:30 AM NZDT", "Tāite, 14 Noema 2013", "14 Noe"),
    ],
)
def test_a_time_is_written_in_the_locale(locale: str, local: str, date: str, axis: str) -> None:
    dates = Dates(AUCKLAND, locale)
    view = dates.time(MOMENT)
    assert view.local.replace("\u202f", " ") == local.replace("\u202f", " ")
    assert dates.local(MOMENT) == view.local
    assert view.date == date == dates.date("2013-11-14")
    assert (view.utc, view.day, view.zone) == ("2013-11-13T20:30:00Z", "2013-11-14", "NZDT")
    assert dates.short_date(MOMENT) == axis


def test_the_zone_decides_the_day_and_the_summer_time() -> None:
    winter = Dates(AUCKLAND).time(datetime(2013, 6, 30, 23, 0, tzinfo=UTC))
    assert (winter.local, winter.day) == ("1 July 2013, 11:00 NZST", "2013-07-01")


def test_helpers_without_an_archive_use_the_default_locale() -> None:
    assert date_text("2013-11-14") == "Thursday, 14 November 2013"
    assert date_text("2013-11-14", "fr") == "jeudi 14 novembre 2013"
    assert long_date("2013-11-14") == "14 November 2013"
