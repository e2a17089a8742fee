"""``backchannel init`` and ``backchannel db upgrade|current``."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the database at the current schema.

    \b
    Example:
      cp config.example.toml config.toml && backchannel init
    """
    created = app.raw_db.init()
    where = app.raw_db.display_url
    click.echo(f"created {where}" if created else f"{where} is already up to date")


@click.group()
def db() -> None:
    """Database schema: upgrade it, or show its revision.

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


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(db)
