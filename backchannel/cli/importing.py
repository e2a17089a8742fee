"""``backchannel import``: files of old backchannels into an event, with a summary."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from backchannel.cli import App, pass_app
from backchannel.cli.collecting import skipped_text
from backchannel.cli.table import render, terminal_width
from backchannel.importers import FORMATS, join_story_pages


def results_table(results: list[Any], max_width: int | None = None) -> str:
    """A row per file; what could not be read is named under the table."""
    rows = [[r.file, r.format, r.read, r.imported, r.already, skipped_text(r.skipped),
             len(r.problems)] for r in results]  # fmt: skip
    headers = ["file", "format", "read", "imported", "already there", "skipped", "errors"]
    table = render(headers, rows, right=(2, 3, 4, 6), max_width=max_width, shrink=5)
    lines = [table]
    for r in results:
        if r.skipped and skipped_text(r.skipped) not in table:
            lines.append(f"{r.file} skipped {skipped_text(r.skipped)}")
        if r.story:
            lines.append(f"{r.file}: story {r.story} stored (`story export` shows it)")
        if r.consent:
            lines.append(f"{r.file}: {r.consent}")
        if r.forgotten:
            lines.append(f"{r.file}: {r.forgotten} post(s) forgotten: the file says they were "
                         "deleted")  # fmt: skip
        lines += [f"{r.file} {problem}" for problem in r.problems[:10]]
        if len(r.problems) > 10:
            lines.append(f"{r.file}: and {len(r.problems) - 10} more lines that could not be read")
    return "\n".join(lines)


@click.command("import")
@click.argument("event_slug", metavar="EVENT")
@click.argument("files", metavar="FILE...", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))  # fmt: skip
@click.option("--format", "file_format", type=click.Choice(["auto", *FORMATS]), default="auto",
              show_default=True, help="The files' format; auto: recognised from the content.")  # fmt: skip
@click.option("--no-media", is_flag=True, help="Do not fetch the posts' media after importing.")
@click.option("--wide", is_flag=True, help="Do not cut the table to the terminal.")
@pass_app
def import_command(
    app: App, event_slug: str, files: tuple[Path, ...], file_format: str, no_media: bool,
    wide: bool,
) -> None:  # fmt: skip
    """Import old posts from FILE... into EVENT.

    Reads Storify stories saved as JSON (the story is made too), twarc captures (JSON
    lines of Twitter API v1.1 tweets, or twarc2's API v2 pages, streamed or flattened
    tweets), TAGS sheets saved as CSV, Twitter archives (data/tweets.js, with
    account.js beside it), Mastodon archives (outbox.json, with actor.json beside it)
    and Bluesky repositories (.car): an archive's owner sent it, so their consent is
    recorded as an allow entry.
    Posts go through the event's consent rule (protected accounts are never imported;
    #nobot-style bios, the allow and deny lists and forgotten posts apply) and, but
    for a story's, must fall in the event's time and carry one of its hashtags.
    Importing a file again changes nothing; a broken or cut line is named and skipped.
    Then fetches the posts' media unless --no-media.

    \b
    Example:
      backchannel import swrb13 swrb13-day-one.json
      backchannel import swrb13 swrb13-2013.jsonl
      backchannel import swrb13 "TAGS - swrb13 - Archive.csv"
    """
    from backchannel.cli.archiving import ProgressBar
    from backchannel.collect import import_file
    from backchannel.errors import InputError
    from backchannel.events import get_event

    with app.db.reading() as session:
        get_event(session, event_slug)  # a clear error for an unknown slug
    results, failed = [], []
    with tempfile.TemporaryDirectory(prefix="backchannel-import-") as scratch:
        if file_format in ("auto", "storify") and len(files) > 1:
            files = tuple(join_story_pages(list(files), Path(scratch)))  # a story's pages
        for path in files:
            bar = ProgressBar(f"importing {path.name}")
            try:
                results.append(import_file(app.db, app.config, event_slug, path, file_format,
                                           bar))  # fmt: skip
            except InputError as exc:
                if len(files) == 1:
                    raise
                failed.append(str(exc))  # one unreadable file does not stop the others
            finally:
                bar.close()
    if results:
        click.echo(results_table(results, None if wide else terminal_width()))
    for message in failed:
        click.echo(f"error: {message}", err=True)
    if results and not no_media:
        from backchannel.cli.archiving import media_summary, run_media_fetch

        click.echo(media_summary(run_media_fetch(app, event_slug)))
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(files)} file(s) could not be imported")


def register(group: click.Group) -> None:
    group.add_command(import_command)
