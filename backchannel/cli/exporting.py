"""``backchannel export``: write the static archive; ``backchannel serve``: look at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from backchannel.cli import App, pass_app


@click.command("export")
@click.argument("events", nargs=-1, metavar="[EVENT]...")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Site folder (default: [archive] site_dir of the config).",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A theme folder, searched before the packaged theme.",
)
@click.option("--base-url", metavar="URL", help="Where the site will be published.")
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
@pass_app
def export_command(
    app: App,
    events: tuple[str, ...],
    out: Path | None,
    templates: Path | None,
    base_url: str | None,
    no_search: bool,
) -> None:
    """Export events (all by default) as a static site that needs no server.

    Unchanged files are left untouched, so exporting again is quick; files from an
    earlier export that are no longer produced (a post hidden or forgotten) are
    removed. Nothing the exporter did not write is ever deleted.

    \b
    Example:
      backchannel export swrb13 --out ./site --base-url https://example.org/swrb13/
    """
    from dataclasses import replace

    from backchannel.export import ExportOptions, export_site

    options = ExportOptions.from_config(app.config, out, templates, base_url)
    if no_search:
        options = replace(options, search=False)
    for line in options.missing():
        click.echo(f"warning: {line}", err=True)
    with click.progressbar(length=1, label="exporting", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        result: Any = export_site(app.db, options, events, progress)
    stats = result.stats
    excluded = sum(result.excluded.values())
    click.echo(
        f"exported {', '.join(result.events) or 'no events'} to {result.out}: "
        f"{result.posts} posts ({excluded} left out); {stats.written} files written, "
        f"{stats.unchanged} unchanged, {stats.removed} removed"
    )


@click.command("serve")
@click.argument("site", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The port on 127.0.0.1 (0: any free one).")  # fmt: skip
@pass_app
def serve_command(app: App, site: Path | None, port: int) -> None:
    """Serve an exported archive on 127.0.0.1 until Ctrl-C (search works over HTTP).

    Read-only, with the archive's Content Security Policy; SITE defaults to the
    config's [archive] site_dir. To publish, upload the folder to any static host.

    \b
    Example:
      backchannel serve ./site --port 8000
    """
    from backchannel.export import serve_site

    folder = site if site is not None else app.config.site_dir  # the database is not opened
    serve_site(folder.resolve(), "127.0.0.1", port or free_port(), click.echo)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def register(group: click.Group) -> None:
    group.add_command(export_command)
    group.add_command(serve_command)
