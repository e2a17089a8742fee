"""``backchannel event add-source`` and ``event remove-source``: an event's sources,
each new one asked once as ``doctor`` asks it."""

from __future__ import annotations

import sys

import click

from backchannel.cli import App, pass_app


@click.command("add-source")
@click.argument("slug")
@click.option(
    "--mastodon", "mastodon", multiple=True, metavar="URL", help="A Mastodon server; repeat."
)
@click.option("--bluesky", is_flag=True, help="Bluesky, at the configured [bluesky] service.")
@click.option("--no-check", is_flag=True, help="Keep a server without asking it first.")
@pass_app
def add_source_command(
    app: App, slug: str, mastodon: tuple[str, ...], bluesky: bool, no_check: bool
) -> None:
    """Read an event's hashtags from more servers.

    Each Mastodon-API server is asked once, as `doctor` asks it, for the event's
    hashtag; one that does not answer as expected is kept only if you say so (on a
    terminal), or with --no-check.

    \b
    Example:
      backchannel event add-source swrb13 --mastodon https://aus.social
    """
    from backchannel.errors import InputError
    from backchannel.events import add_source, get_event, parse_source_url

    if not mastodon and not bluesky:
        raise InputError("name a source: --mastodon URL or --bluesky")
    app.db.check_integrity()  # a damaged file is refused before any server is asked
    with app.db.reading() as session:
        hashtag = get_event(session, slug).hashtags[0]
    if not no_check:
        mastodon = tuple(u for u in mastodon if _answers(app, slug, parse_source_url(u), hashtag))
    with app.db.writing() as session:
        found = get_event(session, slug)
        added = [add_source(session, found, "mastodon", url) for url in mastodon]
        if bluesky:
            added.append(add_source(session, found, "bluesky", app.config.bluesky.service))
        for source in added:
            click.echo(f"{slug}: added {source.platform} {source.base_url}")


@click.command("remove-source")
@click.argument("slug")
@click.argument("url")
@click.option("--delete-posts", is_flag=True,
              help="Also take the posts only this source saw out of the event.")  # fmt: skip
@pass_app
def remove_source_command(app: App, slug: str, url: str, delete_posts: bool) -> None:
    """Stop reading an event's hashtags from one source (URL, or "bluesky").

    The posts only that source saw stay in the event unless --delete-posts (then
    those no other event holds are deleted, with their media); the command says how
    many. Its cursors and run history go.

    \b
    Example:
      backchannel event remove-source swrb13 https://mastodon.socal
    """
    from backchannel.events import find_source, get_event, remove_source
    from backchannel.media import prune

    with app.db.writing() as session:
        found = get_event(session, slug)
        if url.strip().lower() == "bluesky":
            bluesky = [s for s in found.sources if s.platform == "bluesky"]
            url = bluesky[0].base_url if bluesky else url
        source = find_source(found, url)
        label = f"{source.platform} {source.base_url}"
        only_here, deleted = remove_source(session, found, source, delete_posts)
    click.echo(f"{slug}: removed {label}")
    if delete_posts:
        files = prune(app.db, app.config.media_dir) if deleted else 0
        click.echo(f"{only_here} post(s) only it had seen left the event; {deleted} that no "
                   f"other event held were deleted, with {files} media file(s)")  # fmt: skip
    elif only_here:
        click.echo(f"{only_here} post(s) only it had seen stay in the event (remove them "
                   f"with --delete-posts)")  # fmt: skip


def _answers(app: App, slug: str, url: str, hashtag: str) -> bool:
    """Whether to keep ``url``: it answers as doctor expects, or the person says so."""
    from backchannel.collect import probe_server
    from backchannel.errors import InputError

    check = probe_server(app.config, slug, "mastodon", url, hashtag)
    if check.ok:
        click.echo(f"{url}: {check.text}")
        return True
    problem = f"{url}: {check.text}"
    if sys.stdin.isatty():
        return click.confirm(f"{problem}. Keep it anyway?", default=False)
    raise InputError(f"{problem} (check the address; --no-check keeps it anyway)")


def register(group: click.Group) -> None:
    """The commands join the ``event`` group (``backchannel.cli.events``)."""
    from backchannel.cli.events import event

    event.add_command(add_source_command)
    event.add_command(remove_source_command)
