"""A hostile corpus exports to pages with nothing executable and nothing remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from backchannel.export import ExportOptions, export_site
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import build_hostile
from tests.html_audit import audit_site


@pytest.fixture
def hostile_site(db_url: str, tmp_path: Path) -> Path:
    database = build_hostile(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out))
    database.dispose()
    return out


def test_no_executable_content_in_the_html(hostile_site: Path) -> None:
    pages = sorted(p for p in hostile_site.rglob("*.html") if "pagefind" not in p.parts)
    assert len(pages) > 5
    for path in pages:
        text = path.read_text("utf-8")
        assert "<script>alert" not in text
        assert "evil.example" not in text, path
    assert audit_site(hostile_site) == []
    feed = (hostile_site / "hostile/feed.atom").read_text("utf-8")
    assert "<script" not in feed and "javascript:" not in feed


@pytest.mark.browser
def test_no_dialog_error_or_foreign_request_in_chromium(hostile_site: Path) -> None:
    pages = sorted(
        p.relative_to(hostile_site).as_posix()
        for p in hostile_site.rglob("*.html")
        if "pagefind" not in p.parts
    )
    with serve(hostile_site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        for relative in pages:
            page.goto(origin + relative, wait_until="load")
            for summary in page.locator("summary").all():
                summary.click()  # open every warning and reveal every image
            for image in page.locator("img").all():
                image.scroll_into_view_if_needed()
        page.goto(origin + "hostile/search.html?q=hello")
        page.wait_for_selector(
            "#search-status:has-text('result'), #search-status:has-text('Nothing')"
        )
        page.wait_for_timeout(200)
        watch.assert_clean()
