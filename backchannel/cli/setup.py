"""``backchannel init`` where no config exists: questions, a commented config, an event.

Each answer is checked as it is given (the same checks ``event add`` and the config
make), so a mistake is asked again rather than found later. A flag answers its question
without asking; ``--yes`` asks nothing and takes the defaults for the rest. Nothing is
written until every answer is in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from backchannel.cli import App
from backchannel.errors import BackchannelError, InputError

INTRO = (
    "No config file at {path}: a few questions set one up.\n"
    "Press Enter to take the [default]; Ctrl-C stops without writing anything."
)
DEFAULT_SERVER = "https://mastodon.social"


def local_zone() -> str:
    """This machine's IANA time zone name, else UTC (the default for an event's zone)."""
    from backchannel.events import parse_timezone

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        candidates.append(str(localtime.resolve()).partition("zoneinfo/")[2])
    for name in candidates:
        if name:
            try:
                parse_timezone(name)
            except InputError:
                continue
            return name
    return "UTC"


class Asker:
    """Answers from the flags, else from the person (unless ``--yes``), else defaults."""

    def __init__(self, ask: bool, flags: dict[str, Any]) -> None:
        self.ask = ask
        self.flags = flags

    def value(
        self, flag: str, question: str, check: Callable[[str], Any], default: str | None = None
    ) -> Any:
        given = self.flags.get(flag)
        if given not in (None, (), ""):
            text = " ".join(given) if isinstance(given, tuple) else str(given)
            return check(text)  # a bad flag is a one-line error, as in `event add`
        if self.ask:
            return click.prompt(question, default=default, value_proc=_asking(check))
        if default is None:
            option = "--" + flag.replace("_", "-")
            raise InputError(f"{option} is needed with --yes (or leave out --yes to be asked)")
        return check(default)

    def confirm(self, flag: str, question: str, default: bool) -> bool:
        if self.flags.get(flag):
            return True
        return click.confirm(question, default=default) if self.ask else False


def _asking(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """``check`` for click.prompt: a refusal is shown and the question asked again."""

    def proc(text: str) -> Any:
        try:
            return check(text)
        except BackchannelError as exc:
            raise click.UsageError(str(exc)) from None

    return proc


def _words(check: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    def each(text: str) -> list[Any]:
        words = text.replace(",", " ").split()
        if not words:
            raise InputError("give at least one")
        return [check(word) for word in words]

    return each


def _text(what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not text.strip():
            raise InputError(f"give {what}")
        return text.strip()

    return check


def _handle(text: str) -> str:
    handle = text.strip().lstrip("@")
    if not handle or " " in handle or "." not in handle:
        raise InputError(f"not a Bluesky handle: {text!r} (such as you.bsky.social)")
    return handle


def ask_event(asker: Asker) -> dict[str, Any]:
    """The first event's fields, each checked as given."""
    from backchannel.events import (
        parse_hashtag,
        parse_local_time,
        parse_slug,
        parse_source_url,
        parse_timezone,
    )

    slug = asker.value("slug", "Short name for the event, used in commands and URLs "
                       "(e.g. swrb13)", parse_slug)  # fmt: skip
    title = asker.value("title", "The event's title", _text("a title"))
    hashtags = asker.value(
        "hashtags", "Hashtags to collect, separated by spaces", _words(parse_hashtag), slug
    )
    zone_name = asker.value(
        "timezone", "The event's time zone (IANA name)", lambda t: parse_timezone(t).key,
        local_zone(),
    )  # fmt: skip
    zone = parse_timezone(zone_name)

    def check_start(text: str) -> str:
        parse_local_time(text, zone, end=False)
        return text.strip()

    start = asker.value("start", "First day (YYYY-MM-DD, in that time zone)", check_start)

    def check_end(text: str) -> str:
        if parse_local_time(text, zone, end=True) <= parse_local_time(start, zone, end=False):
            raise InputError(f"the event ends ({text.strip()}) before it starts ({start})")
        return text.strip()

    end = asker.value("end", "Last day", check_end, start)
    servers = asker.value(
        "servers", "Mastodon servers to read the hashtags from, separated by spaces",
        _words(parse_source_url), DEFAULT_SERVER,
    )  # fmt: skip
    return {"slug": slug, "title": title, "hashtags": hashtags, "timezone": zone_name,
            "start": start, "end": end, "mastodon": servers}  # fmt: skip


def guided_setup(app: App, path: Path, yes: bool, flags: dict[str, Any]) -> None:
    from backchannel import config_file

    asker = Asker(not yes, flags)
    if asker.ask:
        click.echo(INTRO.format(path=path))
    contact = asker.value(
        "contact",
        "Your contact, sent to servers and shown on the archive's About page "
        "(a web page or an email)",
        config_file.check_contact,
    )
    database = asker.value(
        "database", "Database: a file beside config.toml, or a postgresql+psycopg:// URL",
        config_file.check_database, config_file.DEFAULT_DATABASE_FILE,
    )  # fmt: skip
    event = None
    if asker.confirm("slug", "Register the first event now?", default=True):
        event = ask_event(asker)
    handle, password_env = "", config_file.DEFAULT_PASSWORD_ENV
    if asker.confirm("bluesky_handle", "Also read Bluesky? (it needs an account's app "
                     "password)", default=False):  # fmt: skip
        handle = asker.value("bluesky_handle", "Bluesky handle to log in with", _handle)
        password_env = asker.value(
            "bluesky_password_env", "Environment variable that will hold its app password",
            config_file.check_env_name, config_file.DEFAULT_PASSWORD_ENV,
        )  # fmt: skip
    tokens: tuple[tuple[str, str, str], ...] = ()
    if event is not None:
        event["mastodon"], tokens = check_servers(asker, event, contact, path)
    answers = config_file.Answers(contact, database, handle, password_env, tokens=tokens)
    config_file.write(path, answers)
    click.echo(f"wrote {path}")
    app.raw_db.init()
    click.echo(f"created {app.raw_db.display_url}")
    if event is not None:
        register(app, event, bool(handle))
    if handle:
        click.echo(f"before collecting, put the app password in ${password_env}")
    for _, url, env in tokens:
        click.echo(f"before collecting, put the access token for {url} in ${env}")
    if event is not None:
        slug = event["slug"]
        click.echo(f"next: backchannel doctor {slug} (checks every source), then collect {slug}")


def check_servers(
    asker: Asker, event: dict[str, Any], contact: str, path: Path
) -> tuple[list[str], tuple[tuple[str, str, str], ...]]:
    """Each server asked once, as `doctor` asks it (only when asking: a few seconds at
    most each): one whose software needs a login gets the variable for its token; one
    that does not answer as a Mastodon-API server is kept only if the person says so.
    The servers kept, and the tokens' (table, URL, variable)."""
    servers = list(event["mastodon"])
    if not asker.ask:
        return servers, ()
    from backchannel import config_file
    from backchannel.collect import probe_server
    from backchannel.collectors import TOKEN_SOFTWARE, read_nodeinfo, token_table
    from backchannel.config import parse_config

    agent = config_file.user_agent(contact)
    config = parse_config({"collect": {"user_agent": agent}}, path)
    kept, tokens = [], []
    for url in servers:
        software = read_nodeinfo(url, agent, timeout=3.0)
        if software is not None and software.name in TOKEN_SOFTWARE:
            name, env = token_table(url)
            click.echo(f"{url} runs {software}: its hashtag feed needs a login (an access "
                       "token with read:statuses from an account there)")  # fmt: skip
            env = asker.value(f"token_env_{name}", "Environment variable that will hold its "
                              "access token", config_file.check_env_name, env)  # fmt: skip
            tokens.append((name, url, env))
            kept.append(url)
            continue
        check = probe_server(config, event["slug"], "mastodon", url, event["hashtags"][0])
        if check.ok or click.confirm(f"{url}: {check.text}. Keep it anyway?", default=False):
            kept.append(url)
    return kept, tuple(tokens)


def register(app: App, event: dict[str, Any], bluesky: bool) -> None:
    from backchannel.events import EventSpec, create_event

    spec = EventSpec(**event, bluesky=app.config.bluesky.service if bluesky else None)
    with app.db.writing() as session:
        created = create_event(session, spec)
        click.echo(
            f"registered {created.slug}: {created.title}, "
            f"#{' #'.join(created.hashtags)}, {len(created.sources)} source(s)"
        )
