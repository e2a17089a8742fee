"""``backchannel collect``: one collection pass, with a summary table per source."""

from __future__ import annotations

import threading
from typing import Any

import click

from backchannel.cli import App, pass_app
from backchannel.cli.table import render, terminal_width
from backchannel.cli.terminal import PROGRESS


def skipped_text(skipped: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items())) or "-"


def results_table(results: list[Any], max_width: int | None = None) -> str:
    """A row per source; why a source failed is told under the table (:func:`failures`)."""
    rows = [
        [
            r.event,
            r.platform,
            r.base_url,
            r.requests,
            r.new,
            r.updated,
            skipped_text(r.skipped),
            r.status,
            f"{r.seconds:.1f}s",
        ]
        for r in results
    ]
    headers = ["event", "platform", "source", "requests", "new", "updated", "skipped", "result",
               "time"]  # fmt: skip
    table = render(headers, rows, right=(3, 4, 5), max_width=max_width, shrink=6)
    # The reasons posts were skipped, cut to fit the terminal, are said whole below.
    from backchannel.collectors import host_of

    cut = [f"{host_of(r.base_url)} skipped {skipped_text(r.skipped)}" for r in results
           if r.skipped and skipped_text(r.skipped) not in table]  # fmt: skip
    return "\n".join([table, *cut])


def failures(results: list[Any], details: bool = False) -> str:
    """One short line per source that did not finish, named by its host (never cut: it
    says what to do); with ``details``, the long story under each (the library's own
    words, the tries)."""
    from backchannel.collectors import host_of

    lines = []
    for r in results:
        if r.status == "ok" or not r.error:
            continue
        host = host_of(r.base_url)
        line = r.error if r.error.startswith(host) else f"{host}: {r.error}"
        lines.append(line)
        if details and r.detail:
            lines.append(f"  {r.detail}")
    return "\n".join(lines)


def coverage_text(app: App, slug: str, failed: frozenset[str] = frozenset()) -> str:
    """What each source contributed, and the home servers that are not sources yet;
    ``failed``: the sources whose run failed (their zero is said in the failures)."""
    from backchannel.collect import event_coverage
    from backchannel.events import get_event

    with app.db.reading() as session:
        event = get_event(session, slug)
        coverage = event_coverage(session, event)
        tags = " ".join(f"#{tag}" for tag in event.hashtags)
    rows = [[c.server, c.posts, c.only_here] for c in coverage.sources]
    lines = [f"\ncoverage of {slug}:", render(["source", "posts", "only here"], rows, right=(1, 2))]
    # Never a silent zero: a source that answered and has served nothing says so.
    lines += [f"{c.server}: 0 posts: is {tags} used there?" for c in coverage.sources
              if not c.posts and c.server not in failed]  # fmt: skip
    if coverage.missing:
        lines.append(f"\nhome servers of {slug}'s posters that are not sources yet:")
        top = coverage.missing[:10]
        lines.append(render(["server", "posts"], [list(m) for m in top], right=(1,)))
        lines.append(f"add one with: backchannel event add-source {slug} --mastodon {top[0][0]}")
    return "\n".join(lines)


class _Ticker:
    """A one-line running count on stderr while a terminal watches (log lines go above
    it: :mod:`backchannel.cli.terminal`)."""

    def __init__(self) -> None:
        self.posts = 0
        self._lock = threading.Lock()

    def __call__(self, _source: Any, page: Any) -> None:
        with self._lock:
            self.posts += page.new + page.updated
            PROGRESS.show(f"collecting... {self.posts} new or updated posts")

    def done(self) -> None:
        PROGRESS.finish()


@click.command()
@click.argument("event_slug", metavar="[EVENT]", required=False)
@click.option("--source", "source_url", metavar="URL", help="Only this source's base URL.")
@click.option("--no-media", is_flag=True, help="Do not fetch media after collecting.")
@click.option("--wide", is_flag=True, help="Do not cut the table to the terminal; add details.")
@click.option("--budget", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop every source after this long in all (each also stops after "
                   "collect.source_budget); the next run goes on from there.")  # fmt: skip
@pass_app
def collect(
    app: App, event_slug: str | None, source_url: str | None, no_media: bool, wide: bool,
    budget: float | None,
) -> None:  # fmt: skip
    """Collect new posts for one event (or all) from each of its sources, once.

    Then fetches their media (images, avatars, emoji) unless --no-media; see
    `media fetch`. A source that runs out of time (collect.source_budget, or
    --budget for the whole run) is paused where it is, its pages saved, and the next
    run goes on from there. Exits non-zero if any source failed, after committing what
    the others got.

    \b
    Example:
      backchannel collect swrb13 --source https://mastodon.social
      backchannel collect swrb13 --budget 600
    """
    from backchannel.collect import collect as run_collect
    from backchannel.errors import InputError
    from backchannel.events import get_event

    if event_slug:
        with app.db.reading() as session:
            get_event(session, event_slug)  # a clear error for an unknown slug
    stop = threading.Event()
    ticker = _Ticker()
    try:
        results = run_collect(app.db, app.config, event_slug, source_url, stop, ticker,
                              budget=budget)  # fmt: skip
    except KeyboardInterrupt:
        stop.set()
        PROGRESS.clear()
        click.echo("stopped: every page collected so far is kept; the next `collect` goes on "
                   "from there", err=True)  # fmt: skip
        raise SystemExit(130) from None
    ticker.done()
    if not results:
        if event_slug and not source_url:
            raise InputError(
                f"{event_slug} has no sources: add one with `backchannel event add-source "
                f"{event_slug} --mastodon https://mastodon.social` (or --bluesky)"
            )
        raise InputError("nothing to collect: no matching event sources (see `event show`)")
    detailed = wide or app.verbose
    width = None if detailed else terminal_width()
    click.echo(results_table(results, width))
    if any(r.status != "ok" for r in results):
        click.echo("\n" + failures(results, details=detailed))
    failed = frozenset(r.base_url for r in results if r.status == "failed")
    for slug in dict.fromkeys(r.event for r in results):
        click.echo(coverage_text(app, slug, failed))
    if not no_media:
        from backchannel.cli.archiving import media_summary, run_media_fetch

        click.echo(media_summary(run_media_fetch(app, event_slug)))
    failed = [r for r in results if r.status not in ("ok", "paused")]  # paused: goes on next run
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(results)} source(s) did not finish")


def register(group: click.Group) -> None:
    group.add_command(collect)
