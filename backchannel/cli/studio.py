"""``backchannel studio [user add|list|remove]``: the curators' web application."""

from __future__ import annotations

import click

from backchannel.cli import App, pass_app


@click.group(invoke_without_command=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="The port to listen on.")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; another than 127.0.0.1 needs accounts.")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
@click.pass_context
def studio(ctx: click.Context, port: int, host: str, no_browser: bool) -> None:
    """Browse the posts and build stories in the browser.

    Prints (and opens) an address holding a secret made at start, which signs that
    browser in as an organiser. Only this machine can reach the studio, unless
    accounts exist (`studio user add`): then `--host` may name an address others
    reach, and they sign in with a name and password. Every change to a story is
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
    if host not in ("127.0.0.1", "localhost", "::1"):
        with app.db.reading() as session:
            if not has_accounts(session):
                raise InputError(
                    f"--host {host}: other machines may reach the studio only once accounts "
                    "exist; add one with `backchannel studio user add NAME --role organiser`"
                )
    run_studio(app.db, port, open_browser=not no_browser, say=click.echo, host=host,
               config=app.config)  # fmt: skip


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


@user.command("remove")
@click.argument("name")
@pass_app
def user_remove(app: App, name: str) -> None:
    """Remove an account.

    \b
    Example:
      backchannel studio user remove aroha
    """
    from backchannel.errors import NotFoundError
    from backchannel.studio import remove_user

    with app.db.writing() as session:
        if not remove_user(session, name):
            raise NotFoundError(f"no account {name!r}")
    click.echo(f"removed {name}")


def register(group: click.Group) -> None:
    group.add_command(studio)
