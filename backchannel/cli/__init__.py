"""The ``backchannel`` command line: thin commands over the services.

This package is the only place where errors become messages: a
:class:`~backchannel.errors.BackchannelError` is printed as one line and exits non-zero;
``--debug`` shows the traceback instead. Commands import their services (and through
them the client libraries) only when they run, so ``backchannel --help`` stays fast.
"""

from __future__ import annotations

import gc
import logging
import sys
from functools import cached_property
from typing import Any

import click

from backchannel import __version__
from backchannel.errors import BackchannelError


class App:
    """What every command shares: the config and the database, opened on first use."""

    def __init__(self, config_path: str | None, debug: bool, verbose: bool = False) -> None:
        self.config_path = config_path
        self.debug = debug
        self.verbose = verbose or debug

    @cached_property
    def config(self) -> Any:
        from backchannel.config import load_config

        return load_config(self.config_path)

    @cached_property
    def raw_db(self) -> Any:
        """The database without a schema check (for init and db commands)."""
        from backchannel.store import Database

        return Database(self.config.database_url)

    @cached_property
    def db(self) -> Any:
        """The database, refused unless its schema is this version's."""
        from backchannel.errors import SchemaOutOfDateError

        try:
            self.raw_db.check_schema()
        except SchemaOutOfDateError as exc:
            if self.config.path.exists() or self.raw_db.current_revision() is not None:
                raise
            # A first command in an empty folder: say what to do first, not what is missing.
            raise SchemaOutOfDateError(
                f"no {self.config.path.name} in {self.config.path.parent} and no database: "
                "run `backchannel init` to set up"
            ) from exc
        return self.raw_db

    def close(self) -> None:
        """Close the database's connections, if the command opened it (a command run
        in-process, as tests and the demo do, must not leave them to the server)."""
        if "raw_db" in self.__dict__:
            self.raw_db.dispose()


class BackchannelGroup(click.Group):
    """A click group that turns backchannel's errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BackchannelError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # `collect | head`: click ends the command quietly (exit 1, no message)
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:  # a bug: still one line, unless --debug
            if _debug(ctx):
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
            ) from None


def _debug(ctx: click.Context) -> bool:
    app = ctx.find_object(App)
    return bool(app and app.debug) or "--debug" in sys.argv


@click.group(cls=BackchannelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    envvar="BACKCHANNEL_CONFIG",
    help="Config file (default ./config.toml; also $BACKCHANNEL_CONFIG).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", is_flag=True, help="Log what is happening.")
@click.version_option(__version__, prog_name="backchannel")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, debug: bool, verbose: bool) -> None:
    """Archive a conference backchannel from Mastodon and Bluesky into a static site.

    \b
    Example:
      backchannel init
      backchannel event add swrb13 --title "SWRB 2013" --hashtag swrb13 \\
          --start 2013-11-14 --end 2013-11-15 --timezone Pacific/Auckland \\
          --mastodon https://mastodon.social --bluesky
      backchannel collect swrb13
    """
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    from backchannel.cli.terminal import ProgressAwareHandler

    # Log lines go above the progress line of a long command, never inside it.
    handler = ProgressAwareHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    ctx.obj = App(config_path, debug, verbose)
    ctx.call_on_close(ctx.obj.close)
    # The interpreter's last garbage collections walk every object SQLAlchemy made at
    # import (~60 ms of a 0.4 s command); frozen objects are skipped, and nothing the
    # command made is left to collect by then. atexit handlers still run.
    ctx.call_on_close(gc.freeze)


pass_app = click.make_pass_decorator(App)


def _register() -> None:
    from backchannel.cli import (
        archiving,
        collecting,
        consenting,
        curating,
        database,
        demo,
        doctor,
        event_sources,
        events,
        exporting,
        importing,
        running,
        studio,
    )

    modules = (
        database,
        events,
        event_sources,
        collecting,
        importing,
        archiving,
        curating,
        consenting,
        exporting,
    )
    for module in (*modules, studio, running, doctor, demo):
        module.register(main)


_register()
