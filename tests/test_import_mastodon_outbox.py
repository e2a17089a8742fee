"""``backchannel import`` of a Mastodon archive's outbox.json (issue 35): Create and
Announce, visibility from the addressing, the actor beside it, consent, a cut file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backchannel.store import ConsentOverride, Database, Post
from tests.helpers import run_cli
from tests.import_kit import archive_with_event

TAG = "swrs26"
ACTOR = "https://kea.example/users/ana"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def create(number: int, content: str, to: list[str], cc: list[str] | None = None,
           published: str = "2026-03-12T10:00:00Z", **note: Any) -> dict[str, Any]:  # fmt: skip
    uri = f"{ACTOR}/statuses/11621{number:04d}"
    return {"id": f"{uri}/activity", "type": "Create", "actor": ACTOR, "published": published,
            "to": to, "cc": cc or [], "object": {
                "id": uri, "type": "Note", "published": published, "url": f"https://kea.example/@ana/11621{number:04d}",
                "attributedTo": ACTOR, "to": to, "cc": cc or [], "content": content,
                "contentMap": {"en": content}, "sensitive": False,
                "tag": [{"type": "Hashtag", "href": f"https://kea.example/tags/{TAG}", "name": f"#{TAG}"},
                        {"type": "Emoji", "name": ":tui:", "icon": {"type": "Image", "url": "https://kea.example/emoji/tui.png"}}],
                **note}}  # fmt: skip


def write_archive(folder: Path, items: list[Any], cut: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    actor = {"id": ACTOR, "type": "Person", "preferredUsername": "ana", "name": "Ana :tui:",
             "summary": "<p>Social worker. #nobot</p>", "url": "https://kea.example/@ana",
             "icon": {"type": "Image", "url": "/media/avatar.png"}}  # fmt: skip
    (folder / "actor.json").write_text(json.dumps(actor), encoding="utf-8")
    outbox = {"@context": "https://www.w3.org/ns/activitystreams", "id": "outbox.json",
              "type": "OrderedCollection", "totalItems": len(items), "orderedItems": items}  # fmt: skip
    text = json.dumps(outbox, indent=2)
    if cut:
        text = text[: text.rfind('"content"')]
    (folder / "outbox.json").write_text(text, encoding="utf-8")
    return folder / "outbox.json"


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrs26", TAG, "2026-03-12", "2026-03-13")


def test_an_outbox_imports_its_public_posts_with_the_owners_consent(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    hashtag = f'<a href="https://kea.example/tags/{TAG}" class="mention hashtag" rel="tag">#<span>{TAG}</span></a>'
    items = [
        create(
            1,
            f"<p>Kia ora :tui: {hashtag} <script>alert(1)</script></p>",
            [PUBLIC],
            attachment=[
                {
                    "type": "Document",
                    "mediaType": "image/png",
                    "name": "A slide",
                    "url": "/media_attachments/files/1/original/a.png",
                    "width": 640,
                    "height": 480,
                }
            ],
        ),  # fmt: skip
        create(2, f"<p>Unlisted {hashtag}</p>", [f"{ACTOR}/followers"], [PUBLIC]),
        create(3, f"<p>Direct {hashtag}</p>", ["https://other.example/users/x"]),
        {
            "id": f"{ACTOR}/statuses/9/activity",
            "type": "Announce",
            "actor": ACTOR,
            "object": "https://other.example/notes/1",
            "to": [PUBLIC],
        },
        create(5, f"<p>Later {hashtag}</p>", [PUBLIC], published="2026-04-01T10:00:00Z"),
        create(
            6, f"<p>Reply {hashtag}</p>", [PUBLIC], inReplyTo=f"{ACTOR}/statuses/116210001"
        ),  # fmt: skip
        create(7, f"<p>Cut {hashtag}</p>", [PUBLIC]),
    ]
    path = write_archive(tmp_path / "archive", items, cut=True)
    result = run_cli("import", "swrs26", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("outbox.json"))
    assert row.split()[1:5] == ["mastodon-outbox", "7", "2", "0"], result.output
    for said in ("not public 2", "boost (the boosted post is not in the archive) 1",
                 "outside the event's time 1", "cut short, or not JSON, from here on",
                 "outbox.json: ana@kea.example: allowed (sent their own archive)"):  # fmt: skip
        assert said in result.output, result.output
    db = Database(db_url)
    try:
        with db.reading() as session:
            posts = {p.uri.rsplit("/", 1)[-1]: p for p in session.scalars(select(Post))}
            assert sorted(posts) == ["116210001", "116210006"]
            first = posts["116210001"]
            assert first.platform == "mastodon" and first.author.handle == "ana@kea.example"
            assert "<script" not in first.html and "Kia ora" in first.text
            assert [(m.alt, m.remote_url) for m in first.media] == [
                ("A slide", "https://kea.example/media_attachments/files/1/original/a.png")
            ]
            assert posts["116210006"].reply_to_uri == first.uri
            override = session.scalars(select(ConsentOverride)).one()
            assert (override.handle, override.decision) == ("ana@kea.example", "allow")
    finally:
        db.dispose()
    again = run_cli("import", "swrs26", str(path), "--no-media", "--wide", config=config)
    row = next(line for line in again.output.splitlines() if line.startswith("outbox.json"))
    assert row.split()[2:5] == ["7", "0", "2"]


def test_an_outbox_without_its_actor_is_refused(tmp_path: Path, config: Path) -> None:
    path = write_archive(tmp_path / "a", [])
    (path.parent / "actor.json").unlink()
    result = run_cli("import", "swrs26", str(path), config=config)
    assert result.exit_code != 0 and "no actor.json beside it" in result.output
