"""The Misskey family through its own API (issue 32): ``notes/search-by-tag`` on the
loopback Misskey server (real HTTP), MFM made safe, consent read from the detailed
users, late notes found by the re-scan and deletions by ``recheck``."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backchannel.collectors import MisskeyCollector, RetryPolicy, Window, normalize_note
from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.misskey_server import MisskeyServer
from backchannel.sandbox.misskey_world import File, MisskeyWorld
from backchannel.store import Author, Database, Post
from tests.helpers import run_cli, write_config

START = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
NOTES = 250
WINDOW = Window(START - timedelta(hours=1), START + timedelta(days=1))


def _world() -> MisskeyWorld:
    world = MisskeyWorld("misskey.example")
    ana = world.add_user("ana", name="Ana :tui:")
    remote = world.add_user("rua", "kea.example", name="Rua")
    for n in range(NOTES):
        files = [File(f"f{n}", f"slide{n}.png", comment="a slide")] if n % 5 == 0 else []
        world.add_note(ana if n % 2 else remote, f"note {n} #SWRS26", files=files,
                       created_at=START + timedelta(minutes=5 * n))  # fmt: skip
    for n in range(20):  # before the window: the first run starts past them
        world.add_note(ana, f"old {n} #swrs26", created_at=START - timedelta(days=2, minutes=n))
    world.add_note(ana, "home only #swrs26", visibility="home", created_at=START)
    world.add_note(ana, "followers #swrs26", visibility="followers", created_at=START)
    return world


def _texts(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.reading() as session:
            return list(session.scalars(select(Post.text)).all())
    finally:
        db.dispose()


def _run(base_url: str, cursor: dict[str, Any] | None) -> tuple[list[str], dict[str, Any], int]:
    collector = MisskeyCollector(base_url, policy=RetryPolicy(attempts=2, backoff_base=0.01))
    texts: list[str] = []
    last = cursor
    try:
        for page in collector.collect("swrs26", WINDOW, cursor):
            texts += [post.text for post in page.posts]
            last = page.cursor
        return texts, last or {}, collector.request_count
    finally:
        collector.close()


def test_a_misskey_server_is_read_once_through_search_by_tag_and_an_idle_run_is_cheap() -> None:
    with MisskeyServer(_world()) as server:
        server.budget = RateBudget(limit=10**6)
        texts, cursor, requests = _run(server.base_url, None)
        asked = [t for m, t in server.request_log if "search-by-tag" in t]
        again, _, idle = _run(server.base_url, cursor)
    assert sorted(texts) == sorted(f"note {n} #SWRS26" for n in range(NOTES))
    pages = math.ceil(NOTES / 100)
    assert len(asked) <= pages + 1  # the last page is short: no empty page after it
    assert requests <= len(asked) + pages  # and one users/show a page at most
    assert again == []
    assert idle <= 2


def test_a_note_becomes_safe_html_with_its_links_mentions_tags_and_emoji() -> None:
    raw = {
        "id": "9zz1abcd4d1x0001", "createdAt": "2026-03-12T09:00:00.000Z", "userId": "u1",
        "user": {"id": "u1", "username": "ana", "host": None, "name": "<b>Ana</b> :tui:",
                 "avatarUrl": "javascript:alert(1)", "isBot": False, "emojis": {}},
        "text": ("**Opening** $[x2 keynote] by @rua@kea.example #SWRS26 :tui: <small>quiet</small>\n"
                 "slides https://example.org/s. and [more](javascript:alert(1)) "
                 "[ok](https://example.org/ok) <script>alert(1)</script>"
                 '<img src=x onerror="alert(1)">'),
        "cw": None, "visibility": "home", "tags": ["swrs26"], "files": [
            {"id": "f1", "type": "image/png", "url": "https://misskey.example/files/f1",
             "thumbnailUrl": "https://misskey.example/files/f1-thumb", "comment": "a slide",
             "isSensitive": True, "properties": {"width": 640, "height": 480}}],
        "replyId": None, "renoteId": None, "repliesCount": 2, "renoteCount": 1,
    }  # fmt: skip
    post = normalize_note(
        raw, "https://misskey.example", {"noindex": True, "description": "#nobot"}
    )
    assert "<script" not in post.html and "<img src=x" not in post.html  # shown as text
    assert "&lt;script&gt;" in post.html
    assert 'href="javascript' not in post.html and post.author.avatar_url is None
    assert '<a href="https://example.org/s"' in post.html  # the full stop is not the link's
    assert '<a href="https://example.org/ok"' in post.html
    assert "<strong>Opening</strong>" in post.html and "keynote" in post.html
    assert "$[" not in post.text and "<small>" not in post.text
    assert 'src="https://misskey.example/emoji/tui.webp"' in post.html
    assert post.mentions == (("rua@kea.example", "https://kea.example/@rua"),)
    assert post.tags == ("swrs26",)
    assert post.links == ("https://example.org/s", "https://example.org/ok")
    assert post.visibility == "unlisted" and post.sensitive
    assert post.uri == "https://misskey.example/notes/9zz1abcd4d1x0001"
    assert post.media[0].alt == "a slide" and post.media[0].width == 640
    assert post.author.noindex is True and post.author.bio_text == "#nobot"
    assert post.author.uri == "https://misskey.example/users/u1"
    assert post.author.handle == "ana@misskey.example"
    assert "<b>" not in post.author.display_name_html


def _event(tmp_path: Path, base_url: str) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    config = write_config(tmp_path, url, "[collect]\nrescan_every_minutes = 0.001\n")
    assert run_cli("init", config=config).exit_code == 0
    added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26",
                    "--start", f"{START:%Y-%m-%d}", "--end", f"{START + timedelta(days=2):%Y-%m-%d}",
                    "--timezone", "UTC", "--mastodon", base_url, config=config)  # fmt: skip
    assert added.exit_code == 0, added.output
    return config, url


def test_a_misskey_source_collects_honours_consent_finds_late_notes_and_deletions(
    tmp_path: Path,
) -> None:
    world = _world()
    shy = world.add_user("shy", noindex=True)
    quiet = world.add_user("quiet", "kea.example", description="no archiving please #nobot")
    world.add_note(shy, "do not index me #swrs26", created_at=START + timedelta(hours=1))
    world.add_note(quiet, "not for bots #swrs26", created_at=START + timedelta(hours=1))
    with MisskeyServer(world) as server:
        server.budget = RateBudget(limit=10**6)
        config, url = _event(tmp_path, server.base_url)
        first = run_cli("collect", "ev", "--no-media", config=config)
        assert first.exit_code == 0, first.output
        assert "opted out" in first.output, first.output
        assert "misskey 2024.11.0" in run_cli("event", "show", "ev", config=config).output
        newest = START + timedelta(minutes=5 * (NOTES - 1))
        ana = next(u for u in world.users.values() if u.username == "ana")
        world.add_note(ana, "late #swrs26", created_at=newest - timedelta(hours=1), arrives=1)
        gone = next(n for n in world.notes.values() if n.text == "note 7 #SWRS26")
        world.delete(gone, step=1)
        world.advance()
        time.sleep(0.1)  # past rescan_every
        second = run_cli("collect", "ev", "--no-media", config=config)
        assert second.exit_code == 0, second.output
        checked = run_cli("recheck", "ev", config=config)
        assert checked.exit_code == 0, checked.output
        doctor = run_cli("doctor", config=config)
    expected = [f"note {n} #SWRS26" for n in range(NOTES) if n != 7] + ["late #swrs26"]
    assert sorted(_texts(url)) == sorted(expected)
    assert "runs misskey 2024.11.0; Misskey 2024.11.0; #swrs26 readable" in doctor.output
    db = Database(url)
    try:
        with db.reading() as session:
            rua = session.scalars(select(Author).where(Author.handle == "rua@kea.example")).one()
    finally:
        db.dispose()
    assert rua.uri == "https://kea.example/users/rua"  # one person, met anywhere


@pytest.mark.parametrize("visibility", ["home", "followers"])
def test_only_public_notes_are_archived(visibility: str) -> None:
    world = MisskeyWorld()
    ana = world.add_user("ana")
    world.add_note(ana, "#swrs26 public", created_at=START)
    world.add_note(ana, f"#swrs26 {visibility}", created_at=START, visibility=visibility)
    with MisskeyServer(world) as server:
        texts, _, _ = _run(server.base_url, None)
    assert texts == ["#swrs26 public"]


def test_a_misskey_with_another_id_method_is_walked_down_and_then_forward() -> None:
    """A server set to ULIDs (a Misskey admin's choice): nothing is above the window's
    first aidx id, so the first run walks down from the newest note; later runs go
    forward from the newest it met."""
    world = MisskeyWorld(ids="ulid")
    ana = world.add_user("ana")
    for n in range(250):
        world.add_note(ana, f"note {n} #swrs26", created_at=START + timedelta(minutes=3 * n))
    with MisskeyServer(world) as server:
        server.budget = RateBudget(limit=10**6)
        texts, cursor, _ = _run(server.base_url, None)
        world.add_note(ana, "later #swrs26", created_at=START + timedelta(hours=20))
        again, _, idle = _run(server.base_url, cursor)
    assert sorted(texts) == sorted(f"note {n} #swrs26" for n in range(250))
    assert again == ["later #swrs26"] and idle <= 2
