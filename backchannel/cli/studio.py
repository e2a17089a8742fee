"""``backchannel studio [link | sessions | user add|list|remove|role]``: the curators'
web application."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app

_PORT = click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
                     help="The port to listen on.")  # fmt: skip
_HOST = click.option("--host", default="127.0.0.1", show_default=True,
                     help="The address to listen on; another than 127.0.0.1 needs accounts.")  # fmt: skip


@click.group(invoke_without_command=True)
@_PORT
@_HOST
@click.option("--forwarded-allow-ips", default=None, metavar="IPS",
              help="Behind a reverse proxy on another machine: its addresses (comma-separated), "
                   "whose X-Forwarded-Proto and X-Forwarded-For are believed. "
                   "[default: 127.0.0.1]")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
@click.pass_context
def studio(ctx: click.Context, port: int, host: str, forwarded_allow_ips: str | None,
           no_browser: bool) -> None:  # fmt: skip
    """Browse the posts and build stories in the browser.

    Prints (and opens) a sign-in link that signs one browser in as an organiser, once
    (`studio link` makes another while the studio runs). Only this machine can reach
    the studio, unless accounts exist (`studio user add`): then `--host` may name an
    address others reach, or `[studio] public_url` the https:// address of a reverse
    proxy, and people sign in with a name and password. Every change to a story is
    saved at once as a new revision; `story export` and `story import` read and write
    the same stories.

    \b
    Example:
      backchannel studio --port 8765
      backchannel studio user add aroha --role curator
      backchannel studio --host 192.0.2.10
    """
    if ctx.invoked_subcommand is not None:
        return
    from backchannel.errors import InputError
    from backchannel.studio import has_accounts, run_studio

    app: App = ctx.find_object(App)  # type: ignore[assignment]
    public = app.config.studio.public_url
    if host not in ("127.0.0.1", "localhost", "::1") or public:
        with app.db.reading() as session:
            if not has_accounts(session):
                where = f"--host {host}" if not public else f"studio.public_url {public}"
                raise InputError(
                    f"{where}: other machines may reach the studio only once accounts "
                    "exist; add one with `backchannel studio user add NAME --role organiser`"
                )
    run_studio(app.db, port, open_browser=not no_browser, say=click.echo, host=host,
               config=app.config, forwarded_allow_ips=forwarded_allow_ips)  # fmt: skip


@studio.command("link")
@_PORT
@_HOST
@pass_app
def link(app: App, port: int, host: str) -> None:
    """Make a new sign-in link for the running studio (it works once, for a day).

    Give the same --port and --host as the running studio; behind a proxy the link
    uses `[studio] public_url`.

    \b
    Example:
      backchannel studio link --port 8765
    """
    from backchannel.store import utcnow
    from backchannel.studio import make_link, studio_url

    with app.db.writing() as session:
        token = make_link(session, utcnow())
    click.echo(studio_url(port, token, host, app.config.studio.public_url))


@studio.group("sessions", invoke_without_command=True)
@click.pass_context
def sessions(ctx: click.Context) -> None:
    """List the signed-in sessions: number, who, role, since, last seen, browser.

    \b
    Example:
      backchannel studio sessions
      backchannel studio sessions end 4
    """
    if ctx.invoked_subcommand is not None:
        return
    from backchannel.cli.table import render
    from backchannel.studio import list_sessions

    app: App = ctx.find_object(App)  # type: ignore[assignment]
    with app.db.reading() as session:
        rows = [(s.id, s.who, s.role, f"{s.created_at:%Y-%m-%d %H:%M}",
                 f"{s.last_seen:%Y-%m-%d %H:%M}", s.address, s.user_agent)
                for s in list_sessions(session)]  # fmt: skip
    click.echo(render(("number", "who", "role", "since (UTC)", "last seen", "address", "browser"),
                      rows, (0,), max_width=160, shrink=6) if rows else "no sessions")  # fmt: skip


@sessions.command("end")
@click.argument("numbers", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="End every session.")
@pass_app
def sessions_end(app: App, numbers: tuple[int, ...], every: bool) -> None:
    """End sessions at once (their browsers must sign in again).

    \b
    Example:
      backchannel studio sessions end 4
      backchannel studio sessions end --all
    """
    from backchannel.errors import InputError
    from backchannel.studio import end_sessions

    if bool(numbers) == every:
        raise InputError("give the numbers of the sessions to end (`studio sessions`), or --all")
    with app.db.writing() as session:
        ended = end_sessions(session, None if every else list(numbers))
    if numbers and ended < len(set(numbers)):
        click.echo(f"ended {ended} session(s); the others were not signed in")
    else:
        click.echo(f"ended {ended} session(s)")


@studio.group()
def user() -> None:
    """Accounts for signing in from other machines (organiser or curator).

    \b
    Example:
      backchannel studio user add aroha --role curator
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["organiser", "curator"]), required=True,
              help="Organisers do everything; curators edit stories, hide and feature.")  # fmt: skip
@click.password_option(help="At least 12 characters (asked twice when not given).")
@pass_app
def user_add(app: App, name: str, role: str, password: str) -> None:
    """Add an account; its password is kept as an Argon2id hash only.

    \b
    Example:
      backchannel studio user add aroha --role curator
    """
    from backchannel.studio import add_user

    with app.db.writing() as session:
        add_user(session, name, role, password)
    click.echo(f"added {name} ({role})")


@user.command("list")
@pass_app
def user_list(app: App) -> None:
    """List the accounts: name and role.

    \b
    Example:
      backchannel studio user list
    """
    from backchannel.studio import list_users

    with app.db.reading() as session:
        users = list_users(session)
        click.echo("\n".join(f"{u.name}  {u.role}" for u in users) or "no accounts")


@user.command("role")
@click.argument("name")
@click.option("--role", type=click.Choice(["organiser", "curator"]), required=True,
              help="The account's new role.")  # fmt: skip
@pass_app
def user_role(app: App, name: str, role: str) -> None:
    """Give an account another role; its sessions end (it signs in again).

    \b
    Example:
      backchannel studio user role aroha --role organiser
    """
    from backchannel.studio import set_role

    with app.db.writing() as session:
        set_role(session, name, role)
    click.echo(f"{name} is now {role}; their sessions ended")


@user.command("remove")
@click.argument("name")
@pass_app
def user_remove(app: App, name: str) -> None:
    """Remove an account; its sessions end at once.

    \b
    Example:
      backchannel studio user remove aroha
    """
    from backchannel.errors import NotFoundError
    from backchannel.studio import remove_user

    with app.db.writing() as session:
        if not remove_user(session, name):
            raise NotFoundError(f"no account {name!r}")
    click.echo(f"removed {name}; their sessions ended")


def register(group: click.Group) -> None:
    group.add_command(studio)
