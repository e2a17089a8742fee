"""One poisoned Bluesky post never costs the page it is on (issue 31).

atproto parses each answer with ``pydantic_core.from_json``, which refuses a whole page
for one escaped lone surrogate (``"\\ud800"``) or one raw control byte in a string.
The sandbox serves a search whose posts carry such a character in each field a
stranger writes: the text, the display name, an image's alt text, a link card, a tag
facet, the handle; and one page with a raw control byte. With the real atproto client
over real HTTP, every post is stored (the poison replaced by U+FFFD), the poisoned ones
are named in the log, and the walk finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from backchannel.sandbox.bluesky import BlueskySandbox
from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.httpbase import Fault
from backchannel.sandbox.images import png
from backchannel.sanitize import valid_text
from backchannel.store import Author, CollectionRun, Database, Post
from tests.helpers import run_cli, write_config

TAG = "swrs26"
START = datetime(2026, 3, 12, 9, tzinfo=UTC)
LONE = "\ud800"
ORDINARY = 30
PASSWORD_ENV = "POISONED_BLUESKY_PASSWORD"


def _poison_text(view: dict[str, Any]) -> None:
    view["record"]["text"] = f"poisoned {LONE} text #{TAG}"


def _poison_name(view: dict[str, Any]) -> None:
    view["author"]["displayName"] = f"Eve {LONE}"


def _poison_alt(view: dict[str, Any]) -> None:
    view["embed"]["images"][0]["alt"] = f"alt {LONE}"


def _poison_card(view: dict[str, Any]) -> None:
    view["embed"]["external"]["title"] = f"card {LONE}"


def _poison_tag(view: dict[str, Any]) -> None:
    view["record"]["facets"][0]["features"][0]["tag"] = f"{TAG}{LONE}"


def _poison_handle(view: dict[str, Any]) -> None:
    view["author"]["handle"] = f"eve{LONE}.bsky.example"


POISONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "text": _poison_text, "display name": _poison_name, "alt text": _poison_alt,
    "card": _poison_card, "tag facet": _poison_tag, "handle": _poison_handle,
}  # fmt: skip


def _world() -> tuple[World, dict[str, str]]:
    """Ordinary posts, one poisoned post per field, and one with a control character;
    the URIs of the poisoned ones, by field."""
    world = World(hashtags=[TAG], window=(START - timedelta(days=1), START + timedelta(days=2)))
    world.login = world.add_account("archivist.bsky.example", "Archivist", app_password="pass",
                                    avatar=False)  # fmt: skip
    ana = world.add_account("ana.bsky.example", "Ana", avatar=False)
    for i in range(ORDINARY):
        world.post(ana, f"ordinary {i} #{TAG}", created_at=START + timedelta(minutes=i))
    blob = world.add_blob(png("poison", 16, 16), "image/png")
    poisoned: dict[str, str] = {}
    by_uri: dict[str, Callable[[dict[str, Any]], None]] = {}
    for n, (field, poison) in enumerate(POISONS.items()):
        eve = world.add_account(f"eve{n}.bsky.example", f"Eve {n}", avatar=False)
        text = f"poisoned {n} #{TAG}"
        size = len(text.encode())
        facet = {"$type": "app.bsky.richtext.facet",
                 "index": {"byteStart": size - len(TAG) - 1, "byteEnd": size},
                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": TAG}]}  # fmt: skip
        embed: dict[str, Any] = (
            {"$type": "app.bsky.embed.external",
             "external": {"uri": "https://card.example/", "title": "card", "description": "d"}}
            if field == "card" else
            {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "alt"}]}
        )  # fmt: skip
        post = world.post(eve, text, created_at=START + timedelta(minutes=ORDINARY + n),
                          facets=[facet], embed=embed)  # fmt: skip
        poisoned[field] = post.uri
        by_uri[post.uri] = poison
    control = world.post(ana, f"control \x01\x1b\x7f bytes #{TAG}",
                         created_at=START + timedelta(minutes=ORDINARY + 10))  # fmt: skip
    poisoned["raw control bytes"] = control.uri

    def rewrite(post: Any, view: dict[str, Any]) -> dict[str, Any]:
        if post.uri in by_uri:
            by_uri[post.uri](view)
        return view

    world.rewrite_view = rewrite
    return world, poisoned


def test_a_poisoned_post_in_any_field_is_read_and_named_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world, poisoned = _world()
    with BlueskySandbox(world) as bluesky:
        # Each page of the search with its control characters as raw bytes.
        bluesky.server.faults.add(
            Fault("raw_controls", times=1000, path="/xrpc/app.bsky.feed.searchPosts")
        )
        monkeypatch.setenv(PASSWORD_ENV, bluesky.app_password)
        url = f"sqlite:///{tmp_path / 'a.db'}"
        config = write_config(
            tmp_path, url,
            f'[bluesky]\nservice = "{bluesky.base_url}"\nhandle = "{bluesky.handle}"\n'
            f'app_password_env = "{PASSWORD_ENV}"\n',
        )  # fmt: skip
        assert run_cli("init", config=config).exit_code == 0
        added = run_cli("event", "add", "ev", "--title", "Ev", "--hashtag", TAG,
                        "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
                        "--bluesky", config=config)  # fmt: skip
        assert added.exit_code == 0, added.output
        collected = run_cli("collect", "ev", "--no-media", config=config)
    assert collected.exit_code == 0, collected.output
    warned = " ".join(r.getMessage() for r in caplog.records if "U+FFFD in its place" in r.message)
    for field, uri in poisoned.items():
        assert uri in warned, f"the post poisoned in its {field} is not named"
    db = Database(url)
    try:
        with db.reading() as session:
            assert session.scalar(select(func.count(Post.id))) == ORDINARY + len(poisoned)
            assert session.scalars(select(CollectionRun.status)).all() == ["ok"]
            for uri in poisoned.values():
                post = session.scalars(select(Post).where(Post.uri == uri)).one()
                for value in (post.text, post.author.handle, post.author.display_name):
                    assert valid_text(value) == value
            handles = session.scalars(select(Author.handle)).all()
            assert any("\ufffd" in handle for handle in handles)
    finally:
        db.dispose()
