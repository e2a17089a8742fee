"""A hostile corpus exports to pages with nothing executable and nothing remote."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from backchannel.export import ExportOptions, export_site
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import build_hostile

# Inline SVG is allowed only as the theme's charts draw it.
_SVG_PARTS = {"svg", "rect", "text", "title", "desc"}
_SCRIPTS = {"../assets/reveal.js", "assets/reveal.js", "../assets/search.js"}


class _Audit(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.problems: list[str] = []
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        where = f"{self.name}: <{tag} {attrs}>"
        if tag == "svg":
            self._svg += 1
        if self._svg and tag not in _SVG_PARTS:
            self.problems.append(f"unexpected SVG element {where}")
        if tag in ("iframe", "object", "embed", "style", "base", "form") and tag != "form":
            self.problems.append(f"forbidden element {where}")
        if tag == "script" and values.get("src") not in _SCRIPTS:
            self.problems.append(f"script {where}")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"refresh {where}")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name} in {where}")
            if name in ("href", "src", "action", "poster", "data", "xlink:href"):
                scheme = urlsplit(value).scheme
                if scheme not in ("", "http", "https"):
                    self.problems.append(f"{scheme}: URL in {where}")
                if name != "href" and scheme:
                    self.problems.append(f"remote resource in {where}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg -= 1


@pytest.fixture
def hostile_site(sqlite_url: str, tmp_path: Path) -> Path:
    database = build_hostile(sqlite_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out))
    database.dispose()
    return out


def test_no_executable_content_in_the_html(hostile_site: Path) -> None:
    problems = []
    pages = sorted(p for p in hostile_site.rglob("*.html") if "pagefind" not in p.parts)
    assert len(pages) > 5
    for path in pages:
        text = path.read_text("utf-8")
        audit = _Audit(path.relative_to(hostile_site).as_posix())
        audit.feed(text)
        problems += audit.problems
        assert "<script>alert" not in text
        assert "evil.example" not in text, path
    assert problems == []
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
