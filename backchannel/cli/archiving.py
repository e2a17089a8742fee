"""``backchannel media fetch`` and ``backchannel recheck``: keeping an archive whole."""

from __future__ import annotations

import sys
import threading
from typing import Any

import click

from backchannel.cli import App, pass_app


class ProgressBar:
    """A click progress bar on stderr, made when the first count (and total) arrives."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None
        self._shown = 0

    def __call__(self, done: int, total: int) -> None:
        if total <= 0:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def media_summary(result: Any) -> str:
    line = (
        f"media: {result.due} due, {result.fetched} stored ({result.reused} reused), "
        f"{result.failed} to retry, {result.refused} refused, {result.gone} gone; "
        f"{result.requests} requests, {result.bytes:,} bytes"
    )
    if result.errors:
        top = sorted(result.errors.items(), key=lambda item: (-item[1], item[0]))[:5]
        line += "\n  " + "\n  ".join(f"{n} x {error}" for error, n in top)
    if result.interrupted:
        line += "\n  interrupted: run it again to continue"
    return line


def run_media_fetch(app: App, event_slug: str | None, retry_failed: bool = False) -> Any:
    """Fetch media with a progress bar; used by `media fetch` and `collect`."""
    from backchannel.media import fetch_media

    stop = threading.Event()
    bar = ProgressBar("fetching media")
    try:
        return fetch_media(app.db, app.config, event_slug, bar, stop, retry_failed=retry_failed)
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        bar.close()


@click.group()
def media() -> None:
    """Local copies of images, avatars, custom emoji and video stills.

    \b
    Example:
      backchannel media fetch swrb13
    """


@media.command("fetch")
@click.argument("event_slug", metavar="[EVENT]", required=False)
@click.option(
    "--retry",
    "retry_failed",
    is_flag=True,
    help="Also retry failed and refused files now (after raising media.max_bytes, say).",
)
@pass_app
def media_fetch(app: App, event_slug: str | None, retry_failed: bool) -> None:
    """Download the media of one event (or all) into the content-addressed store.

    Files are stored once by their SHA-256 under archive.media_dir; failures are
    recorded and retried on later runs; files gone for good (404/410) keep their
    description and show a placeholder in the archive. `collect` runs this too.

    \b
    Example:
      backchannel media fetch swrb13
      backchannel media fetch --retry
    """
    result = run_media_fetch(app, event_slug, retry_failed)
    click.echo(media_summary(result))


@click.command()
@click.argument("event_slug", metavar="[EVENT]", required=False)
@click.option(
    "--since",
    "since_days",
    type=click.FloatRange(min=0, min_open=True),
    metavar="DAYS",
    help="Only posts created in the last DAYS days.",
)
@pass_app
def recheck(app: App, event_slug: str | None, since_days: float | None) -> None:
    """Ask the sources again about archived posts: apply edits, remove deletions.

    Mastodon servers are asked 20 posts a request (one by one where a server lacks
    the batch check), Bluesky 25 a request. A post deleted at its source is removed
    with its local media; the next export drops it. Exits non-zero if a source failed.

    \b
    Example:
      backchannel recheck swrb13 --since 7
    """
    from backchannel.collect import recheck as run_recheck

    stop = threading.Event()
    try:
        result = run_recheck(app.db, app.config, event_slug, since_days, stop)
    except KeyboardInterrupt:
        stop.set()
        raise
    click.echo(
        f"rechecked {result.posts} posts: {result.unchanged} unchanged, {result.edited} edited, "
        f"{result.deleted} deleted, {result.unknown} unknown; {result.requests} requests in "
        f"{result.batches} batches; {result.media_files_removed} media files removed"
    )
    if result.errors:
        raise click.ClickException("; ".join(result.errors))


def register(group: click.Group) -> None:
    group.add_command(media)
    group.add_command(recheck)
