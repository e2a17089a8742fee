"""``backchannel event add|edit|add-source|list|show|remove``."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from backchannel.cli import App, pass_app
from backchannel.cli.table import render

LONG_WINDOW_DAYS = 60  # longer needs --yes: most often a year typed wrong


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def event() -> None:
    """Register events and the servers their hashtags are read from.

    \b
    Example:
      backchannel event list
    """


@event.command("add")
@click.argument("slug")
@click.option("--title", required=True, help="The event's name.")
@click.option("--hashtag", "hashtags", multiple=True, required=True, help="Repeat for more.")
@click.option("--start", required=True, help="Date or time in the event's time zone.")
@click.option("--end", required=True, help="Date (whole day) or time in the event's zone.")
@click.option("--timezone", "timezone", required=True, help="IANA name, e.g. Pacific/Auckland.")
@click.option("--description", default="", help="A sentence or two about the event.")
@click.option(
    "--margin-before", default="1d", show_default=True, help="Collect from this long before."
)
@click.option(
    "--margin-after", default="1d", show_default=True, help="Collect until this long after."
)
@click.option(
    "--mastodon", "mastodon", multiple=True, metavar="URL", help="A Mastodon server; repeat."
)
@click.option("--bluesky", is_flag=True, help="Also collect from Bluesky ([bluesky] service).")
@click.option(
    "--policy",
    type=click.Choice(["opt-out", "opt-in"]),
    default="opt-out",
    show_default=True,
    help="opt-in archives only authors on the allow list.",
)
@click.option("--discover", is_flag=True, help="Add the busiest unlisted home servers as sources.")
@click.option("--yes", is_flag=True, help=f"Allow a window over {LONG_WINDOW_DAYS} days.")
@pass_app
def add(
    app: App,
    slug: str,
    title: str,
    hashtags: tuple[str, ...],
    start: str,
    end: str,
    timezone: str,
    description: str,
    margin_before: str,
    margin_after: str,
    mastodon: tuple[str, ...],
    bluesky: bool,
    policy: str,
    discover: bool,
    yes: bool,
) -> None:
    """Register an event, its hashtags, its time window and its sources.

    A window over 60 days (a typo in a year, often) needs --yes: a collection reads
    every post of the window from every source.

    \b
    Example:
      backchannel event add swrb13 --title "SWRB conference 2013" --hashtag swrb13 \\
          --start 2013-11-14 --end 2013-11-15 --timezone Pacific/Auckland \\
          --mastodon https://mastodon.social --mastodon https://scholar.social --bluesky
    """
    from backchannel.events import EventSpec, create_event

    spec = EventSpec(
        slug=slug,
        title=title,
        hashtags=hashtags,
        start=start,
        end=end,
        timezone=timezone,
        description=description,
        margin_before=margin_before,
        margin_after=margin_after,
        mastodon=mastodon,
        bluesky=app.config.bluesky.service if bluesky else None,
        policy=policy,
        discover=discover,
    )
    with app.db.writing() as session:
        created = create_event(session, spec)
        _check_long(created, yes)
        click.echo(
            f"registered {created.slug}: {created.title}, "
            f"#{' #'.join(created.hashtags)}, {len(created.sources)} source(s)"
        )
        if not created.sources:
            click.echo(no_sources_hint(created.slug), err=True)


def _check_long(created: Any, yes: bool) -> None:
    """Refuse (or, on a terminal, ask about) a window over LONG_WINDOW_DAYS days."""
    from backchannel.errors import InputError

    days = (created.ends_at - created.starts_at).total_seconds() / 86400
    if days <= LONG_WINDOW_DAYS or yes:
        return
    zone = ZoneInfo(created.timezone)
    first = created.starts_at.astimezone(zone)
    last = (created.ends_at - timedelta(seconds=1)).astimezone(zone)  # the end is exclusive
    question = (f"{created.slug}'s window is {days:,.0f} days long ({first:%Y-%m-%d} to "
                f"{last:%Y-%m-%d}): every post of it is read from every source")  # fmt: skip
    if sys.stdin.isatty() and click.confirm(question + ". Keep it?", default=False):
        return
    raise InputError(question + "; check the dates, or add --yes if that is right")


def no_sources_hint(slug: str) -> str:
    return (
        f"warning: {slug} has no sources yet, so `collect` has nothing to read: add one with "
        f"`backchannel event add-source {slug} --mastodon https://mastodon.social` (or --bluesky)"
    )


@event.command("edit")
@click.argument("slug")
@click.option("--title", help="A new name.")
@click.option("--description", help="A new description.")
@click.option(
    "--hashtag", "hashtags", multiple=True, help="Repeat; replaces all the hashtags (first: main)."
)
@click.option("--start", help="Date or time in the event's time zone.")
@click.option("--end", help="Date (whole day) or time in the event's zone.")
@click.option(
    "--timezone", "timezone", help="IANA name; alone, it keeps the wall-clock times typed."
)
@click.option("--margin-before", help="Collect from this long before, e.g. 1d.")
@click.option("--margin-after", help="Collect until this long after, e.g. 6h.")
@click.option("--policy", type=click.Choice(["opt-out", "opt-in"]), help="The consent policy.")
@click.option("--bluesky-service", metavar="URL", help="Read Bluesky through this service.")
@pass_app
def edit(
    app: App,
    slug: str,
    title: str | None,
    description: str | None,
    hashtags: tuple[str, ...],
    start: str | None,
    end: str | None,
    timezone: str | None,
    margin_before: str | None,
    margin_after: str | None,
    policy: str | None,
    bluesky_service: str | None,
) -> None:
    """Change an event's title, hashtags, window, time zone, margins, policy or the
    Bluesky service it reads through.

    Only the options given change, each checked as `event add` checks it. Posts
    already collected stay; the command says how many now fall outside.

    \b
    Example:
      backchannel event edit swrb13 --hashtag swrb13 --hashtag swrb2013 --end 2013-11-16
    """
    from backchannel.event_edits import FIELD_NAMES, EventChanges, edit_event
    from backchannel.events import get_event, set_bluesky_service

    changes = EventChanges(
        title=title,
        description=description,
        hashtags=hashtags or None,
        start=start,
        end=end,
        timezone=timezone,
        margin_before=margin_before,
        margin_after=margin_after,
        policy=policy,
    )
    if changes == EventChanges() and bluesky_service is None:
        from backchannel.errors import InputError

        raise InputError("nothing to change: give at least one option (see --help)")
    with app.db.writing() as session:
        found = get_event(session, slug)
        moved = bluesky_service is not None and set_bluesky_service(session, found,
                                                                    bluesky_service)  # fmt: skip
        result = edit_event(session, found, changes)
    if moved:
        click.echo(f"{slug}: Bluesky is now read through {bluesky_service}")
    if not result.changed:
        if not moved:
            click.echo(f"{slug}: nothing changed (the values given are the ones it has)")
        return
    click.echo(f"{slug}: changed {', '.join(FIELD_NAMES[name] for name in result.changed)}")
    if result.outside:
        click.echo(
            f"note: {result.outside} post(s) already collected are outside the window or "
            f"carry none of the hashtags now; they stay in the archive until hidden "
            f"(`backchannel post hide`) or the event is widened again",
            err=True,
        )
    if result.reread:
        click.echo("note: the next collection reads the window again for the posts passed over")


@event.command("list")
@pass_app
def list_command(app: App) -> None:
    """List the registered events.

    \b
    Example:
      backchannel event list
    """
    from backchannel.events import list_events, post_counts

    with app.db.reading() as session:
        rows = []
        for found in list_events(session):
            counts = post_counts(session, found)
            rows.append(
                [
                    found.slug,
                    found.title,
                    _local(found.starts_at, found.timezone)[:10],
                    " ".join(f"#{t}" for t in found.hashtags),
                    len(found.sources),
                    sum(counts.values()),
                ]
            )
    if not rows:
        click.echo("no events yet: add one with `backchannel event add`")
        return
    click.echo(
        render(["slug", "title", "starts", "hashtags", "sources", "posts"], rows, right=(4, 5))
    )


@event.command("show")
@click.argument("slug")
@pass_app
def show(app: App, slug: str) -> None:
    """Show an event: its window in local time and UTC, sources and counts.

    \b
    Example:
      backchannel event show swrb13
    """
    from backchannel.events import collection_window, get_event, post_counts

    with app.db.reading() as session:
        found = get_event(session, slug)
        window = collection_window(found)
        counts = post_counts(session, found)
        zone = found.timezone
        lines = [
            f"{found.slug}: {found.title}",
            *([found.description] if found.description else []),
            f"hashtags:  {' '.join('#' + t for t in found.hashtags)}",
            f"time zone: {zone}",
            f"event:     {_local(found.starts_at, zone)} -> {_local(found.ends_at, zone)}",
            f"           {_utc(found.starts_at)} -> {_utc(found.ends_at)}",
            f"collected: {_local(window.start, zone)} -> {_local(window.end, zone)}",
            f"           {_utc(window.start)} -> {_utc(window.end)}",
            f"policy:    {found.policy}{', discovers sources' if found.discover else ''}",
            f"posts:     {sum(counts.values())}"
            + (f" ({', '.join(f'{p} {n}' for p, n in sorted(counts.items()))})" if counts else ""),
            "sources:",
        ]
        rows = [
            [s.platform, s.base_url, s.software_label, "discovered" if s.discovered else ""]
            for s in found.sources
        ]
    click.echo("\n".join(lines))
    click.echo(render(["platform", "url", "software", ""], rows) if rows
               else "  none yet: `event add-source`")  # fmt: skip


@event.command("remove")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def remove(app: App, slug: str, yes: bool) -> None:
    """Delete an event, with the posts and authors no other event holds.

    \b
    Example:
      backchannel event remove swrb13 --yes
    """
    from backchannel.events import get_event, remove_event
    from backchannel.media import prune

    if not yes:
        click.confirm(f"Delete the event {slug} and the posts only it holds?", abort=True)
    with app.db.writing() as session:
        deleted = remove_event(session, get_event(session, slug))
    files = prune(app.db, app.config.media_dir)  # the media only those posts used
    click.echo(f"removed {slug}, {deleted} post(s) no other event held and {files} media file(s)")


def register(group: click.Group) -> None:
    group.add_command(event)
