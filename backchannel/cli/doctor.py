"""``backchannel doctor``: a checklist of the set-up, one verdict a line."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app


@click.command()
@click.argument("event_slug", metavar="[EVENT]", required=False)
@pass_app
def doctor(app: App, event_slug: str | None) -> None:
    """Check the set-up: config, database, contact, sources, search, folders, disk.

    Each source of EVENT (or of every event) is asked for the event's first hashtag
    through the real client, once and without retries. Exits 0 only when every line
    passes; a failing line says what to do.

    \b
    Example:
      backchannel doctor swrb13
    """
    from backchannel.collect import run_checks

    failed = total = 0
    for check in run_checks(app.config_path, event_slug):
        total += 1
        failed += not check.ok
        click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.subject}: {check.text}")
    if failed:
        raise click.ClickException(f"{failed} of {total} checks failed")
    click.echo(f"all {total} checks passed")


def register(group: click.Group) -> None:
    group.add_command(doctor)
