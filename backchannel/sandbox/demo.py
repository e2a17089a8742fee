"""``backchannel demo``: the whole pipeline, offline, on the generated conference.

It starts the sandbox servers on free loopback ports (three Mastodon servers, one more
served as GoToSocial, a Misskey server and Bluesky), writes a throwaway config into a
data folder, registers the demo event and runs the same services a user runs:
collection (twice, with late posts, edits and deletions arriving in between), media
preservation, a recheck for edits and deletions, the import of a sample storyboard,
and the export of the static archive. Each step is reported through ``report`` with its counts.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backchannel.collect import SourceResult, collect, recheck
from backchannel.config import Config, load_config
from backchannel.errors import SandboxError
from backchannel.events import EventSpec, create_event
from backchannel.export import ExportOptions, export_site
from backchannel.media import fetch_media
from backchannel.sandbox import conference
from backchannel.sandbox.demo_story import import_demo_story
from backchannel.store import Database

log = logging.getLogger(__name__)

MARKER = ".backchannel-demo"  # only a folder holding this is ever wiped by the demo
PASSWORD_ENV = "BACKCHANNEL_DEMO_BLUESKY_PASSWORD"

# report(step, results): a step done, with the per-source results of a collection.
Report = Callable[[str, list[SourceResult] | None], None]


@dataclass
class DemoResult:
    data_dir: Path
    site_dir: Path
    config_path: Path
    passes: list[list[SourceResult]] = field(default_factory=list)


@dataclass
class RunningSandbox:
    mastodon: Any  # MastodonSandbox
    bluesky: Any  # BlueskySandbox

    @property
    def mastodon_urls(self) -> list[str]:
        return list(self.mastodon.source_urls)

    @property
    def bluesky_url(self) -> str:
        return str(self.bluesky.base_url)

    def now(self) -> datetime:
        """The sandbox's own "now" (the demo event happened in the past)."""
        return self.bluesky.world.now()  # type: ignore[no-any-return]

    def advance(self) -> None:
        """Let time pass in both worlds: late posts arrive, edits and deletions happen."""
        self.mastodon.world.advance()
        self.bluesky.world.advance()


@contextmanager
def running_sandbox() -> Iterator[RunningSandbox]:
    """Both platforms' sandboxes over the demo worlds, stopped on exit."""
    from backchannel.sandbox.bluesky import BlueskySandbox
    from backchannel.sandbox.bluesky import build_demo_world as bluesky_world
    from backchannel.sandbox.mastodon_demo import build_demo_world as mastodon_world
    from backchannel.sandbox.mastodon_server import MastodonSandbox

    with ExitStack() as stack:
        mastodon = stack.enter_context(MastodonSandbox(mastodon_world()))
        bluesky = stack.enter_context(BlueskySandbox(bluesky_world()))
        yield RunningSandbox(mastodon, bluesky)


def prepare_data_dir(path: Path) -> None:
    """An empty data folder; refuse to wipe one the demo did not make."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise SandboxError(f"{path} is not empty and was not made by the demo; choose --data")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by `backchannel demo`; safe to delete\n", encoding="utf-8")


def write_config(
    data_dir: Path, site_dir: Path, sandbox: RunningSandbox, db_url: str = "sqlite:///demo.db"
) -> Path:
    path = data_dir / "config.toml"
    path.write_text(
        "# Written by `backchannel demo` for its loopback sandbox; throwaway.\n"
        "[database]\n"
        f'url = "{db_url}"\n'
        "[archive]\n"
        'media_dir = "media"\n'
        f"site_dir = {str(site_dir)!r}\n"
        "[bluesky]\n"
        f'service = "{sandbox.bluesky_url}"\n'
        f'handle = "{sandbox.bluesky.handle}"\n'
        f'app_password_env = "{PASSWORD_ENV}"\n'
        "[collect]\n"
        'user_agent = "backchannel-demo (+https://backchannel.example/demo)"\n'
        "timeout = 10.0\n"
        "retries = 3\n"
        "backoff_cap = 1.0\n"
        "max_rate_limit_sleep = 5.0\n"
        # The demo's second pass follows the first at once: re-scan on every pass.
        "rescan_every_minutes = 0.0\n"
        "[export]\n"
        f'title = "{conference.TITLE} (demo)"\n'
        'contact = "organisers@swrs.example"\n',
        encoding="utf-8",
    )
    return path


def register_demo_event(db: Database, sandbox: RunningSandbox) -> None:
    local = conference.STARTS_AT.tzinfo
    with db.writing() as session:
        create_event(
            session,
            EventSpec(
                slug=conference.SLUG,
                title=conference.TITLE,
                description=conference.DESCRIPTION,
                hashtags=conference.HASHTAGS,
                start=conference.STARTS_AT.isoformat(),
                end=conference.ENDS_AT.isoformat(),
                timezone=conference.TIMEZONE,
                margin_before="1h",
                margin_after="1h",
                mastodon=sandbox.mastodon_urls,
                bluesky=sandbox.bluesky_url,
            ),
        )
    log.debug("registered the demo event (local zone %s)", local)


GOTOSOCIAL = "weka.example"  # one of the demo world's servers, served as GoToSocial
TOKEN_ENV = "BACKCHANNEL_DEMO_GOTOSOCIAL_TOKEN"


@contextmanager
def other_servers(sandbox: RunningSandbox) -> Iterator[tuple[str, str]]:
    """The demo's fediverse beyond Mastodon: ``weka.example`` served as GoToSocial (its
    ULIDs, its token) and a Misskey server; their base URLs, stopped on exit."""
    from backchannel.sandbox.misskey_demo import build_demo_misskey
    from backchannel.sandbox.misskey_server import MisskeyServer

    gotosocial = sandbox.mastodon.instances[GOTOSOCIAL]
    gotosocial.use("gotosocial")
    with MisskeyServer(build_demo_misskey()) as misskey:
        yield gotosocial.base_url, misskey.base_url


def add_other_sources(db: Database, config_path: Path, gotosocial: str, misskey: str) -> None:
    """The GoToSocial and Misskey sources on the demo event, the token in the config."""
    from backchannel.events import add_source, get_event

    with config_path.open("a", encoding="utf-8") as config:
        config.write(f'[mastodon.weka]\nbase_url = "{gotosocial}"\n'
                     f'access_token_env = "{TOKEN_ENV}"\n')  # fmt: skip
    os.environ[TOKEN_ENV] = "demo-token"
    with db.writing() as session:
        event = get_event(session, conference.SLUG)
        add_source(session, event, "mastodon", gotosocial)
        add_source(session, event, "mastodon", misskey)


def run_demo(data_dir: Path, site_dir: Path, report: Report) -> DemoResult:
    prepare_data_dir(data_dir)
    with running_sandbox() as sandbox, other_servers(sandbox) as (gotosocial, misskey):
        report(
            f"sandbox: {len(sandbox.mastodon_urls)} Mastodon servers, a GoToSocial server, a "
            "Misskey server and a Bluesky server on 127.0.0.1 "
            f"({', '.join([*sandbox.mastodon_urls, gotosocial, misskey, sandbox.bluesky_url])})",
            None,
        )
        config_path = write_config(data_dir, site_dir.resolve(), sandbox)
        os.environ[PASSWORD_ENV] = sandbox.bluesky.app_password
        db = Database(load_config(config_path).database_url)
        db.init()
        register_demo_event(db, sandbox)
        add_other_sources(db, config_path, gotosocial, misskey)
        config: Config = load_config(config_path)
        tags = " ".join(f"#{tag}" for tag in conference.HASHTAGS)
        report(f"registered {conference.SLUG}: {conference.TITLE}, {tags}", None)
        result = DemoResult(data_dir, site_dir, config_path)
        result.passes.append(collect(db, config, conference.SLUG, clock=sandbox.now))
        report("collected", result.passes[-1])
        sandbox.advance()
        result.passes.append(collect(db, config, conference.SLUG, clock=sandbox.now))
        report("collected again, after late posts, edits and deletions arrived", result.passes[-1])
        media = fetch_media(db, config, conference.SLUG)
        report(
            f"stored {media.fetched} media files, avatars and emoji locally "
            f"({media.bytes // 1024} KiB in {media.requests} downloads; "
            f"{media.gone} gone, {media.failed + media.refused} not stored)",
            None,
        )
        checked = recheck(db, config, conference.SLUG)
        report(
            f"rechecked {checked.posts} posts in {checked.requests} requests: "
            f"{checked.edited} edited, {checked.deleted} deleted at their source and removed",
            None,
        )
        import_demo_story(db, report)
        exported = export_site(
            db, ExportOptions.from_config(config, out=site_dir), (conference.SLUG,)
        )
        excluded = ", ".join(f"{r} {n}" for r, n in sorted(exported.excluded.items())) or "none"
        report(
            f"exported {exported.posts} posts to {site_dir} "
            f"({exported.stats.written} files written; left out: {excluded}; "
            f"search index: {'yes' if exported.searched else 'no'})",
            None,
        )
        db.dispose()
    return result
