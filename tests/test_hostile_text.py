"""One stranger's post cannot stop a source, nor break a file (issue 20).

A sandbox Mastodon server serves, among ordinary posts, posts whose every field holds a
lone UTF-16 surrogate (``"\\ud800"`` in the JSON) or C0/C1 control characters: content,
content warning, language, alt text, poll option, card, the author's display name,
username, bio and profile fields. They are collected with the real Mastodon.py over
real HTTP, on the first run, and every other post too; the Atom feed and the data files
of the export stay valid.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.sandbox.httpbase import Fault
from backchannel.sandbox.mastodon_model import Card, Media, Poll
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.sanitize import valid_json, valid_text
from backchannel.store import Database, Post
from tests.helpers import run_cli, write_config

LONE = "\ud800"
CONTROLS = "".join(map(chr, [1, 7, 8, 0x0B, 0x0C, 0x1B, 0x7F, 0x85, 0x9F]))
START = datetime(2026, 3, 12, tzinfo=UTC)
ORDINARY = 50


def _world() -> MastodonWorld:
    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example", display_name="Ana")
    for i in range(ORDINARY):
        world.add_post(ana, f"ordinary post {i} #swrs26", created_at=START + timedelta(minutes=i))
    for n, bad in enumerate((LONE, CONTROLS, LONE + CONTROLS)):
        eve = world.add_account(
            f"eve{n}{bad}", "kea.example", display_name=f"Eve {bad}", note=f"bio {bad}",
            fields=[(f"field {bad}", f"value {bad}")],
        )  # fmt: skip
        at = START + timedelta(minutes=ORDINARY + n)
        world.add_post(
            eve, f"hostile {bad} text #swrs26 #tag{bad}", created_at=at,
            spoiler_text=f"cw {bad}", language=f"e{bad}",
            media=[Media(f"m{n}", description=f"alt {bad}")],
            poll=Poll([(f"option {bad}", 1), ("other", 2)], expires_at=at + timedelta(days=1)),
            card=Card(f"https://card.example/{n}", title=f"card {bad}", description=f"d {bad}"),
        )  # fmt: skip
    return world


@pytest.fixture
def sandbox() -> Iterator[MastodonSandbox]:
    with MastodonSandbox(_world()) as running:
        yield running


def test_valid_text_replaces_what_json_allows_and_utf8_or_xml_do_not() -> None:
    assert valid_text(f"a{LONE}b") == "a\ufffdb"
    assert valid_text("tab\tand\nnewline") == "tab\tand\nnewline"
    assert valid_text("crlf\r\nand\rcr") == "crlf\nand\ncr"
    assert valid_text(f"x{CONTROLS}y") == "x" + "\ufffd" * len(CONTROLS) + "y"
    assert valid_text("\U0001f600 emoji stays") == "\U0001f600 emoji stays"
    assert valid_json({f"k{LONE}": [f"v{LONE}", 1, None]}) == {"k\ufffd": ["v\ufffd", 1, None]}


@pytest.mark.parametrize("raw", [False, True], ids=["escaped", "raw-control-bytes"])
def test_a_poisoned_source_collects_every_post_on_its_first_run(
    tmp_path: Path, sandbox: MastodonSandbox, raw: bool, caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox.instances["kea.example"]
    if raw:  # control characters as raw bytes in the JSON, which Mastodon.py refuses
        server.faults.add(Fault("raw_controls", times=1000, path="/api/v1/timelines/tag"))
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'a.db'}",
        f"[archive]\nsite_dir = '{tmp_path / 'site'}'\n",
    )  # fmt: skip
    assert run_cli("init", config=config).exit_code == 0
    added = run_cli(
        "event", "add", "ev", "--title", "Ev", "--hashtag", "swrs26", "--start", "2026-03-12",
        "--end", "2026-03-13", "--timezone", "UTC", "--mastodon", server.base_url, config=config,
    )  # fmt: skip
    assert added.exit_code == 0
    collected = run_cli("collect", "ev", "--no-media", config=config)
    assert collected.exit_code == 0, collected.output
    if raw:  # the statuses that held them, named
        warned = [r.getMessage() for r in caplog.records if "U+FFFD in its place" in r.message]
        assert warned and all(server.base_url in line for line in warned), warned
        named = " ".join(warned)
        with Database(f"sqlite:///{tmp_path / 'a.db'}").reading() as session:
            ids = session.scalars(select(Post.uri).where(Post.text.like("hostile%"))).all()
        assert [i for i in ids if i in named], named
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with db.reading() as session:
            assert session.scalar(select(func.count(Post.id))) == ORDINARY + 3
            hostile = session.scalars(select(Post).where(Post.text.like("hostile%"))).all()
            for post in hostile:
                for value in (post.text, post.html, post.content_warning, post.author.handle,
                              post.author.display_name, post.language or ""):  # fmt: skip
                    assert valid_text(value) == value
                    assert "\ufffd" in value or value == ""
    finally:
        db.dispose()
    exported = run_cli("export", "ev", config=config)
    assert exported.exit_code == 0, exported.output
    site = tmp_path / "site" / "ev"
    ET.parse(site / "feed.atom")  # well-formed XML 1.0
    with (site / "posts.csv").open(newline="", encoding="utf-8") as rows:
        assert len(list(csv.reader(rows))) >= ORDINARY + 1
    for line in (site / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)


def test_every_output_cell_and_feed_stays_valid_for_hostile_stored_text() -> None:
    """Text stored before it was made valid on the way in (control characters) still
    gives well-formed XML; CSV cells that a spreadsheet would run are neutralised."""
    import xml.etree.ElementTree as ElementTree

    from backchannel.export.data import COLUMNS, _csv_row
    from backchannel.export.feeds import atom_bytes

    root = ElementTree.Element("feed")
    ElementTree.SubElement(root, "title", term=f"a{CONTROLS}").text = f"x{CONTROLS}y"
    ElementTree.fromstring(atom_bytes(root))  # parses: XML 1.0 characters only
    for formula in ("=HYPERLINK(\"http://evil.example\",\"click\")", "=1+1", "+1", "-1",
                    "@SUM(A1)", "\tx", "\rx"):  # fmt: skip
        record = dict.fromkeys(COLUMNS, formula) | {"tags": [], "links": [], "media_alt": []}
        record |= {"reply_count": 3, "sensitive": False, "featured": True}
        row = dict(zip(COLUMNS, _csv_row(record), strict=True))
        assert row["text"] == row["author_name"] == row["url"] == "'" + formula
        assert row["reply_count"] == 3 and row["featured"] == "true"
    record = dict.fromkeys(COLUMNS, "plain text") | {"tags": ["-a"], "links": [], "media_alt": []}
    row = dict(zip(COLUMNS, _csv_row(record), strict=True))
    assert row["text"] == "plain text" and row["tags"] == "'-a"


def test_long_names_alt_texts_and_poll_options_are_bounded_raw_keeps_them() -> None:
    from backchannel.collectors import normalize_status
    from backchannel.sanitize import limits

    huge = "x" * 200_000
    raw = {
        "id": "1", "uri": "https://kea.example/users/a/statuses/1", "url": None,
        "created_at": "2026-03-12T00:00:00.000Z", "content": "<p>hi</p>",
        "visibility": "public", "spoiler_text": "", "sensitive": False, "language": "en",
        "account": {"id": "9", "username": "a", "acct": "a", "url": "https://kea.example/@a",
                    "uri": "https://kea.example/users/a", "display_name": huge, "note": ""},
        "media_attachments": [{"id": "m", "type": "image", "url": "https://kea.example/m.png",
                               "description": huge}],
        "poll": {"options": [{"title": huge, "votes_count": 1}], "expires_at": None},
        "card": {"url": "https://card.example/", "title": huge, "description": huge},
        "tags": [], "mentions": [], "emojis": [],
    }  # fmt: skip
    post = normalize_status(raw, "kea.example")
    assert len(post.author.display_name) == limits.NAME
    assert post.author.display_name.endswith("\u2026")
    assert len(post.media[0].alt or "") == limits.ALT_TEXT
    assert post.poll is not None and len(post.poll["options"][0]["title"]) == limits.POLL_OPTION
    assert post.card is not None and len(post.card["title"]) == limits.CARD_TITLE
    assert len(post.card["description"]) == limits.CARD_DESCRIPTION
    assert post.raw["account"]["display_name"] == huge  # the whole text stays in the raw JSON


def test_a_post_the_database_refuses_is_skipped_and_the_page_goes_on(db_url: str) -> None:
    """A handle longer than its column: PostgreSQL refuses it (SQLite stores it). The
    page is stored post by post and only that post is left out, by id."""
    import threading

    from backchannel.collect import collect
    from backchannel.config import parse_config
    from backchannel.events import EventSpec, create_event
    from backchannel.store import CollectionRun

    world = MastodonWorld()
    world.add_instance("kea.example")
    ana = world.add_account("ana", "kea.example")
    for i in range(5):
        world.add_post(ana, f"ordinary {i} #swrs26", created_at=START + timedelta(minutes=i))
    long = world.add_account("x" * 400, "kea.example")
    world.add_post(long, "a long name #swrs26", created_at=START + timedelta(minutes=9))
    with MastodonSandbox(world) as sandbox:
        base_url = sandbox.instances["kea.example"].base_url
        db = Database(db_url)
        db.init()
        try:
            with db.writing() as session:
                create_event(session, EventSpec(
                    slug="ev", title="Ev", hashtags=["swrs26"], start="2026-03-12",
                    end="2026-03-13", timezone="UTC", mastodon=[base_url],
                ))  # fmt: skip
            config = parse_config({"collect": {"retries": 1}}, Path("config.toml"))
            (result,) = collect(db, config, "ev", stop=threading.Event())
            assert result.status == "ok", result.error
            with db.reading() as session:
                texts = set(session.scalars(select(Post.text)))
                run = session.scalars(select(CollectionRun)).one()
            assert {f"ordinary {i} #swrs26" for i in range(5)} <= texts
            if db_url.startswith("postgresql"):
                assert result.skipped["unstorable"] == 1
                assert "a long name #swrs26" not in texts
                assert len(run.unreadable or []) == 1
        finally:
            db.dispose()
