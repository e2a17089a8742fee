"""Time you can navigate (issue 34, point 1): a day opens with an index of its sessions
(from the event's schedule) or hours, posts sit under those headings, pages break
between them, and each pager link says the times it holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from backchannel.export import ExportOptions, export_site
from backchannel.store import Event, Post
from backchannel.store.db import Database
from tests.export_fixture import build_fixture

DAY = "2013-11-14"  # 8 published posts: 08:30 08:45 09:15 10:00 11:45 12:10 13:00 14:00


@pytest.fixture
def database(db_url: str) -> Any:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _export(database: Database, out: Path, per_page: int) -> None:
    export_site(database, ExportOptions(out=out, posts_per_page=per_page, search=False))


def _page(out: Path, number: int = 1) -> str:
    name = f"{DAY}.html" if number == 1 else f"{DAY}-{number}.html"
    return (out / "swrb13" / name).read_text(encoding="utf-8")


def _times(html: str) -> list[tuple[str, str, str]]:
    """The day's index: (label, count, link)."""
    nav = html.split('<nav class="times"', 1)[1].split("</nav>", 1)[0]
    found = re.findall(r'<li><a href="([^"]+)">(.*?)</a> <span class="count">([^<]+)</span>', nav)
    return [(re.sub(r"<[^>]+>", "", label), count, href) for href, label, count in found]


def _pager(html: str) -> list[str]:
    nav = html.split('<nav class="pager"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<li><a href="[^"]+"(?: aria-current="page")?>([^<]+)</a></li>', nav)


def _headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2 id=\"[^\"]+\">(.*?)</h2>", html)]


def test_a_day_opens_with_its_hours_and_its_pages_break_between_them(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _export(database, out, per_page=3)
    first = _page(out)
    assert _times(first) == [
        ("08:00–09:00", "2 posts", "#t-0800"),
        ("09:00–10:00", "1 post", "#t-0900"),
        ("10:00–11:00", "1 post", f"{DAY}-2.html#t-1000"),
        ("11:00–12:00", "1 post", f"{DAY}-2.html#t-1100"),
        ("12:00–13:00", "1 post", f"{DAY}-2.html#t-1200"),
        ("13:00–14:00", "1 post", f"{DAY}-3.html#t-1300"),
        ("14:00–15:00", "1 post", f"{DAY}-3.html#t-1400"),
    ]
    assert _pager(first) == ["08:00–10:00", "10:00–13:00", "13:00–15:00"]
    assert _headings(first) == ["08:00–09:00 · 2 posts", "09:00–10:00 · 1 post"]
    assert _headings(_page(out, 2)) == [
        "10:00–11:00 · 1 post", "11:00–12:00 · 1 post", "12:00–13:00 · 1 post"
    ]  # fmt: skip
    assert "this page: 10:00–13:00 (page 2 of 3)" in _page(out, 2)
    # The posts' own headings sit under the hours': h3.
    assert '<h3 class="author"' in first and '<h2 class="author"' not in first


def test_an_hour_longer_than_a_page_has_pages_of_its_own(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _export(database, out, per_page=1)
    first, second = _page(out), _page(out, 2)
    assert _pager(first)[:2] == ["08:00–09:00 (1 of 2)", "08:00–09:00 (2 of 2)"]
    assert _headings(first) == ["08:00–09:00 · 2 posts"]
    assert _headings(second) == ["08:00–09:00 (continued) · 2 posts"]
    assert ("08:00–09:00", "2 posts", f"{DAY}.html#t-0800") in _times(second)


def test_the_sessions_of_the_schedule_head_their_posts(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    _export(database, out, per_page=200)
    assert _headings(_page(out))[0] == "08:00–09:00 · 2 posts"
    with database.writing() as session:  # 08:00 to 09:30 NZDT, then an hour's gap
        event = session.scalar(select(Event))
        event.schedule = [
            {"title": "Opening keynote", "start": "2013-11-13T19:00:00Z",
             "end": "2013-11-13T20:30:00Z"},
            {"title": "Workshops", "start": "2013-11-13T22:00:00Z", "end": "2013-11-14T00:00:00Z"},
        ]  # fmt: skip
    _export(database, out, per_page=200)  # a changed schedule is a changed export
    html = _page(out)
    assert _headings(html) == [
        "08:00–09:30 Opening keynote · 3 posts", "10:00–11:00 · 1 post",
        "11:00–13:00 Workshops · 2 posts", "13:00–14:00 · 1 post", "14:00–15:00 · 1 post",
    ]  # fmt: skip
    assert _times(html)[0] == ("08:00–09:30 Opening keynote", "3 posts", "#s-1")


def test_a_session_has_a_page_with_its_most_answered_posts(
    database: Database, tmp_path: Path
) -> None:
    with database.writing() as session:  # the keynote: 08:00 to 09:30 NZDT
        session.scalar(select(Event)).schedule = [
            {"title": "Opening keynote", "start": "2013-11-13T19:00:00Z",
             "end": "2013-11-13T20:30:00Z"},
        ]  # fmt: skip
    out = tmp_path / "site"
    _export(database, out, per_page=200)
    day = _page(out)
    assert '<a href="session-1.html">The session\'s page' in day
    page = (out / "swrb13" / "session-1.html").read_text(encoding="utf-8")
    assert '<h1 dir="auto">Opening keynote</h1>' in page
    assert "Thursday, 14 November 2013, 08:00–09:30 (Pacific/Auckland) · 3 posts" in page
    answered = page.split('id="answered-heading"', 1)[1].split("</section>", 1)[0]
    assert "Kia ora koutou!" in answered and "1 reply in this archive" in answered
    everything = page.split('id="posts-heading"', 1)[1]
    assert everything.count('<li><h3 class="who">') == 3
    assert "answering @ana@mastodon.example" in everything

    # Boosts show on the session's page: a new count makes it again.
    with database.writing() as session:
        session.execute(update(Post).where(Post.uri.endswith("/statuses/1001"))
                        .values(repost_count=7))  # fmt: skip
    _export(database, out, per_page=200)
    page = (out / "swrb13" / "session-1.html").read_text(encoding="utf-8")
    boosted = page.split('id="boosted-heading"', 1)[1].split("</section>", 1)[0]
    assert "Kia ora koutou!" in boosted and "7 boosts" in boosted


def test_a_session_says_its_room_from_the_schedule_file(database: Database, tmp_path: Path) -> None:
    from backchannel.curation.drafting import (
        parse_schedule,
        schedule_of,
        schedule_toml,
        set_schedule,
    )
    from backchannel.errors import InputError

    text = (
        '[[session]]\ntitle = "Opening keynote"\nstart = "2013-11-14 08:00"\n'
        'end = "2013-11-14 09:30"\nroom = "Te Pae <b>Hall</b> 1"\n'
    )
    with database.writing() as session:
        event = session.scalar(select(Event))
        sessions = parse_schedule(text, event)
        assert sessions[0].room == "Te Pae <b>Hall</b> 1"
        set_schedule(event, sessions)
        assert 'room = "Te Pae <b>Hall</b> 1"' in schedule_toml(event)  # what the studio shows
        assert schedule_of(event)[0].room == "Te Pae <b>Hall</b> 1"
        for wrong in ("room = 3", f'room = "{"x" * 201}"'):
            with pytest.raises(InputError, match="room: expected text of 200 characters"):
                parse_schedule(text.replace('room = "Te Pae <b>Hall</b> 1"', wrong), event)
    out = tmp_path / "site"
    _export(database, out, per_page=200)
    room = "Te Pae &lt;b&gt;Hall&lt;/b&gt; 1"  # a stranger's text: escaped, never markup
    day = _page(out)
    assert f'<span class="room">· <span dir="auto">{room}</span></span>' in day
    page = (out / "swrb13" / "session-1.html").read_text(encoding="utf-8")
    assert f'(Pacific/Auckland) · <span dir="auto">{room}</span> · 3 posts' in page
