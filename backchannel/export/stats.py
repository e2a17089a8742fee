"""Numbers about an event, from the export's index (so consent applies to them too)."""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from backchannel.export.charts import Chart, horizontal_bars, vertical_bars
from backchannel.export.context import platform_label
from backchannel.export.conversations import reply_pairs
from backchannel.export.locale_names import DEFAULT_LOCALE, language_name
from backchannel.export.selection import EventIndex, IndexedPost
from backchannel.sanitize import safe_url


@dataclass(frozen=True, slots=True)
class Contributor:
    author_id: int
    posts: int
    first_href: str  # the author's first post in the archive


@dataclass(frozen=True, slots=True)
class LinkCount:
    url: str
    host: str
    posts: int
    first_href: str


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    platform: str
    platform_label: str
    base_url: str
    posts: int  # published posts this source served (a post can come from several)
    discovered: bool


# The counts come from the index's columns (numbers counted in C), not from a pass
# that makes a post object for every post: an export after a few new posts makes
# these pages again, and that pass was most of their cost.


def _named_counts(index: EventIndex, column: array[int]) -> Counter[str | None]:
    """The posts counted by a column of name codes (platform, language)."""
    names = index.columns.names
    counted: Counter[str | None] = Counter()
    for code, number in Counter(column).items():
        counted[names[code]] += number
    return counted


def platform_counts(index: EventIndex) -> list[tuple[str, int]]:
    counts = _named_counts(index, index.columns.platforms)
    return [
        (platform_label(k or ""), v)
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    ]


def contributors(index: EventIndex) -> list[Contributor]:
    columns = index.columns
    counts: Counter[int] = Counter(columns.authors)
    first_row: dict[int, int] = {}
    for row, author in enumerate(columns.authors):
        if author not in first_row:
            first_row[author] = row
    # The href costs a digest: only for each author's first post.
    first = {a: IndexedPost(columns, row).href for a, row in first_row.items()}
    handle = {a: index.authors[a].handle.casefold() for a in counts}
    # Ties go by handle, then by the first post (not by row id, which depends on the
    # order a collection happened to store them in: two archives would differ).
    ordered = sorted(counts, key=lambda a: (-counts[a], handle[a], first[a]))
    return [Contributor(a, counts[a], first[a]) for a in ordered]


def top_tags(index: EventIndex, limit: int = 10) -> list[tuple[str, int]]:
    own = set(index.event.hashtags or [])
    sets = index.columns.sets
    counts: Counter[str] = Counter()
    for code, number in Counter(index.columns.tag_sets).items():
        for tag in sets[code]:
            if tag not in own:
                counts[tag] += number
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def link_counts(index: EventIndex) -> list[LinkCount]:
    columns = index.columns
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for row, code in enumerate(columns.link_sets):
        if not code:
            continue
        for url in columns.sets[code]:
            if safe_url(url) is None:
                continue  # only http(s) links are ever written into a page
            counts[url] += 1
            if url not in first:
                first[url] = IndexedPost(columns, row).href
    ordered = sorted(counts, key=lambda u: (-counts[u], u))
    return [LinkCount(u, urlsplit(u).hostname or u, counts[u], first[u]) for u in ordered]


def coverage(index: EventIndex) -> list[SourceCoverage]:
    return [
        SourceCoverage(
            s.platform,
            platform_label(s.platform),
            s.base_url,
            index.sightings.get(s.base_url, 0),
            s.discovered,
        )  # fmt: skip
        for s in sorted(index.event.sources, key=lambda s: (s.platform, s.base_url))
    ]


def language_counts(index: EventIndex, locale: str = DEFAULT_LOCALE) -> list[tuple[str, int]]:
    """Posts by language, the languages named in ``locale`` ("Māori", not ``mi``)."""
    counts: Counter[str] = Counter()
    for code, number in _named_counts(index, index.columns.languages).items():
        counts[(code or "").lower()] += number
    named = [(language_name(code, locale) if code else "Not said", n) for code, n in counts.items()]
    return sorted(named, key=lambda kv: (-kv[1], kv[0]))


def hourly(index: EventIndex) -> list[tuple[datetime, int]]:
    """Posts per local hour, from the first post's hour to the last's, gaps as zero."""
    if not index.posts:
        return []
    # Posts counted per UTC quarter hour first (a number, cheap), then each quarter
    # put in its local hour: zone offsets are whole quarter hours, so a quarter lies in
    # one local hour; one that does not (an old local mean time) is done post by post.
    zone = index.zone
    quarters = Counter(micro // 900_000_000 for micro in index.columns.created)
    counts: Counter[datetime] = Counter()
    for quarter, number in quarters.items():
        first, last = (_local_hour(quarter * 900 + s, zone) for s in (0, 899))
        if first == last and first.utcoffset() == last.utcoffset():
            counts[first] += number
            continue
        for post in index.posts:
            if int(post.created_at.timestamp() // 900) == quarter:
                local = post.created_at.astimezone(zone)
                counts[local.replace(minute=0, second=0, microsecond=0)] += 1
    hours = []
    moment = min(counts).astimezone(index.zone)
    last = max(counts)
    while moment <= last:
        hours.append((moment, counts.get(moment, 0)))
        # Step in UTC so a daylight-saving change neither repeats nor skips an hour.
        moment = (moment + timedelta(hours=1)).astimezone(index.zone)
        moment = moment.replace(minute=0, second=0, microsecond=0)
    return hours


def _local_hour(timestamp: int, zone: ZoneInfo) -> datetime:
    local = datetime.fromtimestamp(timestamp, UTC).astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0)


def charts(index: EventIndex, locale: str = DEFAULT_LOCALE) -> list[Chart]:
    hours = hourly(index)
    # The hours written as every time of the archive is ("14 November 2013, 09:00 NZDT").
    data = [(index.dates.local(h), n) for h, n in hours]
    ticks = [(i, index.dates.short_date(h)) for i, (h, _) in enumerate(hours) if h.hour == 0]
    if hours and hours[0][0].hour != 0:
        first = hours[0][0]
        ticks.insert(0, (0, f"{index.dates.short_date(first)} {index.dates.clock(first.hour, 0)}"))
    return [
        vertical_bars("posts-per-hour", "Posts per hour", data, ticks, "Hour"),
        horizontal_bars("platforms", "Posts by platform", platform_counts(index), "Platform"),
        horizontal_bars(
            "languages", "Posts by language", language_counts(index, locale), "Language"
        ),
        horizontal_bars(
            "replied-to",
            "Who replied to whom most",
            reply_pairs(index),
            "Who replied to whom",
            "Replies",
        ),  # fmt: skip
    ]
