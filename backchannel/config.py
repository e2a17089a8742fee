"""TOML configuration -> frozen, validated objects.

Every key, its type and its default is declared once, in the dataclasses below;
``config.example.toml`` documents the same keys (a test keeps the two in step).
Secrets never appear in the file: only the *names* of environment variables that hold
them. An unknown key, a wrong type or a missing secret is a :class:`ConfigError` that
names the file, the key and what was expected.

The config file is ``--config``, else ``$BACKCHANNEL_CONFIG``, else ``./config.toml``;
when the default file does not exist the defaults apply, with paths relative to the
current directory.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from backchannel import __version__
from backchannel.errors import ConfigError

DEFAULT_CONFIG = "config.toml"
ENV_CONFIG = "BACKCHANNEL_CONFIG"
DEFAULT_DATABASE_FILE = "backchannel.db"


@dataclass(frozen=True)
class DatabaseConfig:
    # Empty means a SQLite file named backchannel.db beside the config file.
    url: str = ""


@dataclass(frozen=True)
class ArchiveConfig:
    media_dir: str = "media"  # relative to the config file's folder
    site_dir: str = "site"


@dataclass(frozen=True)
class MastodonServerConfig:
    base_url: str = ""
    access_token_env: str = ""  # optional: a server may want a token for hashtag feeds


@dataclass(frozen=True)
class BlueskyConfig:
    service: str = "https://bsky.social"
    handle: str = ""
    app_password_env: str = "BACKCHANNEL_BLUESKY_APP_PASSWORD"


# The shipped user agent names no one: it is refused for any server that is not on
# this machine (the sandbox), so that a real server always learns whom to contact.
PLACEHOLDER_CONTACT = "backchannel.example"
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


def is_loopback(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL (a stranger's media address, say): not this machine
        return False
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@dataclass(frozen=True)
class CollectConfig:
    user_agent: str = f"backchannel/{__version__} (+https://{PLACEHOLDER_CONTACT}/about)"
    timeout: float = 30.0  # seconds for one HTTP request
    request_deadline: float = 120.0  # seconds one request may take in all, body included
    max_response_bytes: int = 32_000_000  # the largest page a server may send
    retries: int = 5  # tries of one request before its source fails
    backoff_cap: float = 60.0  # seconds, the longest backoff between retries
    max_rate_limit_sleep: float = 300.0  # seconds, the longest single rate-limit wait
    rescan_hours: float = 6.0  # Mastodon: trailing window re-read for late posts
    rescan_every_minutes: float = 60.0  # Mastodon: re-read that window at most this often
    bluesky_overlap_minutes: float = 10.0  # Bluesky: incremental runs re-read this much
    source_budget: float = 300.0  # seconds one source may take in one collection
    source_max_requests: int = 5_000  # requests one source may make in one collection
    concurrency: int = 4  # sources collected at once
    discover_max_sources: int = 3  # servers `discover = true` may add to an event


@dataclass(frozen=True)
class ScheduleConfig:
    collect_every_minutes: float = 5.0  # during the event window and its margins
    after_event_every_minutes: float = 60.0
    after_event_days: float = 7.0  # then collection stops
    recheck_every_hours: float = 24.0
    recheck_days: float = 30.0  # rechecks stop this long after the event
    jitter_seconds: float = 20.0


@dataclass(frozen=True)
class ConsentConfig:
    default_policy: str = "opt-out"  # or "opt-in": only explicitly allowed authors
    allow_bots: bool = False
    noindex_ttl_hours: float = 24.0  # how long a home-server lookup stays fresh


@dataclass(frozen=True)
class MediaConfig:
    max_bytes: int = 10_000_000
    fetch_video: bool = False
    max_video_bytes: int = 50_000_000
    timeout: float = 30.0  # seconds for one download (connect, and between bytes)
    deadline: float = 600.0  # seconds one download may take in all
    retries: int = 3  # tries of one download in a run (5xx, timeouts, dropped connections)
    concurrency: int = 4  # downloads at once


@dataclass(frozen=True)
class ExportConfig:
    title: str = "Conference backchannels"
    base_url: str = ""  # where the site will be published; optional
    templates_dir: str = ""  # a theme folder searched before the packaged theme
    allow_indexing: bool = False  # let search engines and AI crawlers in
    posts_per_page: int = 100
    live: bool = False  # re-export changed pages after each collection
    contact: str = ""  # the organiser's contact for removal requests
    locale: str = "en_GB"  # dates, times and language names (checked at export)
    accent: str = ""  # the accent colour, e.g. "#1f6f54" (checked at export)
    accent_dark: str = ""  # the same in dark mode
    logo: str = ""  # a PNG, JPEG, WebP or GIF beside the site title


@dataclass(frozen=True)
class StudioConfig:
    session_idle_minutes: float = 480.0  # a session unused this long ends
    session_max_hours: float = 72.0  # and any session ends this long after sign-in
    public_url: str = ""  # behind a reverse proxy with TLS: the address people open
    import_max_mb: float = 200.0  # the most an organiser may upload to import at once


@dataclass(frozen=True)
class Config:
    path: Path  # the file this came from (may not exist when defaults apply)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    mastodon: dict[str, MastodonServerConfig] = field(default_factory=dict)
    bluesky: BlueskyConfig = field(default_factory=BlueskyConfig)
    collect: CollectConfig = field(default_factory=CollectConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    consent: ConsentConfig = field(default_factory=ConsentConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    studio: StudioConfig = field(default_factory=StudioConfig)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        return (self.base_dir / relative).resolve()

    @property
    def database_url(self) -> str:
        url = self.database.url or f"sqlite:///{DEFAULT_DATABASE_FILE}"
        # A relative SQLite path is relative to the config file, not the shell's cwd.
        match = re.fullmatch(r"sqlite(\+\w+)?:///(.+)", url)
        if match and match.group(2) != ":memory:" and not match.group(2).startswith("/"):
            return f"sqlite{match.group(1) or ''}:///{self.resolve(match.group(2))}"
        return url

    @property
    def media_dir(self) -> Path:
        return self.resolve(self.archive.media_dir)

    @property
    def site_dir(self) -> Path:
        return self.resolve(self.archive.site_dir)

    def secret(self, key: str, env_name: str) -> str:
        """The value of the environment variable ``env_name``, named by config ``key``."""
        if not env_name:
            raise ConfigError(self.path, key, "expected the name of an environment variable")
        value = os.environ.get(env_name)
        if not value:
            raise ConfigError(
                self.path, key, f"environment variable {env_name} is not set (it holds the secret)"
            )
        return value

    def user_agent_for(self, url: str) -> str:
        """The User-Agent to send to ``url``; the placeholder only to this machine."""
        agent = self.collect.user_agent
        if PLACEHOLDER_CONTACT in agent and not is_loopback(url):
            raise ConfigError(
                self.path,
                "collect.user_agent",
                f"still names {PLACEHOLDER_CONTACT}, not you: servers want a contact, "
                'e.g. user_agent = "backchannel (+https://your.site/about)"',
            )
        return agent

    def mastodon_server(self, base_url: str) -> tuple[str, MastodonServerConfig] | None:
        """The ``[mastodon.<name>]`` table for a server, matched by base URL."""
        wanted = base_url.rstrip("/").lower()
        for name, server in self.mastodon.items():
            if server.base_url.rstrip("/").lower() == wanted:
                return name, server
        return None


def config_path(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The config file to use, and whether the user named it (so it must exist)."""
    if explicit:
        return Path(explicit).expanduser().resolve(), True
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG]).expanduser().resolve(), True
    return Path(DEFAULT_CONFIG).resolve(), False


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path, named = config_path(explicit)
    if not path.exists():
        if named:
            raise ConfigError(path, "", "no such config file")
        return Config(path=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot be read ({exc})") from exc
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    values: dict[str, Any] = {}
    hints = get_type_hints(Config)
    for name, raw in data.items():
        if name == "path" or name not in hints:
            raise ConfigError(path, name, f"unknown section; expected one of {_sections()}")
        if name == "mastodon":
            values[name] = _mastodon_servers(raw, path)
        else:
            values[name] = _section(hints[name], raw, path, name)
    config = Config(path=path, **values)
    _check(config)
    return config


def _sections() -> str:
    return ", ".join(f.name for f in fields(Config) if f.name != "path")


def _mastodon_servers(raw: Any, path: Path) -> dict[str, MastodonServerConfig]:
    if not isinstance(raw, dict):
        raise ConfigError(path, "mastodon", "expected tables like [mastodon.<name>]")
    servers = {}
    for name, table in raw.items():
        key = f"mastodon.{name}"
        server = _section(MastodonServerConfig, table, path, key)
        if not server.base_url:
            raise ConfigError(path, f"{key}.base_url", "expected the server's URL")
        _check_url(path, f"{key}.base_url", server.base_url)
        _check_env_name(path, f"{key}.access_token_env", server.access_token_env, optional=True)
        servers[name] = server
    return servers


def _section(cls: type, raw: Any, path: Path, key: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(path, key, "expected a table")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(
                path, f"{key}.{name}", f"unknown key; expected one of {', '.join(known)}"
            )
        values[name] = _coerce(hints[name], value, path, f"{key}.{name}")
    for name, spec in known.items():
        if name not in values and spec.default is MISSING and spec.default_factory is MISSING:
            raise ConfigError(path, f"{key}.{name}", "missing")
    return cls(**values)


def _coerce(expected: Any, value: Any, path: Path, key: str) -> Any:
    origin = get_origin(expected)
    if origin in (Union, types.UnionType):
        expected = next(a for a in get_args(expected) if a is not type(None))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    # type() rather than isinstance(): TOML's true must not pass as the number 1.
    if expected in (str, int, float, bool) and type(value) is expected:
        return value
    raise ConfigError(path, key, f"expected {_describe(expected)}, got {type(value).__name__}")


def _describe(expected: Any) -> str:
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}.get(
        expected, str(expected)
    )


def _check_url(path: Path, key: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(path, key, f"expected an http(s) URL, got {url!r}")


def _check_env_name(path: Path, key: str, name: str, optional: bool = False) -> None:
    if not name and optional:
        return
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ConfigError(
            path,
            key,
            f"expected the NAME of an environment variable (not the secret), got {name!r}",
        )


# What SQLAlchemy calls the backends backchannel supports, and what people write instead.
_DATABASE_BACKENDS = ("sqlite", "postgresql")
_POSTGRES_ALIASES = ("postgres", "pg", "pgsql", "postgis")


def _check_database_url(path: Path, url: str) -> None:
    if not url:
        return
    scheme, separator, _rest = url.partition("://")
    if not separator:
        raise ConfigError(
            path,
            "database.url",
            "expected a URL like sqlite:///backchannel.db or postgresql+psycopg://user@host/dbname",
        )
    backend = scheme.split("+", 1)[0].lower()
    if backend in _POSTGRES_ALIASES:
        raise ConfigError(
            path,
            "database.url",
            f"the URL scheme {scheme}:// is not one SQLAlchemy knows: "
            "write postgresql+psycopg:// instead",
        )
    if backend not in _DATABASE_BACKENDS:
        raise ConfigError(
            path,
            "database.url",
            f"expected a sqlite:// or postgresql+psycopg:// URL, got {scheme}://",
        )


def _check(config: Config) -> None:
    path = config.path
    _check_database_url(path, config.database.url)
    _check_url(path, "bluesky.service", config.bluesky.service)
    _check_env_name(path, "bluesky.app_password_env", config.bluesky.app_password_env)
    if not re.search(r"(https?://|mailto:)\S+", config.collect.user_agent):
        raise ConfigError(
            path,
            "collect.user_agent",
            "expected a User-Agent that includes a contact URL (https://... or mailto:...)",
        )
    if config.export.base_url:
        _check_url(path, "export.base_url", config.export.base_url)
    public = urlsplit(config.studio.public_url)
    if config.studio.public_url and (public.scheme != "https" or not public.hostname
                                     or public.path not in ("", "/")):  # fmt: skip
        raise ConfigError(path, "studio.public_url", "expected the https:// address people open "
                          f"(no path), e.g. https://studio.example.org; got {config.studio.public_url!r}")  # fmt: skip
    if config.consent.default_policy not in ("opt-out", "opt-in"):
        raise ConfigError(path, "consent.default_policy", 'expected "opt-out" or "opt-in"')
    positive = {
        "collect.timeout": config.collect.timeout,
        "collect.request_deadline": config.collect.request_deadline,
        "collect.source_budget": config.collect.source_budget,
        "collect.source_max_requests": config.collect.source_max_requests,
        "collect.max_response_bytes": config.collect.max_response_bytes,
        "media.deadline": config.media.deadline,
        "collect.retries": config.collect.retries,
        "collect.concurrency": config.collect.concurrency,
        "export.posts_per_page": config.export.posts_per_page,
        "media.max_bytes": config.media.max_bytes,
        "media.timeout": config.media.timeout,
        "media.retries": config.media.retries,
        "media.concurrency": config.media.concurrency,
        "schedule.collect_every_minutes": config.schedule.collect_every_minutes,
        "schedule.after_event_every_minutes": config.schedule.after_event_every_minutes,
        "studio.session_idle_minutes": config.studio.session_idle_minutes,
        "studio.session_max_hours": config.studio.session_max_hours,
        "studio.import_max_mb": config.studio.import_max_mb,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(path, key, f"expected a number above 0, got {value}")
    for key, value in {
        "collect.rescan_hours": config.collect.rescan_hours,
        "collect.rescan_every_minutes": config.collect.rescan_every_minutes,
        "collect.bluesky_overlap_minutes": config.collect.bluesky_overlap_minutes,
        "collect.discover_max_sources": config.collect.discover_max_sources,
        "schedule.after_event_days": config.schedule.after_event_days,
        "schedule.jitter_seconds": config.schedule.jitter_seconds,
    }.items():
        if value < 0:
            raise ConfigError(path, key, f"expected 0 or more, got {value}")
