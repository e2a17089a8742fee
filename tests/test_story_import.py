"""Storyboards against a real database: draft, import (with every validation error),
export, the round trip, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.curation.drafting import DraftOptions, draft_story
from backchannel.curation.stories import export_story, import_story, set_state
from backchannel.curation.storyfile import parse
from backchannel.errors import InputError, NotFoundError
from backchannel.store.db import Database
from backchannel.store.models import Author, Post, Tombstone
from backchannel.store.writer import key_hash
from tests.export_fixture import build_fixture
from tests.helpers import run_cli, snapshot, write_config

HEAD = "---\ntitle: Day one\nslug: fresh\nevent: swrb13\ncurator: Ngaio\n---\n\n"


@pytest.fixture
def db(db_url: str) -> Database:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _uri(db: Database, key: str) -> str:
    with db.reading() as session:
        return session.scalar(select(Post.uri).where(Post.uri.endswith(f"/{key}")))


def test_draft_edit_import_export_round_trip(db: Database) -> None:
    with db.reading() as session:
        drafted = draft_story(session, "swrb13", DraftOptions(slug="fresh"))
    doc = parse(drafted)
    posts = [b for b in doc.blocks if b.kind == "post"]
    assert posts and all(b.ref for b in posts)
    assert "<!-- @ana@mastodon.example:" in drafted  # each post says who and what
    assert "hiddenword" not in drafted and "deletedword" not in drafted
    # The curator edits: a heading, text and a note.
    lines = drafted.splitlines()
    first = lines.index(posts[0].ref)
    lines[first + 2 : first + 2] = ["> **Why** this matters.", "", "## Afterwards", "",
                                    "Text of *mine*.", ""]  # fmt: skip
    edited = "\n".join(lines) + "\n"
    with db.writing() as session:
        result = import_story(session, edited, "edited.md")
        assert not result.replaced and result.posts == len(posts)
    with db.reading() as session:
        exported = export_story(session, "swrb13", "fresh")
    before, after = parse(edited), parse(exported)
    assert [b.content() for b in after.blocks] == [b.content() for b in before.blocks]
    assert (
        after.blocks[[b.kind for b in after.blocks].index("post")].note == "**Why** this matters."
    )
    # Importing the same slug again replaces the story.
    with db.writing() as session:
        again = import_story(session, HEAD + "## Only\n", "short.md")
        assert again.replaced
    with db.reading() as session:
        assert parse(export_story(session, "swrb13", "fresh")).blocks[0].text == "Only"


def test_addresses_in_every_form(db: Database) -> None:
    with db.reading() as session:
        bsky = session.scalars(select(Post).where(Post.platform == "bluesky")).first()
        handle = session.scalar(select(Author.handle).where(Author.id == bsky.author_id))
        did, rkey = bsky.uri[len("at://") :].split("/")[0], bsky.uri.rsplit("/", 1)[1]
    mastodon = _uri(db, "1005")
    forms = [
        mastodon,  # canonical URI
        mastodon.replace("/users/", "/@").replace("/statuses/", "/"),  # web URL
        bsky.uri,
        f"https://bsky.app/profile/{handle}/post/{rkey}",
        f"https://bsky.app/profile/{did}/post/{rkey}",
        f"at://{handle}/app.bsky.feed.post/{rkey}",
    ]
    body = "\n\n".join(forms) + "\n"
    with db.writing() as session:
        result = import_story(session, HEAD + body, "forms.md")
        assert result.posts == len(forms)


def test_every_validation_error_names_its_line(db: Database) -> None:
    mastodon = _uri(db, "1005")
    hidden = _uri(db, "1007")
    forgotten = "https://mastodon.example/users/gone/statuses/4242"
    with db.writing() as session:
        session.add(Tombstone(kind="post", key_sha256=key_hash(forgotten)))
    typo = mastodon + "77"
    text = HEAD + f"{mastodon}\n\n{typo}\n\n{hidden}\n\n{forgotten}\n"
    before = snapshot(db.url) if hasattr(db, "url") else None
    with db.writing() as session, pytest.raises(InputError) as caught:
        import_story(session, text, "bad.md")
    lines = str(caught.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("bad.md:10: no archived post at ") and mastodon in lines[0]
    assert lines[1].startswith("bad.md:12: ") and "hidden" in lines[1]
    assert lines[2].startswith("bad.md:14: ") and "forgotten at its author's request" in lines[2]
    if before is not None:
        assert snapshot(db.url) == before
    with db.reading() as session:
        with pytest.raises(NotFoundError):
            export_story(session, "swrb13", "day-one-missing")
    with db.writing() as session, pytest.raises(InputError, match=r"^x\.md:4: no event 'nope'"):
        import_story(session, HEAD.replace("swrb13", "nope"), "x.md")
    with db.writing() as session, pytest.raises(InputError, match=r"^x\.md:3: .*slug"):
        import_story(session, HEAD.replace("fresh", "Bad Slug!"), "x.md")


def test_hide_feature_and_draft_filters(db: Database) -> None:
    url = _uri(db, "1005").replace("/users/", "/@").replace("/statuses/", "/")
    with db.writing() as session:
        with pytest.raises(InputError, match="--reason"):
            set_state(session, url, "hidden")
        set_state(session, url, "hidden", "asked by a colleague")
    with db.reading() as session:
        assert _uri(db, "1005") not in draft_story(session, "swrb13", DraftOptions())
    with db.writing() as session:
        set_state(session, url, "featured")
    with db.reading() as session:
        featured = draft_story(session, "swrb13", DraftOptions(featured=True))
        top = draft_story(session, "swrb13", DraftOptions(top=2))
    assert url in featured
    assert len([b for b in parse(top).blocks if b.kind == "post"]) == 2


def test_cli(db_url: str, tmp_path: Path) -> None:
    build_fixture(db_url).dispose()
    config = write_config(tmp_path, db_url)
    schedule = tmp_path / "sessions.toml"
    schedule.write_text('[[session]]\ntitle = "Morning keynote"\nstart = "2013-11-14 08:00"\n'
                        'end = "2013-11-14 10:00"\n', encoding="utf-8")  # fmt: skip
    assert (
        "1 session" in run_cli("event", "schedule", "swrb13", str(schedule), config=config).output
    )
    drafted = run_cli("story", "draft", "swrb13", "--slug", "d", config=config)
    assert drafted.exit_code == 0 and "### Morning keynote" in drafted.output
    path = tmp_path / "d.md"
    path.write_text(drafted.output, encoding="utf-8")
    assert run_cli("story", "import", str(path), config=config).output.startswith("imported d")
    assert "d " in run_cli("story", "list", "swrb13", config=config).output
    out = tmp_path / "out.md"
    run_cli("story", "export", "swrb13", "d", "-o", str(out), config=config)
    assert parse(out.read_text()).blocks[0].content() == parse(drafted.output).blocks[0].content()
    bad = tmp_path / "bad.md"
    bad.write_text(HEAD + "https://mastodon.example/@nobody/1\n", encoding="utf-8")
    failed = run_cli("story", "import", str(bad), config=config)
    assert failed.exit_code == 1 and f"{bad}:8: no archived post" in failed.output
    url = "https://mastodon.example/@ana/1001"
    shown = run_cli("post", "show", url, config=config)
    assert "swrb13: featured" in shown.output.replace("in swrb13", "swrb13")
    assert "hidden (spam)" in run_cli("post", "hide", url, "--reason", "spam", config=config).output
    assert "included" in run_cli("post", "unhide", url, config=config).output
    assert run_cli("story", "remove", "swrb13", "d", config=config).exit_code == 0
