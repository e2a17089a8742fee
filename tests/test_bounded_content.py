"""A stranger's post of any length, and a search of any size, stay quick to read
(issue 31): a post is shown up to 20,000 characters of its text, "continued at the
source"; search results come fifty at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from backchannel.collectors import Page
from backchannel.consent import Policy
from backchannel.export import ExportOptions, export_site
from backchannel.sanitize.limits import CONTINUED, POST_TEXT, bounded_html
from backchannel.store import Database, EventSource, save_page
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import ANA, TAG, _nz, _tag_link, build_fixture, mastodon_post


def _add(database: Database, posts: list) -> None:  # type: ignore[type-arg]
    with database.writing() as session:
        source = session.scalar(select(EventSource).where(EventSource.platform == "mastodon"))
        assert source is not None
        save_page(session, source, TAG, Page(posts=posts, cursor={"n": 9}), Policy())


def test_post_html_is_cut_after_its_limit_with_every_element_closed() -> None:
    short = '<p>a <a href="https://x.example/">link</a></p>'
    assert bounded_html(short) == short
    long = '<p>start <a href="https://x.example/">' + "word " * 10 + "</a></p><p>never</p>"
    cut = bounded_html(long, 20)
    assert cut.startswith('<p>start <a href="https://x.example/">word word word')
    assert cut.endswith(f'\u2026</a></p><p class="continued">({CONTINUED})</p>')
    assert "never" not in cut


@pytest.mark.browser
def test_a_page_with_a_200000_character_post_lays_out_in_under_a_second(
    db_url: str, tmp_path: Path
) -> None:
    database = build_fixture(db_url)
    words = " ".join(f"w{n}" for n in range(40_000))[:200_000]
    _add(database, [mastodon_post("3000", ANA, _nz(14, 10, 30),
                                  f"<p>{words} {_tag_link()}</p>", text=words)])  # fmt: skip
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, posts_per_page=200))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/2013-11-14.html")
        article = page.locator("article", has_text="w39").first
        expect(article).to_contain_text(f"({CONTINUED})")
        shown = article.inner_text()
        assert POST_TEXT <= len(shown) < POST_TEXT + 2_000, len(shown)
        took = page.evaluate("performance.getEntriesByType('navigation')[0].duration")
        assert took < 1000, f"{took:.0f} ms to load and lay out"
        watch.assert_clean()


@pytest.mark.browser
def test_a_search_with_many_results_shows_fifty_then_more_on_request(
    db_url: str, tmp_path: Path
) -> None:
    database = build_fixture(db_url)
    _add(database, [
        mastodon_post(str(4000 + n), ANA, _nz(14 + n % 2, 9 + n // 20, n % 20),
                      f"<p>crowded room {n} {_tag_link()}</p>", text=f"crowded room {n}")
        for n in range(120)
    ])  # fmt: skip
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, posts_per_page=40))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/search.html?q=crowded")
        expect(page.locator("#search-status")).to_have_text("50 results shown; more below")
        assert page.locator("#search-results li").count() == 50
        more = page.get_by_role("button", name="Show more results")
        more.click()
        expect(page.locator("#search-status")).to_have_text("100 results shown; more below")
        focused = page.evaluate("document.activeElement.closest('li') ? 1 : 0")
        assert focused == 1  # on the first of the new results
        more.click()
        expect(page.locator("#search-status")).to_have_text("120 results")
        expect(more).to_be_hidden()
        watch.assert_clean()
