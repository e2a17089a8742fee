"""The search index: groups of posts indexed apart, kept when unchanged, merged in the
browser, with links that follow posts to the page they are on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backchannel.export import ExportOptions, export_site, search_records
from backchannel.export.search_records import group_size
from backchannel.store.db import Database
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import WORDS, add_late_post, build_fixture, hide_post
from tests.test_export import search_index_text, site_files


@pytest.fixture
def database(db_url: str) -> Database:
    database = build_fixture(db_url)
    yield database
    database.dispose()


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups of two ids, so that the fixture's dozen posts make several."""
    monkeypatch.setattr(search_records, "MIN_SIZE", 2)


def export(database: Database, out: Path, **options: object) -> object:
    return export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]


def test_group_size_is_a_power_of_two_with_few_groups() -> None:
    for ids in ([1], list(range(1, 10_001)), list(range(5, 100_000, 7)), [3, 90_000, 2**40]):
        size = group_size(ids)
        assert size & (size - 1) == 0
        assert len({i // size for i in ids}) <= search_records.MAX_GROUPS + 1
    dense = list(range(1, 10_001))
    assert group_size(dense) == group_size(dense + list(range(10_001, 10_101)))  # +1%


def test_pagefind_yields_to_the_exporter_and_its_failures_are_named() -> None:
    """Pagefind runs beside the rendering at a lower priority (it would take both
    cores); a run that fails or cannot start is one line naming it."""
    import os
    import subprocess
    import sys

    from backchannel.errors import ExportError
    from backchannel.export.search import _run_pagefind, _yield_to_exporter

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        _yield_to_exporter(sleeper.pid)
        assert os.getpriority(os.PRIO_PROCESS, sleeper.pid) >= 10
    finally:
        sleeper.kill()
        sleeper.wait()
    _yield_to_exporter(sleeper.pid)  # a process already gone: nothing to do
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('no site'); sys.exit(2)"]
    with pytest.raises(ExportError, match="^pagefind failed: no site$"):
        _run_pagefind(failing)
    with pytest.raises(ExportError, match="^pagefind could not run: "):
        _run_pagefind(["/nonexistent/pagefind"])
    _run_pagefind([sys.executable, "-c", "pass"])


def test_new_posts_index_only_the_newest_group(
    database: Database, tmp_path: Path, small_groups: None
) -> None:
    out, fresh = tmp_path / "site", tmp_path / "fresh"
    export(database, out, posts_per_page=3)
    groups = json.loads((out / "pagefind/swrb13/groups.json").read_text("utf-8"))["groups"]
    assert len(groups) >= 3
    before = {p: p.stat().st_mtime_ns for p in (out / "pagefind").rglob("*") if p.is_file()}
    add_late_post(database)
    result = export(database, out, posts_per_page=3)
    assert result.searched  # type: ignore[attr-defined]
    changed = {
        p.relative_to(out / "pagefind/swrb13").parts[0]
        for p in (out / "pagefind").rglob("*")
        if p.is_file() and before.get(p) != p.stat().st_mtime_ns
    }
    # The late post has the highest id: its group alone is indexed again.
    assert changed <= {"groups.json", "places", groups[-1], f"g{int(groups[-1][1:]) + 1}"}
    assert "next year" in search_index_text(out)
    # And the result is what a fresh export makes, byte for byte.
    export(database, fresh, posts_per_page=3)
    assert site_files(out) == site_files(fresh)


def test_a_hidden_post_leaves_its_group(
    database: Database, tmp_path: Path, small_groups: None
) -> None:
    out = tmp_path / "site"
    export(database, out)
    assert WORDS["searchable"] in search_index_text(out)
    hide_post(database, "1005")  # the searchable keynote post
    export(database, out)
    assert WORDS["searchable"] not in search_index_text(out)


@pytest.mark.browser
def test_search_across_groups_leads_to_a_later_page(
    database: Database, tmp_path: Path, small_groups: None
) -> None:
    out = tmp_path / "site"
    export(database, out, posts_per_page=1)  # every post but a day's first on a later page
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + f"swrb13/search.html?q={WORDS['searchable']}")
        expect(page.locator("#search-status")).to_contain_text("result")
        result = page.locator("#search-results a").first
        href = result.get_attribute("href") or ""
        assert "#p-" in href and "-by" in href
        result.click()
        page.wait_for_url("**/2013-11-14-*.html#p-*")
        target = page.locator(":target")
        assert WORDS["searchable"] in target.locator("xpath=ancestor::article").inner_text()
        # A name finds its author's posts, in other groups too.
        page.goto(origin + "swrb13/search.html?q=Ngata")
        expect(page.locator("#search-status")).to_contain_text("results")
        page.goto(origin + f"swrb13/search.html?q={WORDS['cw_text'].split()[-1]}")
        expect(page.locator("#search-status")).to_contain_text("Nothing found")
        watch.assert_clean()


@pytest.mark.browser
def test_search_as_you_type_and_the_server_note_only_from_files(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    export(database, out)
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/search.html")
        expect(page.locator("#search-needs-server")).to_be_hidden()  # served: search works
        page.get_by_label("Search posts, people and hashtags").press_sequentially(
            WORDS["searchable"], delay=30
        )  # no Enter
        expect(page.locator("#search-status")).to_contain_text("result")
        assert page.locator("#search-results a").count() >= 1
        assert f"q={WORDS['searchable']}" in page.url
        watch.collect(page)
        watch.assert_clean()
        opened = chromium.new_page()  # the same page opened as a file
        opened.goto((out / "swrb13" / "search.html").as_uri())
        expect(opened.locator("#search-needs-server")).to_be_visible()


@pytest.mark.browser
def test_a_result_says_who_and_when_and_its_excerpt_is_the_post(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    export(database, out)
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        page.goto(origin + "swrb13/search.html?q=haerenga")  # in Ana's post, after :wave:
        expect(page.locator("#search-status")).to_contain_text("result")
        result = page.locator("#search-results li").first
        title = result.locator("a").inner_text()
        assert title == "Ānahera Ngata (@ana@mastodon.example), 14 November 2013, 08:30 NZDT"
        excerpt = result.locator("p").inner_text()
        assert "haerenga" in excerpt and ":wave:" not in excerpt and "@ana" not in excerpt


def test_temporary_folders_of_killed_exports_are_swept(tmp_path: Path) -> None:
    import os
    import tempfile
    import time

    from backchannel.export.search import LEFTOVER_AGE, TEMP_PREFIX, sweep_leftovers

    old = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    (old / "site").mkdir()
    (old / "site" / "page.html").write_text("left by a killed export")
    then = time.time() - LEFTOVER_AGE - 60
    os.utime(old, (then, then))
    young = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))  # another export's, running now
    try:
        assert sweep_leftovers() >= 1
        assert not old.exists() and young.is_dir()
    finally:
        young.rmdir()


def _add_posts(database: Database, *posts: tuple[str, object, str]) -> None:
    """Mastodon posts (key, author, text) on the 14th, a minute apart, in this order."""
    from sqlalchemy import select

    from backchannel.collectors.base import Page
    from backchannel.consent.rule import Policy
    from backchannel.store.models import EventSource
    from backchannel.store.writer import save_page
    from tests.export_fixture import TAG, _nz, mastodon_post

    made = [
        mastodon_post(key, author, _nz(14, 16, minute), f"<p>{text}</p>", text=text)
        for minute, (key, author, text) in enumerate(posts)
    ]
    with database.writing() as session:
        source = session.scalar(select(EventSource).where(EventSource.platform == "mastodon"))
        save_page(session, source, TAG, Page(posts=made, cursor={"n": 3}), Policy())


@pytest.mark.browser
def test_the_whole_phrase_first_then_every_word_then_the_rest(
    database: Database, tmp_path: Path
) -> None:
    from tests.export_fixture import ANA, DINA

    _add_posts(
        database,
        ("2001", ANA, "Peer supervision in rural teams"),  # one word, first in the page
        ("2002", DINA, "What sustains us? Good supervision"),  # both words, not together
        ("2003", ANA, "Reflective supervision sustains practice"),  # the phrase, last
    )
    out = tmp_path / "site"
    export(database, out)
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        page.goto(origin + "swrb13/search.html?q=supervision%20sustains")
        expect(page.locator("#search-status")).to_contain_text("result")
        texts = page.locator("#search-results li p").all_inner_texts()
        order = [next((n for n, t in enumerate(texts) if words in t), None) for words in (
            "Reflective supervision sustains", "What sustains us", "Peer supervision")]  # fmt: skip
        assert None not in order and order == sorted(order), texts
        # One word alone: Pagefind's own order (the page's order) stands.
        page.goto(origin + "swrb13/search.html?q=sustains")
        expect(page.locator("#search-status")).to_contain_text("2 results")


@pytest.mark.browser
def test_results_narrowed_by_day_platform_and_person(database: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(database, out)
    search = (out / "swrb13" / "search.html").read_text("utf-8")
    assert '<option value="2013-11-14.html">Thursday, 14 November 2013</option>' in search
    assert '<option value="bluesky">Bluesky</option>' in search
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/search.html?q=swrb13")
        status = page.locator("#search-status")
        expect(status).to_contain_text("result")
        everything = page.locator("#search-results li a").all_inner_texts()
        assert any("@ben.bsky.example" in t for t in everything)
        assert any("@ana@mastodon.example" in t for t in everything)

        page.get_by_label("Platform").select_option("bluesky")
        expect(page.locator("#search-results li a").first).to_contain_text("bsky.example")
        bluesky = page.locator("#search-results li a").all_inner_texts()
        assert bluesky and all("bsky.example" in t for t in bluesky), bluesky
        assert "platform=bluesky" in page.url

        page.get_by_label("Platform").select_option("")
        page.get_by_label("Person").fill("ānahera")
        expect(page.locator("#search-results li a").first).to_contain_text("Ānahera")
        page.wait_for_timeout(600)
        ana = page.locator("#search-results li a").all_inner_texts()
        assert ana and all(t.startswith("Ānahera Ngata") for t in ana), ana

        page.get_by_label("Day", exact=True).select_option("2013-11-15.html")
        page.wait_for_timeout(600)
        both = page.locator("#search-results li a").all_inner_texts()
        assert both and len(both) < len(ana), (both, ana)
        assert all(t.startswith("Ānahera") and "15 November 2013" in t for t in both), both
        page.get_by_label("Person").fill("nobody-of-that-name")
        expect(status).to_contain_text("Nothing found")
        page.get_by_label("Person").fill("")
        page.wait_for_timeout(600)
        friday = page.locator("#search-results li a").all_inner_texts()
        assert friday and all("15 November 2013" in t for t in friday), friday
        # The address keeps the narrowing: opened again, it is the same search.
        again = chromium.new_page()
        again.goto(page.url)
        expect(again.locator("#search-day")).to_have_value("2013-11-15.html")
        expect(again.locator("#search-status")).to_contain_text("result")
        watch.collect(page)
        watch.assert_clean()


@pytest.mark.browser
def test_a_search_box_on_every_page_leads_to_the_results(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    export(database, out)
    for page_file in (out / "swrb13").glob("*.html"):
        if page_file.name.endswith("-embed.html") or page_file.name == "search.html":
            continue
        assert 'class="quick-search" role="search"' in page_file.read_text("utf-8"), page_file
    assert 'class="quick-search"' not in (out / "swrb13" / "search.html").read_text("utf-8")
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        page.goto(origin + "swrb13/people.html")
        box = page.get_by_role("search", name="Search SWRB conference 2013")
        box.get_by_role("searchbox").fill(WORDS["searchable"])
        box.get_by_role("searchbox").press("Enter")
        page.wait_for_url(f"**/swrb13/search.html?q={WORDS['searchable']}")
        expect(page.locator("#search-status")).to_contain_text("result")
        page.goto(origin + "index.html")  # the home page: a box per event
        home = page.get_by_role("search", name="Search SWRB conference 2013")
        home.get_by_role("searchbox").fill("haerenga")
        home.get_by_role("button", name="Search").click()
        page.wait_for_url("**/swrb13/search.html?q=haerenga")
        expect(page.locator("#search-results li").first).to_contain_text("haerenga")


@pytest.mark.browser
def test_a_result_names_the_session_it_was_posted_in(database: Database, tmp_path: Path) -> None:
    from sqlalchemy import select

    from backchannel.store import Event

    out = tmp_path / "site"
    export(database, out)
    with database.writing() as session:  # 08:00 to 09:30 NZDT on the 14th
        session.scalar(select(Event)).schedule = [
            {"title": "Opening <keynote>", "start": "2013-11-13T19:00:00Z",
             "end": "2013-11-13T20:30:00Z"},
        ]  # fmt: skip
    export(database, out)  # the schedule changed: the index is made again
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        page.goto(origin + "swrb13/search.html?q=haerenga")
        expect(page.locator("#search-status")).to_contain_text("result")
        title = page.locator("#search-results li a").first.inner_text()
        assert title == (
            "Ānahera Ngata (@ana@mastodon.example), 14 November 2013, 08:30 NZDT"
            " · Opening <keynote>"
        )
