"""Import from the studio (issue 35, point 1): an organiser uploads files on the event's
page, the import runs in the background with its progress on the page; uploads over
``[studio] import_max_mb`` or without their size are refused before they are read;
curators cannot import; the form's CSRF token holds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from backchannel.store import Database, Post, StudioAction
from tests.export_fixture import build_fixture
from tests.helpers import write_config
from tests.studio_kit import Studio, add_account, configured, sign_in
from tests.twarc_files import tweet_v1, user_v1

PAGE = "/events/swrb13/organise"
IMPORT = "/events/swrb13/import"


def _capture(n: int = 30) -> bytes:
    ana = user_v1("101", "ana_sw", "Ana Silva")
    lines = [tweet_v1(f"39000000000000{i:04d}", f"From the hall {i} #swrb13", ana,
                      created="Thu Nov 14 01:00:00 +0000 2013") for i in range(n)]  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _upload(
    studio: Studio, files: list[tuple[str, bytes]], csrf: str | None = None
) -> httpx.Response:
    return studio.client.post(
        IMPORT, data={"csrf": csrf if csrf is not None else studio.csrf(PAGE), "format": "auto"},
        files=[("file", (name, body, "application/octet-stream")) for name, body in files],
    )  # fmt: skip


def _until_imported(studio: Studio) -> str:
    for _ in range(200):
        page = studio.client.get(PAGE).text
        if "The last import from here has finished." in page:
            return page
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def _twitter_posts(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count(Post.id)).where(Post.platform == "twitter")) or 0


def test_an_organiser_imports_a_file_and_sees_its_progress(organising: Studio) -> None:
    studio = organising
    studio.login()
    page = studio.client.get(PAGE).text
    assert 'enctype="multipart/form-data"' in page and 'name="file" type="file"' in page
    sent = _upload(studio, [("../../capture.jsonl", _capture())])
    assert sent.status_code == 303 and sent.headers["location"] == PAGE
    done = _until_imported(studio)
    assert "capture.jsonl: twarc: 30 read, 30 imported, 0 already there" in done
    assert _twitter_posts(studio.db) == 30
    again = _upload(studio, [("capture.jsonl", _capture())])
    assert again.status_code == 303
    assert "30 read, 0 imported, 30 already there" in _until_imported(studio)
    with studio.db.reading() as session:
        logged = session.scalars(select(StudioAction.target).where(StudioAction.action == "import"))
        assert list(logged) == ["swrb13: capture.jsonl", "swrb13: capture.jsonl"]


def test_a_bad_file_is_named_and_the_others_imported(organising: Studio) -> None:
    studio = organising
    studio.login()
    _upload(studio, [("notes.txt", b"just words\n"), ("capture.jsonl", _capture(5))])
    done = _until_imported(studio)
    assert "notes.txt: " in done and "not a file backchannel recognises" in done
    assert "capture.jsonl: twarc: 5 read, 5 imported" in done


def test_too_large_unsized_forged_and_curators_are_refused(db_url: str, tmp_path: Path) -> None:
    db = build_fixture(db_url)
    config = write_config(tmp_path, db_url, "[studio]\nimport_max_mb = 0.001\n")
    studio = configured(db, config)
    try:
        with studio.client:
            studio.login()
            big = _upload(studio, [("capture.jsonl", _capture(50))])
            assert big.status_code == 413 and "import_max_mb" in big.text
            forged = _upload(studio, [("c.jsonl", b"{}\n")], csrf="forged")
            assert forged.status_code == 403
            unsized = studio.client.post(
                IMPORT,
                content=iter([b"--x--\r\n"]),
                headers={"content-type": "multipart/form-data; boundary=x"},
            )  # streamed: no size said
            assert unsized.status_code == 411
            assert _twitter_posts(db) == 0
            add_account(studio, config, "cura", "curator")
            studio.client.post("/logout", data={"csrf": studio.csrf("/")})
            assert sign_in(studio, "cura") == 303
            csrf = studio.csrf("/")
            refused = studio.client.post(IMPORT, data={"csrf": csrf},
                                         files=[("file", ("c.jsonl", _capture(1)))])  # fmt: skip
            assert refused.status_code == 403
            assert _twitter_posts(db) == 0
    finally:
        db.dispose()
