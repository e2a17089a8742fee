"""``backchannel doctor``: is this set-up ready to collect and export? One line a check.

The checks run in order and each says what to do when it fails: the config, the
database and its schema, the organiser's contact, every source of the event (or of
every event) asked for the hashtag through the real client, the Pagefind binary, the
site folder and the free disk space for media. Sources are asked once, without retries
and with a short timeout: a doctor reports, it does not wait out an outage.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from backchannel.collect.sources import bounds, make_collector
from backchannel.config import PLACEHOLDER_CONTACT, Config, config_path, load_config
from backchannel.errors import BackchannelError
from backchannel.events import get_event, list_events
from backchannel.store import Database, EventSource, head_revision

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 1 << 30  # media of a large event fit in well under this
PROBE_TIMEOUT = 10.0  # seconds; a doctor reports an outage rather than waiting it out


@dataclass(frozen=True)
class Check:
    ok: bool
    subject: str  # what was checked: "config", "database", "swrb13 mastodon.social", ...
    text: str  # what was found, or what to do


def run_checks(
    explicit_config: str | None, event_slug: str | None = None, min_free: int = MIN_FREE_BYTES
) -> Iterator[Check]:
    """Every check, as it completes (the sources take a moment each)."""
    path, _named = config_path(explicit_config)
    try:
        config = load_config(explicit_config)
    except BackchannelError as exc:
        yield Check(False, "config", str(exc))
        return
    if path.exists():
        yield Check(True, "config", f"{path} is valid")
    else:
        yield Check(False, "config", f"no config file at {path}: run `backchannel init`")
    db = Database(config.database_url)
    try:
        ready = yield from _database(db)
        yield _contact(config)
        if ready:
            yield from _sources(config, db, event_slug)
    finally:
        db.dispose()
    yield _pagefind()
    yield _writable("site folder", config.site_dir)
    yield _disk(config.media_dir, min_free)


def _database(db: Database) -> Iterator[Check]:
    """The database check; returns whether the database can be read."""
    try:
        revision = db.current_revision()
    except BackchannelError as exc:
        yield Check(False, "database", str(exc))
        return False
    head = head_revision()
    if revision is None:
        yield Check(
            False, "database", f"{db.display_url} is not initialised: run `backchannel init`"
        )
        return False
    if revision != head:
        yield Check(False, "database", f"{db.display_url} is at schema {revision}, this "
                    f"backchannel needs {head}: run `backchannel db upgrade`")  # fmt: skip
        return False
    yield Check(True, "database", f"{db.display_url} at schema {revision}")
    return True


def _contact(config: Config) -> Check:
    if PLACEHOLDER_CONTACT in config.collect.user_agent:
        return Check(False, "contact", f"collect.user_agent still names {PLACEHOLDER_CONTACT}: "
                     "set it to include your contact (a web page or mailto:)")  # fmt: skip
    if not config.export.contact.strip():
        return Check(False, "contact", "export.contact is empty: the About page needs "
                     "someone to ask for removal")  # fmt: skip
    return Check(True, "contact", f"user agent {config.collect.user_agent!r}")


def _sources(config: Config, db: Database, event_slug: str | None) -> Iterator[Check]:
    with db.reading() as session:
        try:
            events = [get_event(session, event_slug)] if event_slug else list_events(session)
        except BackchannelError as exc:
            yield Check(False, "event", str(exc))
            return
        plans = [(event.slug, event.hashtags[0], list(event.sources)) for event in events]
        session.expunge_all()
    if not plans:
        yield Check(False, "events", "no events yet: `backchannel event add` (see --help)")
    quick = _quick(config)
    for slug, hashtag, sources in plans:
        if not sources:
            yield Check(False, slug, f"no sources: `backchannel event add-source {slug} "
                        "--mastodon URL` (or --bluesky)")  # fmt: skip
        for source in sources:
            yield _probe(quick, slug, source, hashtag)


def _quick(config: Config) -> Config:
    """The config for a probe: one try, a short timeout, no waiting for rate limits."""
    return replace(
        config,
        collect=replace(
            config.collect,
            retries=1,
            timeout=min(config.collect.timeout, PROBE_TIMEOUT),
            max_rate_limit_sleep=0.0,
        ),
    )


def _probe(config: Config, slug: str, source: EventSource, hashtag: str) -> Check:
    from backchannel.collectors import host_of

    host = host_of(source.base_url)
    subject = f"{slug} {source.platform} {host}"
    collector = None
    said = known = ""  # known: what it runs, said before a failure too
    try:
        if source.platform == "mastodon":  # what it runs, asked again at each doctor
            from backchannel.collectors import TOKEN_SOFTWARE, read_nodeinfo

            software = read_nodeinfo(source.base_url, config.user_agent_for(source.base_url),
                                     config.collect.timeout, bounds(config))  # fmt: skip
            known = f"runs {software}; " if software else ""
            said = known or "names no software (no NodeInfo); "
            source.software = software.name if software else ""  # this probe reads it so
            if software and software.name in TOKEN_SOFTWARE and not _has_token(config, source):
                return Check(False, subject, _token_needed(config, source.base_url, software))
        collector = make_collector(config, source, threading.Event())
        return Check(True, subject, said + collector.probe(hashtag))
    except BackchannelError as exc:
        return Check(False, subject, known + str(exc).removeprefix(f"{host}: "))
    finally:
        if collector is not None:
            collector.close()


def probe_server(config: Config, slug: str, platform: str, base_url: str, hashtag: str) -> Check:
    """Doctor's line for one server not yet a source (``add-source``, ``init``): it
    answers as the API expects, for this hashtag (once, no retries, a short timeout)."""
    quick = _quick(config)
    return _probe(quick, slug, EventSource(platform=platform, base_url=base_url), hashtag)


def _has_token(config: Config, source: EventSource) -> bool:
    match = config.mastodon_server(source.base_url)
    return match is not None and bool(match[1].access_token_env)


def _token_needed(config: Config, base_url: str, software: object) -> str:
    """What to write where, for a server whose hashtag feed needs a login."""
    from backchannel.collectors import token_table

    match = config.mastodon_server(base_url)
    name, env = token_table(base_url)
    table = match[0] if match is not None else name
    return (f"runs {software}, whose hashtag feed needs a login: set "
            f'mastodon.{table}.access_token_env (a [mastodon.{table}] table with base_url = '
            f'"{base_url}" and access_token_env = "{env}") in {config.path}, and put an access '
            f"token (read:statuses) of an account there in ${env}")  # fmt: skip


def _pagefind() -> Check:
    from backchannel.export import pagefind_binary

    try:
        return Check(True, "search", f"Pagefind at {pagefind_binary()}")
    except BackchannelError as exc:
        return Check(False, "search", str(exc))


def _existing(path: Path) -> Path:
    """``path``, or its nearest folder that exists."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _writable(subject: str, folder: Path) -> Check:
    existing = _existing(folder)
    if not existing.is_dir():
        return Check(False, subject, f"{existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check(False, subject, f"{existing} is not writable: choose another "
                     "[archive] site_dir or fix its permissions")  # fmt: skip
    note = "" if existing == folder else " (will be created)"
    return Check(True, subject, f"{folder} is writable{note}")


def _disk(media_dir: Path, min_free: int) -> Check:
    free = shutil.disk_usage(_existing(media_dir)).free
    amount = f"{free / (1 << 30):.1f} GiB free"
    if free < min_free:
        return Check(False, "disk", f"only {amount} at {media_dir}: media need room "
                     "(free some, or set [archive] media_dir elsewhere)")  # fmt: skip
    return Check(True, "disk", f"{amount} for media at {media_dir}")
