"""Conversations in the archive (issue 34, point 3): a reply quotes its parent's first
line in place, and the statistics page has the most answered posts and who replied
to whom most. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backchannel.export import ExportOptions, export_site
from backchannel.store import Post
from backchannel.store.db import Database
from tests.export_fixture import MASTODON, build_fixture

PARENT = f"{MASTODON}/users/ana/statuses/1001"  # Ana's 08:30 post; Ben's 3k1 answers it
BEN_REPLY = "at://did:plc:ben/app.bsky.feed.post/3k1"


@pytest.fixture
def database(db_url: str) -> Any:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _export(database: Database, out: Path) -> str:
    export_site(database, ExportOptions(out=out, search=False))
    return (out / "swrb13" / "2013-11-14.html").read_text(encoding="utf-8")


def _change_parent(database: Database, **values: Any) -> None:
    with database.writing() as session:  # as a refetch would: a new fetch time
        session.execute(update(Post).where(Post.uri == PARENT)
                        .values(fetched_at=datetime.now(UTC), **values))  # fmt: skip


def test_a_reply_quotes_its_parents_first_line(database: Database, tmp_path: Path) -> None:
    day = _export(database, tmp_path / "site")
    assert (
        '>@ana@mastodon.example</a>: <q dir="auto">Kia ora koutou! haerenga begins #swrb13</q>'
    ) in day, "the first line, without the :wave: shortcode"

    # An edited parent changes the reply too; a stranger's text stays text.
    _change_parent(database, text="<script>alert(1)</script> new first line\nsecond line")
    day = _export(database, tmp_path / "site")
    assert '<q dir="auto">&lt;script&gt;alert(1)&lt;/script&gt; new first line</q>' in day
    assert "<script>alert(1)" not in day and "second line</q>" not in day

    # Behind a content warning, the parent's words are not repeated in the reply.
    _change_parent(database, content_warning="Spoilers")
    day = _export(database, tmp_path / "site")
    assert "new first line</q>" not in day and ">@ana@mastodon.example</a></p>" in day


def test_the_statistics_page_has_the_conversations(database: Database, tmp_path: Path) -> None:
    _export(database, tmp_path / "site")
    stats = (tmp_path / "site" / "swrb13" / "stats.html").read_text(encoding="utf-8")
    answered = stats.split('id="answered-heading"', 1)[1].split("</section>", 1)[0]
    assert answered.count("<li>") == 1
    assert '<a href="2013-11-14.html#p-' in answered and "14 November 2013, 08:30 NZDT" in answered
    assert "1 reply" in answered
    pairs = stats.split('id="replied-to"', 1)[1].split("</figure>", 1)[0]
    assert "@ben.bsky.example → @ana@mastodon.example" in pairs
    assert '<td class="num">1</td>' in pairs


def test_a_conversation_has_a_page_and_its_posts_lead_to_it(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    day = _export(database, out)
    pages = list((out / "swrb13").glob("thread-*.html"))
    assert [p.name for p in pages] == ["thread-p-baf25b56bca5a07a.html"]  # Ana's, answered
    assert (
        day.count('<a href="thread-p-baf25b56bca5a07a.html">Read the conversation (2 posts)</a>')
        == 2
    )

    # Carla answers Ben's answer: a conversation of three, the answer under the answer.
    with database.writing() as session:
        session.execute(update(Post).where(Post.uri == f"{MASTODON}/users/carla/statuses/1002")
                        .values(reply_to_uri=BEN_REPLY, fetched_at=datetime.now(UTC)))  # fmt: skip
    day = _export(database, out)
    thread = pages[0].read_text(encoding="utf-8")
    order = re.findall(r'<li class="depth-(\d)">\s*<h2 class="who">.*?@([a-z.@]+)</span>', thread)
    assert order == [("0", "ana@mastodon.example"), ("1", "ben.bsky.example"),
                     ("2", "carla@mastodon.example")]  # fmt: skip
    assert "answering @ben.bsky.example" in thread
    assert day.count("Read the conversation (3 posts)") == 3
