"""``backchannel consent allow|deny|remove|list|policy|report`` and ``backchannel forget``."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app
from backchannel.cli.table import render


@click.group()
def consent() -> None:
    """Per-event consent: allow and deny lists, the policy, and what was left out.

    \b
    Example:
      backchannel consent report swrb13
    """


def _decide(app: App, event: str, handle: str, decision: str, note: str | None) -> None:
    from backchannel.consent import set_decision

    with app.db.writing() as session:
        row = set_decision(session, event, handle, decision, note)
        click.echo(
            f"{event}: {row.handle} {decision}ed (takes effect at the next collection and export"
            + ("; it re-reads the event's window for their posts)" if decision == "allow" else ")")
        )


@consent.command("allow")
@click.argument("event")
@click.argument("handle")
@click.option("--note", help="Why: e.g. where and when the author gave consent.")
@pass_app
def allow(app: App, event: str, handle: str, note: str | None) -> None:
    """Archive an author who gave explicit consent, whatever their profile says.

    \b
    Example:
      backchannel consent allow swrb13 ana@mastodon.social --note "email, 14 Nov"
    """
    _decide(app, event, handle, "allow", note)


@consent.command("deny")
@click.argument("event")
@click.argument("handle")
@click.option("--note", help="Why: e.g. the author asked to be left out.")
@pass_app
def deny(app: App, event: str, handle: str, note: str | None) -> None:
    """Leave an author out of an event (their stored posts leave at the next export).

    \b
    Example:
      backchannel consent deny swrb13 bo.bsky.social --note "asked at the desk"
    """
    _decide(app, event, handle, "deny", note)


@consent.command("remove")
@click.argument("event")
@click.argument("handle")
@pass_app
def remove(app: App, event: str, handle: str) -> None:
    """Drop an allow or deny entry: the author's own signals apply again.

    \b
    Example:
      backchannel consent remove swrb13 ana@mastodon.social
    """
    from backchannel.consent import remove_decision

    with app.db.writing() as session:
        found = remove_decision(session, event, handle)
    click.echo(
        f"{event}: entry for {handle} removed" if found else f"{event}: no entry for {handle}"
    )


@consent.command("list")
@click.argument("event")
@pass_app
def list_command(app: App, event: str) -> None:
    """Show an event's allow and deny entries.

    \b
    Example:
      backchannel consent list swrb13
    """
    from backchannel.consent import decisions

    with app.db.reading() as session:
        rows = [(r.decision, r.handle, r.note or "") for r in decisions(session, event)]
    click.echo(render(("decision", "handle", "note"), rows) if rows else f"{event}: no entries")


@consent.command("policy")
@click.argument("event")
@click.argument("policy", type=click.Choice(["opt-out", "opt-in"]))
@pass_app
def policy_command(app: App, event: str, policy: str) -> None:
    """Set an event's policy; opt-in archives only authors on the allow list.

    A stricter policy applies to the posts already collected at the next export.

    \b
    Example:
      backchannel consent policy swrb13 opt-in
    """
    from backchannel.consent import set_policy

    with app.db.writing() as session:
        set_policy(session, event, policy)
    click.echo(f"{event}: policy {policy}")


@consent.command("imported")
@click.argument("event")
@click.argument("choice", type=click.Choice(["story-only", "all"]))
@pass_app
def imported_command(app: App, event: str, choice: str) -> None:
    """Choose what to publish of the posts imported from files (`backchannel import`).

    story-only (the default): only the posts a story uses, kept out of search and the
    data downloads; all: every imported post, like a collected one. Imported posts
    cannot be re-checked at their source, nor their authors asked.

    \b
    Example:
      backchannel consent imported swrb13 all
    """
    from backchannel.consent import set_imported

    with app.db.writing() as session:
        set_imported(session, event, choice)
    click.echo(f"{event}: imported posts: {choice}")


@consent.command("report")
@click.argument("event")
@click.option("--names", is_flag=True, help="Also list the excluded authors' handles.")
@pass_app
def report_command(app: App, event: str, names: bool) -> None:
    """Count the event's posts left out, by reason (handles only with --names).

    \b
    Example:
      backchannel consent report swrb13 --names
    """
    from backchannel.consent import report

    config = app.config.consent
    with app.db.reading() as session:
        found = report(session, event, config.default_policy == "opt-in", config.allow_bots)
    click.echo(f"{event}: policy {found.policy}")
    rows = [
        (reason, found.collected[reason], found.stored[reason], n)
        for reason, n in sorted(found.total.items(), key=lambda i: (-i[1], i[0]))
    ]
    if rows:
        click.echo(render(("reason", "at collection", "since stored", "posts"), rows, (1, 2, 3)))
    else:
        click.echo("no post left out")
    click.echo(f"published but kept out of search and data (indexable off): {found.not_indexed}")
    if names:
        named = [
            (handle, ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))
            for handle, reasons in sorted(found.names.items())
        ]
        click.echo(render(("handle", "reasons"), named) if named else "no author excluded")


@click.command("forget")
@click.option("--author", "handle", metavar="HANDLE", help="An author: all their posts.")
@click.option("--post", "post_ref", metavar="URL", help="One post, by any of its addresses.")
@click.option("--reason", help="Kept with the tombstone (e.g. 'request by email, 3 Dec').")
@click.option("--list", "show", is_flag=True, help="Show the tombstones (hashes only).")
@pass_app
def forget_command(
    app: App, handle: str | None, post_ref: str | None, reason: str | None, show: bool
) -> None:
    """Remove an author or a post everywhere, for good.

    Rows, media files, story items (shown as "removed at the author's request"), and,
    when the site folder holds an export, the pages, data files and search index of
    the events concerned, which are exported again. A tombstone holding no content
    keeps any later collection from bringing it back.

    \b
    Example:
      backchannel forget --author ana@mastodon.social --reason "asked by email"
    """
    from backchannel.consent import forget, list_tombstones
    from backchannel.errors import InputError
    from backchannel.media import prune

    if show:
        with app.db.reading() as session:
            rows = [(t.created_at.strftime("%Y-%m-%d %H:%M UTC"), t.kind, t.key_sha256[:16],
                     t.reason or "") for t in list_tombstones(session)]  # fmt: skip
        click.echo(render(("forgotten", "kind", "key (sha256)", "reason"), rows) if rows
                   else "no tombstones")  # fmt: skip
        return
    if bool(handle) == bool(post_ref):
        raise InputError("give exactly one of --author HANDLE or --post URL (or --list)")
    result = forget(app.db, app.config, handle=handle, post_ref=post_ref, reason=reason)
    # The files forget released, and any a crashed pass left (backchannel.store.released).
    result.media_files += prune(app.db, app.config.media_dir)
    click.echo(
        f"forgot {result.posts} post(s) and {result.authors} author(s); "
        f"{result.media_files} media file(s) and {result.story_items} story item(s) removed; "
        + (f"re-exported {', '.join(result.exported)}" if result.exported
           else "none of its events is published, so the site is as it was" if result.events
           else "nothing was in the archive; the tombstone keeps it out")
    )  # fmt: skip


def register(group: click.Group) -> None:
    group.add_command(consent)
    group.add_command(forget_command)
