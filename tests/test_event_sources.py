"""Sources you can fix (issue 33): ``event remove-source`` (the posts only it saw are
counted and kept unless ``--delete-posts``) and ``event edit --bluesky-service``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.sandbox.bluesky import BlueskySandbox
from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.store import Database, EventSource, Post
from tests.helpers import run_cli, write_config

START = datetime(2026, 3, 12, 9, tzinfo=UTC)
EVENT = ["--title", "Ev", "--hashtag", "swrs26", "--start", "2026-03-12", "--end",
         "2026-03-13", "--timezone", "UTC"]  # fmt: skip


def _world() -> MastodonWorld:
    """Ten posts both servers have (Ana is followed from tui), five only kea has."""
    world = MastodonWorld()
    world.add_instance("kea.example")
    world.add_instance("tui.example")
    ana = world.add_account("ana", "kea.example", seen_by=["tui.example"])
    bo = world.add_account("bo", "kea.example")
    for n in range(10):
        world.add_post(ana, f"shared {n} #swrs26", created_at=START + timedelta(minutes=n))
    for n in range(5):
        world.add_post(bo, f"kea only {n} #swrs26", created_at=START + timedelta(minutes=n))
    return world


def _texts(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.reading() as session:
            return sorted(session.scalars(select(Post.text)).all())
    finally:
        db.dispose()


def test_remove_source_keeps_the_posts_only_it_saw_unless_told(tmp_path: Path) -> None:
    with MastodonSandbox(_world()) as sandbox:
        kea, tui = (sandbox.instances[n] for n in ("kea.example", "tui.example"))
        for server in (kea, tui):
            server.budget = RateBudget(limit=10**6)
        url = f"sqlite:///{tmp_path / 'a.db'}"
        config = write_config(tmp_path, url)
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", *EVENT, "--mastodon", kea.base_url,
                       "--mastodon", tui.base_url, config=config).exit_code == 0  # fmt: skip
        assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 0
        everything = _texts(url)
        assert len(everything) == 15

        kept = run_cli("event", "remove-source", "ev", kea.base_url, config=config)
        assert kept.exit_code == 0, kept.output
        assert f"ev: removed mastodon {kea.base_url}" in kept.output
        assert "5 post(s) only it had seen stay in the event" in kept.output
        assert _texts(url) == everything
        shown = run_cli("event", "show", "ev", config=config).output
        assert kea.base_url not in shown and tui.base_url in shown

        assert run_cli("event", "add-source", "ev", "--mastodon", kea.base_url,
                       config=config).exit_code == 0  # fmt: skip
        assert run_cli("collect", "ev", "--no-media", config=config).exit_code == 0
        gone = run_cli("event", "remove-source", "ev", kea.base_url, "--delete-posts",
                       config=config)  # fmt: skip
        tui_url = tui.base_url
    assert gone.exit_code == 0, gone.output
    assert (
        "5 post(s) only it had seen left the event; 5 that no other event held were deleted"
        in gone.output
    )
    assert _texts(url) == [t for t in everything if t.startswith("shared")]

    wrong = run_cli("event", "remove-source", "ev", "https://mastodon.socal", config=config)
    assert wrong.exit_code == 1
    assert f"ev reads nothing at https://mastodon.socal (its sources: {tui_url})" in wrong.output


def test_a_changed_bluesky_service_is_the_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_kill_resume import PASSWORD_ENV, _bluesky

    with BlueskySandbox(_bluesky()) as bluesky:
        bluesky.server.budget = RateBudget(limit=10**6)
        url = f"sqlite:///{tmp_path / 'a.db'}"
        config = write_config(
            tmp_path, url,
            '[bluesky]\nservice = "https://pds.wrong.example"\n'
            f'handle = "{bluesky.handle}"\napp_password_env = "{PASSWORD_ENV}"\n',
        )  # fmt: skip
        monkeypatch.setenv(PASSWORD_ENV, bluesky.app_password)
        assert run_cli("init", config=config).exit_code == 0
        assert run_cli("event", "add", "ev", *EVENT, "--bluesky", config=config).exit_code == 0
        edited = run_cli("event", "edit", "ev", "--bluesky-service", bluesky.base_url,
                         config=config)  # fmt: skip
        assert edited.exit_code == 0, edited.output
        assert f"ev: Bluesky is now read through {bluesky.base_url}" in edited.output
        collected = run_cli("collect", "ev", "--no-media", config=config)
        asked = len(bluesky.server.request_log)
        service = bluesky.base_url
    assert collected.exit_code == 0, collected.output
    assert asked > 0 and len(_texts(url)) == 900
    db = Database(url)
    try:
        with db.reading() as session:
            services = session.scalars(select(EventSource.base_url)).all()
    finally:
        db.dispose()
    assert services == [service]
    again = run_cli("event", "edit", "ev", "--bluesky-service", service, config=config)
    assert "nothing changed" in again.output
