"""The export service: database in, static site out. Reads only; writes files only.

:func:`export_site` renders the chosen events (all by default) one at a time, each
day by day, so memory holds one event's light index and one page of posts, never the
archive. Events not asked for keep the files a previous export wrote for them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.consent import Policy
from backchannel.errors import ExportError
from backchannel.events import get_event, list_events
from backchannel.export import (
    about,
    data,
    feeds,
    gallery,
    kept_index,
    kept_keys,
    pages,
    people,
    robots,
    search,
    session_pages,
    thread_pages,
    timeline,
    unchanged,
    wall,
)
from backchannel.export.context import Views
from backchannel.export.dates import utc_text
from backchannel.export.environment import Theme, load_theme
from backchannel.export.media import MediaResolver
from backchannel.export.options import EventView, ExportOptions, SiteView
from backchannel.export.sections import Sectioner
from backchannel.export.selection import EventIndex, KeyColumn, candidate_posts
from backchannel.export.writer import SiteWriter, WriteStats
from backchannel.store import Database, Event, Media, change_count

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (posts done, posts in all)
RESERVED = {"assets", "media", "pagefind"}


@dataclass
class ExportResult:
    out: Path
    events: list[str] = field(default_factory=list)
    posts: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    stats: WriteStats = field(default_factory=WriteStats)
    searched: bool = False


def export_site(
    database: Database,
    options: ExportOptions,
    events: Sequence[str] = (),
    progress: Progress | None = None,
) -> ExportResult:
    """Export ``events`` (slugs; all when empty) into ``options.out``."""
    theme = load_theme(options.templates_dir)
    writer = SiteWriter(options.out)
    resolver = MediaResolver(writer, options.media_dir)
    result = ExportResult(out=options.out)
    brand = options.branding
    # The look is the theme's and the organiser's: a new accent or logo renders every page.
    theme = replace(theme, fingerprint=f"{theme.fingerprint}|{brand.fingerprint}")
    site = SiteView(options.title, options.base_url, options.contact,
                    robots.robots_meta(options.allow_indexing), robots.CSP,
                    options.allow_indexing, options.locale, brand.stylesheet() is not None,
                    brand.logo_view(), brand.accent)  # fmt: skip
    searching: search.SearchBuild | None = None
    pending: kept_index.Pending = {}  # the events' kept indexes and keys
    try:
        with database.reading() as session:
            chosen = [get_event(session, s) for s in dict.fromkeys(events)] or list_events(session)
            for event in chosen:
                if event.slug in RESERVED or event.slug.startswith("."):
                    raise ExportError(f"an event slug cannot be {event.slug!r} in a site")
            total = sum(_count(session, e) for e in chosen)
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, total)

            # Events exported before and not asked for now keep their files as they are.
            carried: dict[str, EventView] = {}
            existing = {e.slug for e in list_events(session)}
            chosen_slugs = {e.slug for e in chosen}
            for name in writer.previous_units():
                slug = name.split("/", 1)[0]
                if name.endswith("/summary") and slug in existing and slug not in chosen_slugs:
                    writer.carry_over(f"{slug}/")
                    carried[slug] = _summary_view(writer.previous_unit_data(name) or {})
            summaries: dict[str, EventView] = {}
            searching = search.SearchBuild(writer) if options.search else None
            if searching is not None:
                for slug in carried:
                    searching.carry_over(slug)

            def index_ready(index: EventIndex) -> None:
                # The posts are paginated: Pagefind can index them while they are rendered.
                if searching is not None:
                    searching.add_event(session, index)

            # Read before any post: a change committed after this is seen by the next export.
            count = change_count(session)
            search_version = searching.version if searching is not None else ""
            for event in chosen:
                stamp = unchanged.event_stamp(count, event.slug, theme.fingerprint, options,
                                              search_version)  # fmt: skip
                kept = unchanged.keep_event(writer, event.slug, stamp)
                if kept is not None:
                    summaries[event.slug] = _summary_view(kept.summary)
                    if searching is not None:
                        searching.carry_over(event.slug)
                    result.posts += kept.posts
                    for reason, n in kept.excluded.items():
                        result.excluded[reason] = result.excluded.get(reason, 0) + n
                    advance(kept.posts)
                else:
                    summaries[event.slug] = _export_event(
                        session, event, theme, writer, resolver, options, site, advance, result,
                        index_ready, stamp, pending,
                    )  # fmt: skip
                result.events.append(event.slug)
            summaries.update(carried)
            _write_common(theme, writer, site, summaries, options)
        if searching is not None:
            result.searched = searching.finish()
        result.stats = writer.finish()
        kept_index.write_kept(pending)  # after the site: a failed export changes nothing
    except BaseException:
        # Nothing of this export replaced the previous site yet (see SiteWriter).
        kept_index.discard_kept(pending)
        if searching is not None:
            searching.close()
        writer.abort()
        raise
    return result


def _summary_view(summary: dict[str, Any]) -> EventView:
    """An event's summary as the previous export recorded it."""
    stories = tuple(tuple(story) for story in summary.get("stories") or ())
    return EventView(**dict(summary, hashtags=tuple(summary.get("hashtags") or ()),
                            stories=stories))  # fmt: skip


def _count(session: Session, event: Event) -> int:
    query = candidate_posts(event.id).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def _event_view(index: EventIndex) -> EventView:
    event = index.event
    last = event.ends_at
    local_end = last.astimezone(index.zone)
    if (local_end.hour, local_end.minute, local_end.second) == (0, 0, 0):
        last = last - timedelta(seconds=1)
    return EventView(
        slug=event.slug,
        title=event.title,
        description=event.description or "",
        hashtags=tuple(event.hashtags or ()),
        timezone=event.timezone,
        starts=index.dates.time(event.starts_at).date,
        ends=index.dates.time(last).date,
        starts_utc=utc_text(event.starts_at),
        ends_utc=utc_text(event.ends_at),
        posts=len(index.posts),
        href=f"{event.slug}/index.html",
    )


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pages_fingerprint(
    event_fp: str, index: EventIndex, keys: KeyColumn, days: list[Any], stories: list[Any]
) -> str:
    """Everything the event's other pages (overview, timeline, people, links, statistics,
    media, stories, search) are made from: each post's key and what the aggregates read
    of it, the links, sightings, sources, what was left out, the days and every column
    of the stories and their items. Equal: those pages are kept as they are."""
    # From the columns, not post by post (a pass over every post was a twentieth of
    # an export after a few new posts); names, not the codes a patched index gives.
    columns = index.columns
    digest = hashlib.sha256(keys.digests)
    digest.update(columns.counts.tobytes())
    digest.update(columns.flags.tobytes())  # sensitive, content warning (and more)
    names = columns.names
    for name in ("pages", "platforms", "languages"):
        digest.update(repr([names[code] for code in getattr(columns, name)]).encode())
    digest.update(repr([(row, columns.sets[code]) for row, code in enumerate(columns.link_sets)
                        if code]).encode())  # fmt: skip
    for mapping in (columns.replies, columns.quotes):
        digest.update(repr(sorted(mapping.items())).encode())
    sources = sorted((s.platform, s.base_url, s.discovered) for s in index.event.sources)
    told = [[(c.name, getattr(row, c.name)) for c in row.__table__.columns]
            for story in stories for row in (story, *story.items)]  # fmt: skip
    return _fingerprint(event_fp, digest.hexdigest(), sorted(index.sightings.items()), sources,
                        index.excluded, days, told)  # fmt: skip


def _media_state(session: Session) -> list[Any]:
    """Changes when stored emoji change (they can appear in any post)."""
    row = session.execute(
        select(func.count(), func.max(Media.id)).where(
            Media.kind == "emoji", Media.fetch_state == "done"
        )
    ).one()
    return list(row)


def _export_event(
    session: Session,
    event: Event,
    theme: Theme,
    writer: SiteWriter,
    resolver: MediaResolver,
    options: ExportOptions,
    site: SiteView,
    advance: Callable[[int], None],
    result: ExportResult,
    index_ready: Callable[[EventIndex], None],
    stamp: str | None,
    pending: kept_index.Pending,
) -> EventView:
    index, patch, mark = kept_index.event_index(
        session, event, options.out, options.allow_bots, options.default_opt_in,
        options.locale, pending,
    )  # fmt: skip
    for reason, count in index.excluded.items():
        result.excluded[reason] = result.excluded.get(reason, 0) + count
    result.posts += len(index.posts)
    sectioner = Sectioner(index)
    chunks = timeline.paginate(index, options.posts_per_page, sectioner)
    days = timeline.day_links(index)
    index_ready(index)
    view = _event_view(index)
    base = {"site": site, "event": view, "root": "../"}
    views = Views(session, index, resolver)
    event_fp = _fingerprint(
        theme.fingerprint, options.title, options.base_url, options.contact,
        options.allow_indexing, str(options.media_dir), replace(view, posts=0), options.locale,
        _media_state(session), event.schedule,
    )  # fmt: skip
    day_fps = []
    post_keys = timeline.PostKeys(event_fp, index)
    keys = kept_keys.keys_for(post_keys, index, options.out, patch, mark, pending)
    del post_keys  # its per-author parts: not needed once every key is made
    fragments: timeline.Fragments | None = None
    for position, day in enumerate(days):
        posts = chunks[day.day]
        fingerprint = timeline.day_fingerprint(event_fp, days, position, posts, keys)
        day_fps.append(fingerprint)
        name = f"{event.slug}/day/{day.day}"
        if writer.keep_unit(name, fingerprint):
            advance(day.posts)
            continue
        if fragments is None:
            fragments = timeline.Fragments(writer, event.slug)
        with writer.unit(name, fingerprint) as unit:
            # Post headings sit under the day's section headings (h2).
            day_base = dict(base, page_kind="day", heading_level=3)
            places = timeline.render_day(theme, writer, views, day_base, days, position, posts,
                                         advance, keys, fragments, sectioner)  # fmt: skip
            unit.data = {"posts": places}
    stories = pages.load_stories(session, index)
    pages_fp = _pages_fingerprint(event_fp, index, keys, days, stories)
    if not writer.keep_unit(f"{event.slug}/pages", pages_fp):
        with writer.unit(f"{event.slug}/pages", pages_fp):
            pages.write_event_pages(session, theme, writer, views, index, base, days, stories)
    gallery.write_gallery(theme, writer, views, index, base, event_fp, keys)
    people.write_people_pages(session, theme, writer, views, index, base, event_fp, keys)
    thread_pages.write_thread_pages(session, theme, writer, views, index, base, event_fp, keys)
    session_pages.write_session_pages(session, theme, writer, views, index, base, event_fp, keys,
                                      sectioner)  # fmt: skip
    if options.wall:
        wall.write_wall(theme, writer, views, index, base, event_fp)
    with writer.unit(f"{event.slug}/about", event_fp):
        about.write_event_about(session, theme, writer, index, base)
    # The counts as the column's bytes: a list of a tuple a post was a tenth of the peak.
    counts = hashlib.sha256(index.columns.counts.tobytes()).hexdigest()
    data_fp = _fingerprint(event_fp, day_fps, counts, options.base_url)
    if not writer.keep_unit(f"{event.slug}/data", data_fp):
        previous = writer.previous_unit_data(f"{event.slug}/data")
        with writer.unit(f"{event.slug}/data", data_fp) as unit:
            _, spans = data.write_data(session, writer, index, event.slug, keys, previous)
            unit.data = {"chunks": spans}
            writer.write(
                f"{event.slug}/feed.atom",
                feeds.build_feed(index, views, event.slug, options.title, options.base_url),
            )
    view = replace(view, stories=tuple(
        (link.title, f"{event.slug}/{link.href}") for link in pages.story_links(stories)
    ))  # fmt: skip
    with writer.unit(f"{event.slug}/summary", event_fp) as unit:
        unit.data = {k: getattr(view, k) for k in view.__slots__}
        unit.data["hashtags"] = list(view.hashtags)
        unit.data["stories"] = [list(story) for story in view.stories]
    unchanged.record(writer, event.slug, stamp, len(index.posts), index.excluded)
    log.info("exported %s: %d posts on %d days", event.slug, len(index.posts), len(days))
    return view


def _write_common(
    theme: Theme,
    writer: SiteWriter,
    site: SiteView,
    summaries: dict[str, EventView],
    options: ExportOptions,
) -> None:
    with writer.unit("site", theme.fingerprint):
        events = sorted(summaries.values(), key=lambda e: (e.starts_utc, e.slug), reverse=True)
        writer.write("index.html", theme.get("home.html").render(site=site, events=events,
                                                                 root="", event=None))  # fmt: skip
        writer.write("robots.txt", robots.robots_txt(options.allow_indexing))
        default = Policy(opt_in=options.default_opt_in, allow_bots=options.allow_bots)
        about.write_site_about(theme, writer, site, events, default)
        for name, path in theme.static_files().items():
            writer.write(f"assets/{name}", path.read_bytes())
        stylesheet = options.branding.stylesheet()
        if stylesheet is not None:
            writer.write("assets/brand.css", stylesheet)
        if options.branding.logo is not None:
            writer.write(options.branding.logo.name, options.branding.logo.data)
