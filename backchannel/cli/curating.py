"""``backchannel story draft|import|export|list|remove``, ``post hide|unhide|feature|
unfeature|show`` and ``event schedule``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from backchannel.cli import App, pass_app
from backchannel.cli.table import render

if TYPE_CHECKING:
    from backchannel.curation import PostState


@click.group()
def story() -> None:
    """Storyboards: draft, edit in any text editor, import, export.

    \b
    Example:
      backchannel story draft swrb13 --top 40 > day-one.md
      backchannel story import day-one.md
    """


@story.command("draft")
@click.argument("event")
@click.option("--top", type=int, metavar="N", help="The N posts with most replies, boosts, likes.")
@click.option("--from", "start", metavar="TIME", help="Posts from this local time on.")
@click.option("--to", "end", metavar="TIME", help="Posts until this local time.")
@click.option("--author", metavar="HANDLE", help="Only this author's posts.")
@click.option("--tag", metavar="TAG", help="Only posts with this hashtag.")
@click.option("--featured", is_flag=True, help="Only featured posts.")
@click.option("--slug", default="story", show_default=True, help="The slug in the front matter.")
@pass_app
def draft(app: App, event: str, top: int | None, start: str | None, end: str | None,
          author: str | None, tag: str | None, featured: bool, slug: str) -> None:  # fmt: skip
    """Print a starting storyboard: posts in time order under day and hour headings.

    Under the event's sessions instead of hours once `event schedule` gave them.

    \b
    Example:
      backchannel story draft swrb13 --from "2013-11-14 09:00" --to "2013-11-14 12:00" \\
          --slug morning > morning.md
    """
    from backchannel.curation import DraftOptions, draft_story

    options = DraftOptions(top, start, end, author, tag, featured, slug)
    with app.db.reading() as session:
        text = draft_story(session, event, options)
    click.echo(text, nl=False)


@story.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def import_command(app: App, file: Path) -> None:
    """Check a storyboard file and store it; the same slug again replaces the story.

    Nothing is stored unless the whole file is right.

    \b
    Example:
      backchannel story import day-one.md
    """
    from backchannel.curation import import_story
    from backchannel.errors import InputError

    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from None
    with app.db.writing() as session:
        result = import_story(session, source, str(file))
        verb = "replaced" if result.replaced else "imported"
        click.echo(f"{verb} {result.story.slug}: {result.story.title} "
                   f"({len(result.story.items)} items, {result.posts} posts)")  # fmt: skip


@story.command("export")
@click.argument("event")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")  # fmt: skip
@pass_app
def export_command(app: App, event: str, slug: str, output: Path | None) -> None:
    """Write a stored storyboard back as a file (import it again after editing).

    \b
    Example:
      backchannel story export swrb13 day-one -o day-one.md
    """
    from backchannel.curation import export_story

    with app.db.reading() as session:
        text = export_story(session, event, slug)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@story.command("list")
@click.argument("event")
@pass_app
def list_command(app: App, event: str) -> None:
    """List an event's storyboards.

    \b
    Example:
      backchannel story list swrb13
    """
    from backchannel.curation import list_stories, summary

    with app.db.reading() as session:
        rows = [summary(s) for s in list_stories(session, event)]
    if not rows:
        click.echo(f"no storyboards in {event} yet: `backchannel story draft {event}`")
        return
    table = [[r["slug"], r["title"], r["curator"], r["headings"], r["posts"],
              r["updated"].strftime("%Y-%m-%d %H:%M UTC")] for r in rows]  # fmt: skip
    click.echo(render(["slug", "title", "curator", "headings", "posts", "updated"], table,
                      right=(3, 4)))  # fmt: skip


@story.command("remove")
@click.argument("event")
@click.argument("slug")
@pass_app
def remove_command(app: App, event: str, slug: str) -> None:
    """Delete a storyboard (its posts stay in the archive).

    \b
    Example:
      backchannel story remove swrb13 day-one
    """
    from backchannel.curation import remove_story

    with app.db.writing() as session:
        remove_story(session, event, slug)
    click.echo(f"removed the storyboard {slug} from {event}")


@click.group()
def post() -> None:
    """Hide, feature and look up archived posts, by any of their addresses.

    \b
    Example:
      backchannel post show https://mastodon.social/@ana/111
    """


_event_option = click.option("--event", metavar="SLUG", help="Only in this event (default: all).")


def _report(states: list[PostState]) -> None:
    for state in states:
        reason = f" ({state.reason})" if state.reason else ""
        click.echo(f"{state.event}: {state.post.uri} {state.state}{reason}")


@post.command("hide")
@click.argument("url")
@click.option("--reason", required=True, help="Why (kept for the record, never published).")
@_event_option
@pass_app
def hide(app: App, url: str, reason: str, event: str | None) -> None:
    """Leave a post out of the exported timeline, statistics, data files and search.

    \b
    Example:
      backchannel post hide https://mastodon.social/@ana/111 --reason "posted by mistake"
    """
    from backchannel.curation import set_state

    with app.db.writing() as session:
        _report(set_state(session, url, "hidden", reason, event))


@post.command("unhide")
@click.argument("url")
@_event_option
@pass_app
def unhide(app: App, url: str, event: str | None) -> None:
    """Put a hidden (or featured) post back in the archive as an ordinary post.

    \b
    Example:
      backchannel post unhide https://mastodon.social/@ana/111
    """
    from backchannel.curation import set_state

    with app.db.writing() as session:
        _report(set_state(session, url, "included", None, event))


@post.command("feature")
@click.argument("url")
@_event_option
@pass_app
def feature(app: App, url: str, event: str | None) -> None:
    """Highlight a post on the event's overview page.

    \b
    Example:
      backchannel post feature at://did:plc:abc/app.bsky.feed.post/3l4abc
    """
    from backchannel.curation import set_state

    with app.db.writing() as session:
        _report(set_state(session, url, "featured", None, event))


@post.command("unfeature")
@click.argument("url")
@_event_option
@pass_app
def unfeature(app: App, url: str, event: str | None) -> None:
    """Stop highlighting a post (same as unhide).

    \b
    Example:
      backchannel post unfeature https://bsky.app/profile/ana.bsky.social/post/3l4abc
    """
    from backchannel.curation import set_state

    with app.db.writing() as session:
        _report(set_state(session, url, "included", None, event))


@post.command("show")
@click.argument("url")
@pass_app
def show(app: App, url: str) -> None:
    """Show an archived post: author, time, addresses, text and curation state.

    \b
    Example:
      backchannel post show https://bsky.app/profile/ana.bsky.social/post/3l4abc
    """
    from backchannel.curation import post_states
    from backchannel.sanitize import html_to_text

    with app.db.reading() as session:
        states = post_states(session, url)
        found = states[0].post
        lines = [
            f"uri:      {found.uri}",
            f"url:      {found.url or '-'}",
            f"author:   @{found.author.handle} ({found.author.display_name or '-'})",
            f"posted:   {found.created_at:%Y-%m-%d %H:%M UTC} on {found.platform}",
            f"counts:   {found.reply_count} replies, {found.repost_count} boosts, "
            f"{found.like_count} likes",
            "seen on:  "
            + ", ".join(sorted(f"{s.server} ({s.native_id})" for s in found.sightings)),
        ]
        if found.deleted_at:
            lines.append(f"deleted:  {found.deleted_at:%Y-%m-%d %H:%M UTC} (at the source)")
        if found.content_warning:
            lines.append(f"warning:  {found.content_warning}")
        lines += [f"in {s.event}: {s.state}" + (f" ({s.reason})" if s.reason else "")
                  for s in states]  # fmt: skip
        lines += ["", found.text or html_to_text(found.html)]
    click.echo("\n".join(lines))


@click.command("schedule")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def schedule(app: App, slug: str, file: Path) -> None:
    """Set an event's sessions from a TOML file; `story draft` groups posts by them.

    The file holds [[session]] tables: title, start, end (the event's local time).

    \b
    Example:
      backchannel event schedule swrb13 sessions.toml
    """
    from backchannel.curation import load_schedule, set_schedule
    from backchannel.events import get_event

    with app.db.writing() as session:
        found = get_event(session, slug)
        sessions = load_schedule(file, found)
        set_schedule(found, sessions)
    click.echo(f"{slug}: {len(sessions)} session(s) in the schedule")


def register(group: click.Group) -> None:
    group.add_command(story)
    group.add_command(post)
    event = group.commands.get("event")
    if isinstance(event, click.Group):
        event.add_command(schedule)
