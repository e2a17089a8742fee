"""The export's index held as columns (issue 37, point 3): a row reads back what was
put in, lookups by id and URI find the right row (and nothing for a stranger), ranges
slice like lists, and a post that answers or quotes itself neither loops nor breaks the
export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backchannel.export import ExportOptions, export_site
from backchannel.export.columns import IndexedPost, PostColumns, PostRange
from backchannel.store import Post
from tests.export_fixture import MASTODON, build_fixture

START = datetime(2013, 11, 14, 8, 30, 0, 123456, tzinfo=UTC)


def _columns(n: int) -> PostColumns:
    columns = PostColumns()
    for i in range(n):
        columns.add(
            1000 - i, f"https://example.org/{i}", START + timedelta(minutes=i), 7,
            columns.code("mastodon"), columns.code("mi" if i % 2 else None),
            f"https://example.org/{i - 1}" if i else None,
            "https://elsewhere.example/9" if i == 3 else None,
            START + timedelta(days=1) if i == 2 else None, columns.code("2013-11-14"),
            2**64 - 1 - i, (i, 2 * i, 3 * i, 2**31 - 1),
            featured=i == 1, sensitive=i == 2, has_cw=i == 3, indexable=i != 4,
        )  # fmt: skip
    columns.finish()
    return columns


def test_a_row_reads_back_what_was_put_in() -> None:
    posts = PostRange(_columns(5))
    third = posts[2]
    assert (third.id, third.uri, third.author_id) == (998, "https://example.org/2", 7)
    assert third.created_at == START + timedelta(minutes=2)  # to the microsecond
    assert third.created_at.tzinfo is not None
    assert (third.platform, third.language, third.day) == ("mastodon", None, "2013-11-14")
    assert posts[1].language == "mi"
    assert third.edited_at == START + timedelta(days=1) and posts[1].edited_at is None
    assert third.reply_to_uri == "https://example.org/1" and posts[0].reply_to_uri is None
    assert posts[3].quote_uri == "https://elsewhere.example/9"
    assert third.version == 2**64 - 3
    assert third.counts == (2, 4, 6, 2**31 - 1)
    flags = [(p.featured, p.sensitive, p.has_cw, p.indexable) for p in posts]
    assert flags[1] == (True, False, False, True) and flags[2] == (False, True, False, True)
    assert flags[3] == (False, False, True, True) and flags[4] == (False, False, False, False)
    third.page = "2013-11-14-2.html"
    assert posts[2].page == "2013-11-14-2.html" and posts[1].page == ""
    assert posts[2].href.startswith("2013-11-14-2.html#p-")


def test_lookups_by_id_and_uri() -> None:
    columns = _columns(50)
    assert columns.row_of_id(1000) == 0 and columns.row_of_id(951) == 49
    assert columns.row_of_id(950) is None and columns.row_of_id(2000) is None
    assert columns.row_of_uri("https://example.org/17") == 17
    assert columns.row_of_uri("https://example.org/50") is None
    assert columns.replies[5] == columns.uris[4] == "https://example.org/4"
    assert columns.uris[-1] == "https://example.org/49" and len(columns.uris) == 50
    assert list(columns.uris)[:2] == columns.uris[:2] == ["https://example.org/0",
                                                          "https://example.org/1"]  # fmt: skip


def test_text_other_than_ascii_reads_back() -> None:
    columns = PostColumns()
    for uri in ("https://例え.jp/ユーザー/1", "at://did:plc:x/app.bsky.feed.post/3k", "", "ü"):
        columns.uris.append(uri)
    assert list(columns.uris) == ["https://例え.jp/ユーザー/1",
                                  "at://did:plc:x/app.bsky.feed.post/3k", "", "ü"]  # fmt: skip
    assert columns.uris[0] == "https://例え.jp/ユーザー/1" and columns.uris[2] == ""


def test_ranges_behave_like_lists() -> None:
    posts = PostRange(_columns(10))
    rows = [p.id for p in posts]
    assert len(posts) == 10 and posts[-1].id == rows[-1]
    assert [p.id for p in posts[3:6]] == rows[3:6]
    assert [p.id for p in posts[-3:]] == rows[-3:]
    assert [p.id for p in reversed(posts[2:5])] == rows[2:5][::-1]
    assert [p.id for p in posts[8:20]] == rows[8:20] and list(posts[7:2]) == []
    assert posts[2] == IndexedPost(posts[2]._columns, 2) and posts[2] != posts[3]
    with pytest.raises(IndexError):
        posts[10]


@pytest.fixture
def database(db_url: str) -> Any:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def test_a_post_that_answers_and_quotes_itself(database: Any, tmp_path: Path) -> None:
    uri = f"{MASTODON}/users/ana/statuses/1001"
    with database.writing() as session:  # hostile or broken data: it names itself
        session.execute(update(Post).where(Post.uri == uri)
                        .values(reply_to_uri=uri, quote_uri=uri))  # fmt: skip
    export_site(database, ExportOptions(out=tmp_path / "site", search=False))
    day = (tmp_path / "site" / "swrb13" / "2013-11-14.html").read_text(encoding="utf-8")
    assert "Kia ora koutou" in day
