"""``backchannel studio``: the curators' web application on this machine."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app


@click.command()
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="The port on 127.0.0.1.")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
@pass_app
def studio(app: App, port: int, no_browser: bool) -> None:
    """Browse the posts and build stories in the browser, on this machine only.

    Prints (and opens) an address holding a secret made at start; only that address
    signs a browser in. Every change to a story is saved at once as a new revision;
    `story export` and `story import` read and write the same stories.

    \b
    Example:
      backchannel studio --port 8765
    """
    from backchannel.studio import run_studio

    run_studio(app.db, port, open_browser=not no_browser, say=click.echo)


def register(group: click.Group) -> None:
    group.add_command(studio)
