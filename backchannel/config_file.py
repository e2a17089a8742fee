"""A commented ``config.toml`` written from a few answers (``backchannel init``).

The file holds only what the answers decide; every other key keeps its default, which
``config.example.toml`` lists with what it does. Secrets are never written: the file
names the environment variable that will hold the Bluesky app password.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from backchannel import __version__
from backchannel.config import DEFAULT_DATABASE_FILE, parse_config
from backchannel.errors import ConfigError, InputError

_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_PASSWORD_ENV = "BACKCHANNEL_BLUESKY_APP_PASSWORD"


@dataclass(frozen=True)
class Answers:
    contact: str  # a web page or an email address where people can reach the organiser
    database: str = DEFAULT_DATABASE_FILE  # a SQLite file beside the config, or a URL
    bluesky_handle: str = ""  # empty: Bluesky is not read
    bluesky_password_env: str = DEFAULT_PASSWORD_ENV
    site_title: str = ""
    # Servers whose hashtag feed needs a login: (table name, base URL, token variable).
    tokens: tuple[tuple[str, str, str], ...] = ()


def check_contact(value: str) -> str:
    """A contact a server admin can use: an http(s) URL with a host, or an email address."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and " " not in value:
        if (parts.hostname or "").endswith("backchannel.example"):
            raise InputError("give your own contact, not backchannel.example")
        return value
    if _EMAIL.fullmatch(value):
        return value
    raise InputError(
        f"not a contact: {value!r} (a web page such as https://your.site/about, "
        "or an email address)"
    )


def check_database(value: str) -> str:
    """A SQLite file name (beside the config) or a database URL, checked like the config."""
    value = value.strip()
    if not value:
        raise InputError("give a file name such as backchannel.db, or a database URL")
    if "://" in value:
        try:
            parse_config({"database": {"url": value}}, Path("config.toml"))
        except ConfigError as exc:
            raise InputError(exc.problem) from exc
        return value
    if "/" in value or "\\" in value or value.startswith("."):
        raise InputError(f"not a plain file name: {value!r} (it goes beside config.toml)")
    return value


def check_env_name(value: str) -> str:
    value = value.strip()
    if not _ENV_NAME.fullmatch(value):
        raise InputError(
            f"not the name of an environment variable: {value!r} (the NAME, never the secret)"
        )
    return value


def user_agent(contact: str) -> str:
    """What servers see: backchannel, its version, and how to reach whoever runs it."""
    reach = contact if "://" in contact else f"mailto:{contact}"
    return f"backchannel/{__version__} (+{reach})"


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(answers: Answers) -> str:
    """The file's text: the answers, each with a comment that says what it does."""
    database = answers.database
    url = database if "://" in database else f"sqlite:///{database}"
    lines = [
        "# backchannel configuration, written by `backchannel init`.",
        "# Every other key, with its default and what it does: `backchannel config example`.",
        "# Secrets never go here: only the names of the environment variables holding them.",
        "",
        "[database]",
        "# A SQLite file beside this file, or postgresql+psycopg://user@host/dbname.",
        f"url = {_toml(url)}",
        "",
        "[collect]",
        "# Sent with every request, so that server admins can reach you.",
        f"user_agent = {_toml(user_agent(answers.contact))}",
        "",
        "[export]",
        "# Shown on every archive's About page, for removal requests.",
        f"contact = {_toml(answers.contact)}",
    ]
    if answers.site_title:
        lines += ["# The archive's title.", f"title = {_toml(answers.site_title)}"]
    if answers.bluesky_handle:
        lines += [
            "",
            "[bluesky]",
            "# Bluesky search needs a login: this account, with an app password",
            "# (Settings > App passwords) in the environment variable named below.",
            f"handle = {_toml(answers.bluesky_handle)}",
            f"app_password_env = {_toml(answers.bluesky_password_env)}",
        ]
    for name, base_url, env in answers.tokens:
        lines += [
            "",
            f"[mastodon.{name}]",
            "# Its hashtag feed needs a login: an access token (read:statuses) of an account",
            "# there, in the environment variable named below.",
            f"base_url = {_toml(base_url)}",
            f"access_token_env = {_toml(env)}",
        ]
    return "\n".join(lines) + "\n"


def write(path: Path, answers: Answers) -> None:
    """Write the config at ``path``, checked by the same parser that will read it.

    Never overwrites a file; the text lands whole or not at all (temp file + rename).
    """
    text = render(answers)
    parse_config(tomllib.loads(text), path)  # a file init writes is always readable
    if path.exists():
        raise InputError(f"{path} exists already: edit it, or remove it to start again")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".config.", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
