"""``backchannel import`` of a Bluesky repository export (issue 35): the tree walked for
record keys, other records skipped, the owner's consent, a cut file, a known handle."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.store import Author, ConsentOverride, Database, Post
from tests.car_files import Repo, hashtag_facet, image_embed, post_record
from tests.helpers import run_cli
from tests.import_kit import archive_with_event

TAG = "swrs26"
DID = "did:plc:ana4testabcdefghijklmnop"


def build(path: Path, cut: int = 0) -> Path:
    repo = Repo(DID)
    first = f"Kia ora from the keynote #{TAG} 🎉"
    posts = {
        "3maaa": post_record(
            first,
            "2026-03-12T09:30:00Z",
            facets=[hashtag_facet(first, TAG)],
            embed=image_embed("A slide about supervision"),
        ),  # fmt: skip
        "3mbbb": post_record(
            f"Later that day #{TAG}",
            "2026-03-12T15:00:00Z",
            reply={
                "root": {"uri": f"at://{DID}/app.bsky.feed.post/3maaa", "cid": "x"},
                "parent": {"uri": f"at://{DID}/app.bsky.feed.post/3maaa", "cid": "x"},
            },
        ),  # fmt: skip
        "3mccc": post_record("No hashtag here", "2026-03-12T16:00:00Z"),
        "3mddd": post_record(f"A year later #{TAG}", "2027-03-12T16:00:00Z"),
    }
    like = repo.put({"$type": "app.bsky.feed.like", "createdAt": "2026-03-12T10:00:00Z",
                     "subject": {"uri": "at://did:plc:x/app.bsky.feed.post/1", "cid": "y"}})  # fmt: skip
    profile = repo.put({"$type": "app.bsky.actor.profile", "displayName": "Ana Silva",
                        "description": "Social worker #nobot"})  # fmt: skip
    # The reply's record last in the file: a cut file loses it.
    cids = {key: repo.put(posts[key]) for key in ("3maaa", "3mccc", "3mddd", "3mbbb")}
    key = "app.bsky.feed.post/"
    left = repo.node([("app.bsky.actor.profile/self", profile), ("app.bsky.feed.like/3l111", like)])
    right = repo.node([(key + "3mccc", cids["3mccc"]), (key + "3mddd", cids["3mddd"])])
    root = repo.node([(key + "3maaa", cids["3maaa"]), (key + "3mbbb", cids["3mbbb"])],
                     left=left, right={1: right})  # fmt: skip
    return repo.write(path, root, cut=cut)


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrs26", TAG, "2026-03-12", "2026-03-13")


def _posts(db_url: str) -> dict[str, Post]:
    db = Database(db_url)
    try:
        with db.reading() as session:
            posts = session.scalars(select(Post)).all()
            for post in posts:
                _ = (post.author.handle, [m.alt for m in post.media])
            return {p.uri.rsplit("/", 1)[-1]: p for p in posts}
    finally:
        db.dispose()


def test_a_repository_imports_its_owners_posts(tmp_path: Path, config: Path, db_url: str) -> None:
    path = build(tmp_path / "repo.car")
    result = run_cli("import", "swrs26", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("repo.car"))
    assert row.split()[1:5] == ["bluesky-car", "4", "2", "0"], result.output
    assert "tag not in post 1" in result.output and "outside the event's time 1" in result.output
    assert f"repo.car: {DID}: allowed (sent their own archive)" in result.output
    posts = _posts(db_url)
    assert sorted(posts) == ["3maaa", "3mbbb"]
    first = posts["3maaa"]
    assert first.uri == f"at://{DID}/app.bsky.feed.post/3maaa" and first.platform == "bluesky"
    assert first.author.display_name == "Ana Silva"
    assert [m.alt for m in first.media] == ["A slide about supervision"]
    assert posts["3mbbb"].reply_to_uri == first.uri
    assert f'href="https://bsky.app/hashtag/{TAG}"' in first.html
    again = run_cli("import", "swrs26", str(path), "--no-media", "--wide", config=config)
    row = next(line for line in again.output.splitlines() if line.startswith("repo.car"))
    assert row.split()[2:5] == ["4", "0", "2"]


def test_a_cut_repository_keeps_its_whole_blocks(tmp_path: Path, config: Path, db_url: str) -> None:
    path = build(tmp_path / "cut.car", cut=40)
    result = run_cli("import", "swrs26", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    assert "cut short (a block runs past the end)" in result.output
    assert "not in the file (cut short?)" in result.output
    assert len(_posts(db_url)) == 1  # the last block (a post) was cut


def test_the_stores_handle_stands_for_the_did(tmp_path: Path, config: Path, db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.writing() as session:  # as a collection of the account left it
            session.add(Author(platform="bluesky", uri=DID, handle="ana.bsky.social",
                               display_name="Ana"))  # fmt: skip
    finally:
        db.dispose()
    result = run_cli("import", "swrs26", str(build(tmp_path / "repo.car")), "--no-media",
                     config=config)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ana.bsky.social: allowed" in result.output
    assert {p.author.handle for p in _posts(db_url).values()} == {"ana.bsky.social"}
    db = Database(db_url)
    try:
        with db.reading() as session:
            assert session.scalars(select(ConsentOverride.handle)).all() == ["ana.bsky.social"]
    finally:
        db.dispose()
