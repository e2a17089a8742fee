"""Dates and times as the archive writes them: in the event's time zone and the
archive's locale (``[export] locale``), from the Unicode CLDR through Babel.

Every page writes a time one way (``14 November 2013, 09:30 NZDT`` in ``en_GB``,
``November 14, 2013, 9:30 AM NZDT`` in ``en_US``). Babel formats each distinct date
and each distinct minute of the clock once; a post's time is then put together from
those, since the exporter writes one for every post of every export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from backchannel.export.locale_names import DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class TimeView:
    utc: str  # "2013-11-13T20:30:00Z", for <time datetime>
    local: str  # "14 November 2013, 09:30 NZDT"
    clock: str  # "09:30"
    date: str  # "Thursday, 14 November 2013"
    day: str  # "2013-11-14" (local)
    zone: str  # "NZDT"


class Dates:
    """The archive's way of writing dates and times, for one zone and locale."""

    def __init__(self, zone: ZoneInfo, locale: str = DEFAULT_LOCALE) -> None:
        from babel import Locale

        self.zone = zone
        self.locale = Locale.parse(locale.replace("-", "_"))
        # "{1}, {0}": how the locale joins a date ({1}) and a time ({0}).
        joined = str(self.locale.datetime_formats["medium"])
        self._join = joined.replace("'", "")
        self._dates: dict[tuple[int, int, int], tuple[str, str, str]] = {}
        self._clocks: dict[tuple[int, int], str] = {}

    def _date(self, year: int, month: int, day: int) -> tuple[str, str, str]:
        """(long date, full date with the weekday, day and short month) of one day."""
        found = self._dates.get((year, month, day))
        if found is None:
            from babel.dates import format_date, format_skeleton

            moment = date(year, month, day)
            found = self._dates[year, month, day] = (
                format_date(moment, "long", locale=self.locale),
                format_date(moment, "full", locale=self.locale),
                format_skeleton("MMMd", moment, locale=self.locale),
            )
        return found

    def clock(self, hour: int, minute: int) -> str:
        """``09:30`` (``9:30 AM`` where the locale writes times so)."""
        found = self._clocks.get((hour, minute))
        if found is None:
            from babel.dates import format_time

            found = self._clocks[hour, minute] = format_time(
                time(hour, minute), "short", locale=self.locale
            )
        return found

    def time(self, moment: datetime) -> TimeView:
        local = moment.astimezone(self.zone)
        utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
        long, full, _ = self._date(local.year, local.month, local.day)
        clock = self.clock(local.hour, local.minute)
        abbreviation = local.tzname() or ""
        return TimeView(
            utc=utc_text(utc),
            local=self._local(long, clock, abbreviation),
            clock=clock,
            date=full,
            day=f"{local.year:04d}-{local.month:02d}-{local.day:02d}",
            zone=abbreviation,
        )

    def local(self, moment: datetime) -> str:
        """:attr:`TimeView.local` alone (the data files want only that, for every post)."""
        local = moment.astimezone(self.zone)
        long = self._date(local.year, local.month, local.day)[0]
        return self._local(long, self.clock(local.hour, local.minute), local.tzname() or "")

    def _local(self, long: str, clock: str, abbreviation: str) -> str:
        text = self._join.replace("{1}", long).replace("{0}", clock)
        return f"{text} {abbreviation}" if abbreviation else text

    def date(self, day: str) -> str:
        """``2013-11-14`` -> ``Thursday, 14 November 2013``."""
        moment = date.fromisoformat(day)
        return self._date(moment.year, moment.month, moment.day)[1]

    def long_date(self, day: str) -> str:
        """``2013-11-14`` -> ``14 November 2013``."""
        moment = date.fromisoformat(day)
        return self._date(moment.year, moment.month, moment.day)[0]

    def short_date(self, moment: datetime) -> str:
        """``14 Nov`` (``Nov 14`` in ``en_US``): a chart's axis."""
        local = moment.astimezone(self.zone)
        return self._date(local.year, local.month, local.day)[2]


def utc_text(utc: datetime) -> str:
    """``2013-11-13T20:30:00Z`` for a UTC time (whole seconds, as <time> wants)."""
    return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def date_text(day: str, locale: str = DEFAULT_LOCALE) -> str:
    """``2013-11-14`` -> ``Thursday, 14 November 2013`` (a day needs no zone)."""
    return Dates(ZoneInfo("UTC"), locale).date(day)


def long_date(day: str, locale: str = DEFAULT_LOCALE) -> str:
    """``2013-11-14`` -> ``14 November 2013`` (a citation's date)."""
    return Dates(ZoneInfo("UTC"), locale).long_date(day)
