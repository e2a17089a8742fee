"""``backchannel export``: write the static archive."""

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


def register(group: click.Group) -> None:
    group.add_command(export_command)
