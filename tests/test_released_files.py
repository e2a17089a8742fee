"""Media files let go by a transaction are removed after it commits, even across a crash."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from backchannel.consent import Policy
from backchannel.media import MediaStore, prune
from backchannel.store import Database, EventSource, Media, Post, ReleasedFile, release, save_page
from tests.factories import page, post, registered_event
from tests.helpers import run_cli, write_config

SHA_A, SHA_B = "a" * 64, "b" * 64


def _stored(root: Path, sha: str) -> Path:
    path = root / sha[:2] / f"{sha}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"png")
    return path


def _database(url: str) -> Database:
    db = Database(url)
    db.init()
    registered_event(db)
    with db.writing() as session:
        source = session.scalars(select(EventSource)).one()
        save_page(session, source, "swrs26", page([post(1), post(2)]), Policy())
        first, second = session.scalars(select(Media).order_by(Media.id)).all()
        first.sha256, second.sha256 = SHA_A, SHA_B
    return db


def test_prune_removes_released_unused_files_left_by_a_crash_and_keeps_used_ones(
    db_url: str, tmp_path: Path
) -> None:
    db = _database(db_url)
    root = tmp_path / "media"
    try:
        gone, kept = _stored(root, SHA_A), _stored(root, SHA_B)
        with db.writing() as session:  # a pass released both, then died before its prune
            session.execute(update(Media).where(Media.sha256 == SHA_A).values(sha256=None))
            release(session, [SHA_A, SHA_B])
        assert prune(db, root) == 1
        assert not gone.exists() and kept.exists()  # SHA_B is still used by a row
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(ReleasedFile)) == 0
        assert prune(db, root) == 0  # nothing left to do
    finally:
        db.dispose()


def test_event_remove_removes_the_media_files_only_its_posts_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    config = write_config(tmp_path, url, f"[archive]\nmedia_dir = '{tmp_path / 'media'}'\n")
    db = _database(url)
    try:
        files = [_stored(tmp_path / "media", sha) for sha in (SHA_A, SHA_B)]
        removed = run_cli("event", "remove", "swrs26", "--yes", config=config)
        assert removed.exit_code == 0, removed.output
        assert removed.output.strip() == (
            "removed swrs26, 2 post(s) no other event held and 2 media file(s)"
        )
        assert not any(path.exists() for path in files)
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(Post)) == 0
    finally:
        db.dispose()
    assert MediaStore(tmp_path / "media").clear_stale() == 0
