"""``backchannel init``, ``backchannel db upgrade|current|check|backup`` and
``backchannel config example``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from backchannel.cli import App, pass_app


@click.command()
@click.option("-y", "--yes", is_flag=True, help="Ask nothing: take the flags and defaults.")
@click.option("--contact", help="A web page or email where server admins can reach you.")
@click.option("--database", default=None, help="SQLite file beside the config, or a URL.")
@click.option("--event", "slug", help="Also register this event (with the flags below).")
@click.option("--title", help="The event's title.")
@click.option("--hashtag", "hashtags", multiple=True, help="The event's hashtag; repeat.")
@click.option("--start", help="The event's first day (YYYY-MM-DD, its time zone).")
@click.option("--end", help="The event's last day (default: the first).")
@click.option("--timezone", help="IANA time zone name (default: this machine's).")
@click.option("--mastodon", "servers", multiple=True, metavar="URL", help="A server; repeat.")
@click.option("--bluesky-handle", help="Read Bluesky too, logged in as this handle.")
@click.option(
    "--bluesky-password-env",
    default=None,
    help="Environment variable that will hold the app password (never the password).",
)
@pass_app
def init(app: App, yes: bool, **flags: Any) -> None:
    """Set up: write config.toml (asking a few questions) and create the database.

    Where no config file exists, init asks for your contact (sent to servers and shown
    on the archive's About page), where the database lives and the first event, then
    writes a commented config.toml beside you and registers the event. --yes takes the
    same answers from the flags, for scripts. Where the config exists, init creates its
    database at the current schema.

    \b
    Example:
      backchannel init
      backchannel init --yes --contact https://swrb.example/about --event swrb13 \\
          --title "SWRB 2013" --hashtag swrb13 --start 2013-11-14 --end 2013-11-15 \\
          --timezone Pacific/Auckland --mastodon https://mastodon.social
    """
    from backchannel.cli.setup import guided_setup
    from backchannel.config import config_path

    path, _named = config_path(app.config_path)
    if not path.exists():
        guided_setup(app, path, yes, flags)
        return
    created = app.raw_db.init()
    where = app.raw_db.display_url
    click.echo(f"created {where}" if created else f"{where} is already up to date")


@click.group()
def db() -> None:
    """The database: upgrade its schema, show its revision, check it, back it up.

    \b
    Example:
      backchannel db upgrade
    """


@db.command()
@pass_app
def upgrade(app: App) -> None:
    """Migrate the database to this version's schema (SQLite is backed up first).

    \b
    Example:
      backchannel db upgrade
    """
    before, after, backup = app.raw_db.upgrade()
    if before == after:
        click.echo(f"already at revision {after}")
        return
    if backup is not None:
        click.echo(f"backed up to {backup}")
    click.echo(f"upgraded from {before or 'an empty schema'} to {after}")


@db.command()
@pass_app
def current(app: App) -> None:
    """Show the database's schema revision and whether it is up to date.

    \b
    Example:
      backchannel db current
    """
    from backchannel.store import head_revision

    revision = app.raw_db.current_revision()
    head = head_revision()
    if revision is None:
        click.echo(f"not initialised: run `backchannel init` (head is {head})")
        return
    state = "up to date" if revision == head else f"out of date (head is {head})"
    click.echo(f"{revision}: {state}")


@db.command("check")
@pass_app
def check(app: App) -> None:
    """Check a SQLite database file page by page (PRAGMA integrity_check).

    Every write pass (collect, recheck, media fetch, run, ...) makes the quicker check
    first and refuses a damaged file; this one lists what is wrong. PostgreSQL checks
    its own pages.

    \b
    Example:
      backchannel db check
    """
    problems = app.raw_db.check_integrity(full=True)
    if problems and problems[0].startswith("the file "):
        raise click.ClickException(
            f"{app.raw_db.display_url}: {problems[0]} (`backchannel init` makes one; or point "
            "database.url at yours)"
        )
    for problem in problems[:20]:
        click.echo(problem)
    if problems:
        raise click.ClickException(
            f"{app.raw_db.display_url} is damaged ({len(problems)} finding(s)): restore a "
            "copy (`db upgrade` leaves one beside the file as <name>.<revision>.<time>.bak)"
        )
    click.echo(f"{app.raw_db.display_url}: ok")


@db.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, target: Path) -> None:
    """Copy the SQLite database to TARGET, consistent even while a collection writes.

    The copy is checked and lands whole or not at all. To restore, stop `backchannel
    run`, then put the copy where database.url points (and remove the -wal and -shm
    files beside it). PostgreSQL: use pg_dump and pg_restore.

    \b
    Example:
      backchannel db backup backups/swrb13-2026-12-07.db
    """
    app.raw_db.check_integrity()  # never copy a damaged file as if it were a backup
    made = app.raw_db.backup(target)
    click.echo(f"backed up {app.raw_db.display_url} to {made} "
               f"({made.stat().st_size / 1_048_576:.1f} MB)")  # fmt: skip


@click.group("config")
def config_group() -> None:
    """The configuration file.

    \b
    Example:
      backchannel config example > config.example.toml
    """


@config_group.command("example")
def config_example() -> None:
    """Print every configuration key with its default and what it does.

    \b
    Example:
      backchannel config example | less
    """
    from backchannel.resources import example_config

    click.echo(example_config().read_text(encoding="utf-8"), nl=False)


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(db)
    group.add_command(config_group)
