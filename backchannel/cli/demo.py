"""``backchannel demo``: the whole pipeline offline, on the loopback sandbox."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from backchannel.cli import App, pass_app
from backchannel.cli.collecting import results_table


def _serve(site: Path) -> None:
    from backchannel.cli.exporting import free_port
    from backchannel.export import serve_site

    serve_site(site.resolve(), "127.0.0.1", free_port(), click.echo)


@click.command()
@click.option(
    "--out",
    "out",
    default="demo-site",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Where to write the demo archive.",
)
@click.option(
    "--data",
    "data",
    default="demo-data",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Throwaway folder for the demo's config, database and media.",
)
@click.option("--serve", is_flag=True, help="Serve the archive on 127.0.0.1 until Ctrl-C.")
@click.option("--studio", is_flag=True,
              help="Then run the studio on the demo's data until Ctrl-C.")  # fmt: skip
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="The studio's port, with --studio.")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="With --studio: print its address only.")
@pass_app
def demo(app: App, out: Path, data: Path, serve: bool, studio: bool, port: int,
         no_browser: bool) -> None:  # fmt: skip
    """Run the whole pipeline offline on a generated conference.

    Starts loopback Mastodon, GoToSocial, Misskey and Bluesky servers on 127.0.0.1,
    registers a generated two-day conference, collects it twice (late posts, edits and
    deletions arrive in between) and exports the static archive, all through the real
    services.

    \b
    Example:
      backchannel demo --out demo-site --serve
      backchannel demo --studio
    """
    from backchannel.sandbox import run_demo

    started = time.monotonic()

    def report(step: str, results: list[Any] | None) -> None:
        click.echo(f"== {step}")
        if results is not None:
            click.echo(results_table(results))
            per_platform: dict[str, int] = {}
            for r in results:
                per_platform[r.platform] = per_platform.get(r.platform, 0) + r.new
            click.echo(
                "   new posts: " + ", ".join(f"{p} {n}" for p, n in sorted(per_platform.items()))
            )

    result = run_demo(data, out, report)
    failed = [r for p in result.passes for r in p if r.status != "ok"]
    click.echo(f"== done in {time.monotonic() - started:.0f}s")
    click.echo(
        f"   database and config: {result.data_dir}/ (try: backchannel --config "
        f"{result.config_path} event show swrs26)"
    )
    click.echo(f"   archive: open {result.site_dir.resolve() / 'index.html'}")
    if not serve:
        click.echo("   search needs the site served over http: backchannel demo --serve")
    if failed:
        raise click.ClickException(f"{len(failed)} source(s) failed during the demo")
    if studio:
        from backchannel.config import load_config
        from backchannel.store import Database
        from backchannel.studio import run_studio

        config = load_config(result.config_path)
        db = Database(config.database_url)
        try:
            run_studio(db, port, open_browser=not no_browser, say=click.echo, config=config)
        finally:
            db.dispose()
    elif serve:
        _serve(result.site_dir)


def register(group: click.Group) -> None:
    group.add_command(demo)
