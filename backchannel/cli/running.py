"""``backchannel run`` (the scheduler) and ``backchannel status``."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from types import FrameType
from typing import Any

import click

from backchannel.cli import App, pass_app
from backchannel.cli.table import render


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    if abs(seconds) < 1:
        return f"{stamp} (now)"
    if seconds > 0:
        return f"{stamp} (in {_span(seconds)})"
    return f"{stamp} ({_span(-seconds)} ago)"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _rate(rate_limit: dict[str, Any] | None) -> str:
    if not rate_limit:
        return "-"
    remaining, limit = rate_limit.get("remaining", "?"), rate_limit.get("limit", "?")
    return f"{remaining}/{limit} left"


@click.command("run")
@pass_app
def run_command(app: App) -> None:
    """Collect on a schedule until stopped: each event's sources every few minutes
    during its window and margins, then hourly for some days, then no more; media
    after each collection; rechecks on their own cadence ([schedule] in the config).

    With [export] live = true each collection re-exports the changed pages and the
    event's wall.html. SIGTERM or Ctrl-C finishes the page in hand and exits. Only
    one `run` may use a database at a time; `collect` beside it is safe.

    \b
    Example:
      backchannel --verbose run
    """
    from backchannel.collect import Scheduler

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"{signal.Signals(signum).name}: finishing the page in hand...", err=True)
        stop.set()

    def report(slug: str, text: str) -> None:
        click.echo(f"{datetime.now():%H:%M:%S} {slug}: {text}")

    scheduler = Scheduler(app.db, app.config, stop, report)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.run(lambda: click.echo(f"scheduler running on {app.db.display_url}; "
                                         "Ctrl-C or SIGTERM stops it"))  # fmt: skip
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo("stopped")


@click.command("status")
@click.argument("event_slug", metavar="[EVENT]", required=False)
@pass_app
def status_command(app: App, event_slug: str | None) -> None:
    """Show per source the last run and its result, the next run, totals, the
    rate-limit state and the last error; per event the media backlog and the posts
    waiting for a recheck; and whether `backchannel run` is running.

    \b
    Example:
      backchannel status swrb13
    """
    from backchannel.collect import status

    app.raw_db.check_integrity()  # a damaged file: say so, not a table of what is left
    with app.db.reading() as session:
        report = status(session, app.config, event_slug)
    now = report.now
    if report.scheduler:
        click.echo(f"scheduler: running ({report.scheduler.describe(now)})")
    else:
        click.echo("scheduler: not running (start it with `backchannel run`)")
    if not report.events:
        click.echo("no events yet: `backchannel event add`")
    for event in report.events:
        click.echo(f"\n{event.slug}: {event.title} ({event.phase})")
        rows = [
            [
                s.platform,
                s.base_url,
                s.software,
                _when(s.last_started, now),
                _last_result(s),
                _when(s.next_run, now) if s.next_run else "none (schedule ended)",
                s.runs,
                s.requests,
                s.new,
                _rate(s.rate_limit),
            ]
            for s in event.sources
        ]
        headers = ["platform", "source", "software", "last run", "result", "next run", "runs",
                   "requests", "new", "rate limit"]  # fmt: skip
        click.echo(render(headers, rows, right=(6, 7, 8)))
        for s in event.sources:
            if event.phase != "before" and s.runs and not s.new and s.last_status == "ok":
                click.echo(f"suspicious: {s.base_url} has served no post in {s.runs} run(s) "
                           "of the window: is the hashtag used there, and is it the right "
                           "server? (`backchannel doctor`)")  # fmt: skip
            if s.last_skipped:
                counts = ", ".join(f"{why} {n}" for why, n in sorted(s.last_skipped.items()))
                click.echo(f"skipped by {s.base_url} in its last run: {counts}")
            if s.last_unreadable:
                click.echo(f"unreadable posts from {s.base_url} (ids): "
                           f"{' '.join(s.last_unreadable)}")  # fmt: skip
            if s.last_error:
                click.echo(f"last error of {s.base_url} ({_when(s.last_error_at, now)}): "
                           f"{s.last_error}")  # fmt: skip
        click.echo(f"media backlog: {event.media_backlog}")
        recheck = _when(event.next_recheck, now) if event.next_recheck else "none (ended)"
        click.echo(f"pending rechecks: {event.pending_rechecks}; next recheck: {recheck}")


def _last_result(source: Any) -> str:
    if source.last_status is None:
        return "never collected"
    return f"{source.last_status}: {source.last_new} new, {source.last_updated} updated"


def register(group: click.Group) -> None:
    group.add_command(run_command)
    group.add_command(status_command)
