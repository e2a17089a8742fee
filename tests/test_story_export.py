"""Storyboard pages in the exported site: contents, notes, timeline links, feed,
citations; hostile Markdown made inert; and the page in Chromium."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.curation.stories import import_story
from backchannel.export import ExportOptions, export_site
from backchannel.store.models import Post
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import build_fixture

HOSTILE = """---
title: "Hostile <script>alert('title')</script>"
slug: hostile
event: swrb13
curator: "<img src=x onerror=alert('curator')>"
description: "<script>alert('description')</script> [click](javascript:alert('d'))"
---

Intro with <script>alert('text')</script> and <img src=x onerror=alert('img')>,
a [bad link](javascript:alert('link')) and a [good one](https://example.org/ok).

## Arrivals <script>alert('heading')</script>

{post}
> A note with <b onclick="alert('note')">raw HTML</b> and [x](javascript:alert('n')).

### Coffee *break*

{other}
"""


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("inline script")
        if tag == "img" and "x" == dict(attrs).get("src"):
            self.found.append("remote img")
        values = dict(attrs)
        card = tag == "meta" and (values.get("property") or values.get("name") or "").startswith(
            ("og:", "twitter:")
        )  # a preview card's text: read by other sites as text, acted on by no browser
        for name, value in attrs:
            if name == "content" and card:
                continue
            if name.startswith("on") or "javascript:" in (value or "").lower():
                self.found.append(f"{tag} {name}={value}")


def _live_hazards(page: str) -> list[str]:
    """Script, event handlers and javascript: URLs that a browser would act on."""
    scan = _Scan()
    scan.feed(page)
    return scan.found


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Path:
    database = build_fixture(db_url)
    with database.reading() as session:
        uris = {u.rsplit("/", 1)[-1]: u for u in session.scalars(select(Post.uri))}
    with database.writing() as session:
        import_story(session, HOSTILE.format(post=uris["1001"], other=uris["1005"]), "h.md")
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False, base_url="https://arch.example/"))
    database.dispose()
    return out


def test_story_page_feed_and_citations(site: Path) -> None:
    page = (site / "swrb13" / "story-hostile.html").read_text(encoding="utf-8")
    assert 'class="toc"' in page and 'href="#s-arrivals' in page and "Coffee" in page
    assert "<em>break</em>" in page
    assert 'class="annotation"' in page and "A note with" in page
    assert "See it in the full timeline" in page and ".html#p-" in page
    assert _live_hazards(page) == []
    assert 'href="https://example.org/ok"' in page
    feed = ET.parse(site / "swrb13" / "story-hostile.atom").getroot()
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 2 and "A note with" in "".join(entries[0].itertext())
    bib = (site / "swrb13" / "story-hostile.bib").read_text(encoding="utf-8")
    assert (
        bib.startswith("@misc{swrb13-hostile-")
        and "url = {https://arch.example/swrb13/story-hostile.html}" in bib
    )
    csl = json.loads((site / "swrb13" / "story-hostile.json").read_text(encoding="utf-8"))
    assert csl[0]["type"] == "webpage" and csl[0]["container-title"] == "SWRB conference 2013"
    overview = (site / "swrb13" / "index.html").read_text(encoding="utf-8")
    assert 'href="story-hostile.html"' in overview


@pytest.mark.browser
def test_story_page_in_chromium(site: Path) -> None:
    with serve(site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/story-hostile.html")
        toc = page.locator("nav.toc a")
        assert toc.count() == 2 and toc.first.inner_text().startswith("Arrivals")
        toc.first.click()
        assert page.evaluate("location.hash").startswith("#s-arrivals")
        assert page.locator(".story-post .annotation").first.is_visible()
        assert page.locator(".story-text a[href^='javascript']").count() == 0
        assert page.locator("script:not([src])").count() == 0
        page.locator(".in-timeline a").first.click()
        page.wait_for_load_state()
        assert (
            "#p-" in page.url and page.locator(page.url.split("#")[1].join(["#", ""])).count() == 1
        )
        watch.assert_clean()
