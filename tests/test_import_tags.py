"""``backchannel import`` of TAGS sheets saved as CSV (issue 35): ids a spreadsheet
wrote as floats, entities as JSON in a cell, cut rows, non-ASCII, twice."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.store import Database, Post
from tests.helpers import run_cli
from tests.import_kit import archive_with_event

TAG = "swrb13"
HEADER = ["id_str", "from_user", "text", "created_at", "time", "geo_coordinates", "user_lang",
          "in_reply_to_user_id_str", "in_reply_to_screen_name", "from_user_id_str",
          "in_reply_to_status_id_str", "source", "profile_image_url", "user_followers_count",
          "user_friends_count", "user_location", "status_url", "entities_str"]  # fmt: skip


def row(tweet_id: str, user: str, text: str, status_id: str | None = None, reply: str = "",
        created: str = "Wed Mar 20 11:00:00 +0000 2013") -> list[str]:  # fmt: skip
    start = text.find("#" + TAG)
    entities = {"hashtags": [{"text": TAG, "indices": [start, start + len(TAG) + 1]}]
                if start >= 0 else [], "urls": [], "user_mentions": []}  # fmt: skip
    status = status_id or tweet_id
    user_id = str(1000 + sum(map(ord, user)))
    return [tweet_id, user, text, created, "20/03/2013 11:00:00", "", "en", "", "", user_id,
            reply, "web", "", "10", "20", "Leeds",
            f"http://twitter.com/{user}/statuses/{status}", json.dumps(entities)]  # fmt: skip


def write_sheet(path: Path, rows: list[list[str]], cut_last: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    if cut_last:
        text = text[: text.rstrip("\r\n").rfind(",Leeds,")]
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrb13", TAG, "2013-03-20", "2013-03-21")


def _import(config: Path, path: Path) -> str:
    result = run_cli("import", "swrb13", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    return result.output


def _posts(db_url: str) -> dict[str, tuple[str, str, str | None]]:
    db = Database(db_url)
    try:
        with db.reading() as session:
            return {p.uri.rsplit("/", 1)[-1]: (p.author.handle, p.text, p.reply_to_uri)
                    for p in session.scalars(select(Post))}  # fmt: skip
    finally:
        db.dispose()


def test_a_tags_sheet_imports_and_names_what_it_cannot(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    sheet = write_sheet(tmp_path / "TAGS - swrb13 - Archive.csv", [
        row("311000000000000001", "ana_sw", f"Keynote on supervision &amp; care #{TAG}"),
        # The sheet rounded the id; the status URL keeps every digit.
        row("3.11E+17", "ben_pr", f"עברית ומילים #{TAG}", status_id="311000000000000002"),
        # Rounded, and no URL to recover it from: skipped and named, never guessed.
        ["3.11E+17", "cat_ot", f"Lost id #{TAG}", "Wed Mar 20 11:00:00 +0000 2013"]
        + [""] * (len(HEADER) - 4),
        row("311000000000000004", "dan", f"Two lines\nin one cell #{TAG}",
            reply="311000000000000001"),
        row("311000000000000005", "eve", f"The last row, cut #{TAG}"),
    ], cut_last=True)  # fmt: skip
    output = _import(config, sheet)
    name = "TAGS - swrb13 - Archive.csv"
    assert f"{name} line 4: id written as a float (digits lost)" in output, output
    assert f"{name} line 7: cut short" in output, output
    posts = _posts(db_url)
    assert sorted(posts) == ["311000000000000001", "311000000000000002", "311000000000000004"]
    assert posts["311000000000000001"] == ("ana_sw", f"Keynote on supervision & care #{TAG}", None)
    assert posts["311000000000000002"][1] == f"עברית ומילים #{TAG}"
    assert posts["311000000000000004"][1] == f"Two lines\nin one cell #{TAG}"
    assert posts["311000000000000004"][2] == "https://twitter.com/i/web/status/311000000000000001"
    again = _import(config, sheet)
    assert "tags" in again and _posts(db_url) == posts
    assert [c for c in again.splitlines() if c.startswith("TAGS")][0].split()[6:9] == [
        "5",
        "0",
        "3",
    ]
