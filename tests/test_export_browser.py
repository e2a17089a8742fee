"""The exported site as a person uses it, in headless Chromium over HTTP."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backchannel.export import ExportOptions, export_site
from backchannel.store.db import Database
from tests.axe import violations, with_axe
from tests.export_browser import Watch, browser, serve
from tests.export_fixture import WORDS, build_fixture

pytestmark = pytest.mark.browser


def test_open_event_expand_warning_search_and_screenshot(
    db_url: str, tmp_path: Path, artifacts_dir: Path
) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, posts_per_page=200))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1000, "height": 1400})
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "index.html")
        page.get_by_role("link", name="SWRB conference 2013").click()
        assert page.locator("h1").inner_text() == "SWRB conference 2013"
        page.get_by_role("link", name="Thursday, 14 November 2013").first.click()
        assert page.url.endswith("swrb13/2013-11-14.html")

        # The content warning is collapsed; its content shows once expanded.
        body = page.get_by_text(WORDS["cw_body"])
        assert not body.is_visible()
        page.locator("details.cw > summary").first.click()
        assert body.is_visible()
        page.screenshot(path=str(artifacts_dir / "export-timeline.png"), full_page=True)

        # Search finds a known post and leads to it; unindexed words find nothing.
        page.get_by_role("link", name="Search").click()
        page.get_by_label("Search posts, people and hashtags").fill(WORDS["searchable"])
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#search-status")).to_contain_text("result")
        result = page.locator("#search-results a").first
        assert "#p-" in (result.get_attribute("href") or "")
        result.click()
        page.wait_for_url("**/2013-11-14.html#p-*")
        target = page.locator(":target")
        assert WORDS["searchable"] in target.locator("xpath=ancestor::article").inner_text()

        page.goto(origin + f"swrb13/search.html?q={WORDS['unindexable']}")
        expect(page.locator("#search-status")).to_contain_text("Nothing found")
        page.goto(origin + f"swrb13/search.html?q={WORDS['cw_text'].split()[-1]}")
        expect(page.locator("#search-status")).to_contain_text("Nothing found")
        watch.assert_clean()


def test_a_session_is_two_clicks_from_the_event_overview(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import select

    from backchannel.store import Event

    database = build_fixture(db_url)
    with database.writing() as session:  # 11:00 to 13:00 NZDT on the first full day
        event = session.scalar(select(Event))
        event.schedule = [{"title": "Workshops", "start": "2013-11-13T22:00:00Z",
                           "end": "2013-11-14T00:00:00Z"}]  # fmt: skip
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, posts_per_page=3, search=False))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/index.html")
        page.get_by_role("link", name="Thursday, 14 November 2013").first.click()
        times = page.get_by_role("navigation", name="Times of Thursday, 14 November 2013")
        times.get_by_role("link", name="Workshops").click()
        page.wait_for_url("**/2013-11-14-2.html#s-1")
        heading = page.locator(":target")
        expect(heading).to_contain_text("Workshops")
        expect(heading).to_be_in_viewport()
        assert "Worth reading again" in page.locator("section:has(#s-1)").inner_text()
        watch.collect(page)

        # From a post to its author's page, and from there back to the post.
        page.locator("article:has-text('Worth reading again') h3.author a").click()
        expect(page.locator("h1")).to_contain_text("Ben Ōtaki")
        page.get_by_role("link", name="14 November 2013, 12:10 NZDT").click()
        page.wait_for_url("**/2013-11-14-2.html#p-*")
        expect(page.locator(":target")).to_contain_text("Worth reading again")
        watch.collect(page)
        watch.assert_clean()


def test_a_conversation_reads_as_one(db_url: str, tmp_path: Path) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/2013-11-14.html")
        reply = page.locator("article:has-text('Lovely welcome, Ana!')")
        expect(reply.locator(".reply-context q")).to_have_text(
            "Kia ora koutou! haerenga begins #swrb13"
        )
        reply.get_by_role("link", name="Read the conversation (2 posts)").click()
        expect(page.locator("h1")).to_have_text("A conversation")
        items = page.locator("ol.thread > li")
        expect(items).to_have_count(2)
        expect(items.nth(1)).to_contain_text("answering @ana@mastodon.example")
        watch.collect(page)
        watch.assert_clean()


def test_the_people_page_filters_and_orders(db_url: str, tmp_path: Path) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/people.html")
        people = page.locator("ol.people > li")
        assert people.count() == 4
        assert "@ana@mastodon.example" in people.first.inner_text()  # busiest first
        page.get_by_label("Find by name or handle").fill("ben")
        expect(page.locator("ol.people > li:visible")).to_have_count(1)
        expect(page.get_by_role("status")).to_have_text("1 of 4 shown")
        page.get_by_label("Find by name or handle").fill("")
        page.get_by_label("Order").select_option("name")
        names = [n.strip() for n in page.locator("ol.people > li .who a").all_inner_texts()]
        assert names[:3] == ["Ānahera Ngata :wave:", "Ben Ōtaki", "Carla"]
        watch.collect(page)
        watch.assert_clean()


def test_reading_needs_no_javascript_and_works_from_files(db_url: str, tmp_path: Path) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    with browser() as chromium:
        context = chromium.new_context(java_script_enabled=False, reduced_motion="reduce")
        page = context.new_page()
        page.goto((out / "index.html").as_uri())
        page.get_by_role("link", name="SWRB conference 2013").click()
        page.get_by_role("link", name="Friday, 15 November 2013").first.click()
        assert "see you" not in page.content()
        # Sensitive media blurred, then revealed without any script.
        image = page.locator(".media.sensitive img").first
        assert "blur" in image.evaluate("e => getComputedStyle(e).filter")
        page.locator(".media.sensitive details.reveal > summary").first.click()
        assert image.evaluate("e => getComputedStyle(e).filter") == "none"
        # The stylesheet loaded from file:// despite the CSP.
        color = page.evaluate("getComputedStyle(document.body).maxWidth")
        assert color != "none"
        context.close()


def test_axe_finds_no_violation_on_any_kind_of_archive_page(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import select

    from backchannel.store import Event

    database = build_fixture(db_url)
    with database.writing() as session:  # a session: its headings and its page
        session.scalar(select(Event)).schedule = [
            {"title": "Opening keynote", "start": "2013-11-13T19:00:00Z",
             "end": "2013-11-13T20:30:00Z"},
        ]  # fmt: skip
    out = tmp_path / "site"
    # Three posts a page: days with pagers; the story has two curator's notes.
    export_site(database, ExportOptions(out=out, posts_per_page=3))
    database.dispose()
    pages = ["index.html", "about.html"] + sorted(
        p.relative_to(out).as_posix() for p in (out / "swrb13").glob("*.html")
    )
    problems: dict[str, list[str]] = {}
    with serve(out) as origin, browser() as chromium:
        for scheme in ("light", "dark"):  # both of the default theme's colour schemes
            context = chromium.new_context(color_scheme=scheme)
            with_axe(context)
            page = context.new_page()
            for relative in pages:
                page.goto(origin + relative, wait_until="load")
                found = violations(page)
                if found:
                    problems[f"{relative} ({scheme})"] = found
            context.close()
    assert len(pages) > 8
    assert problems == {}


def test_dark_mode_and_print_render(db_url: str, tmp_path: Path, artifacts_dir: Path) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    story = sorted((out / "swrb13").glob("story-*[!d].html"))[0].name
    with serve(out) as origin, browser() as chromium:
        dark = chromium.new_page(color_scheme="dark", viewport={"width": 390, "height": 844})
        dark.goto(origin + "swrb13/2013-11-14.html")
        background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 24, 28)", background
        dark.screenshot(path=str(artifacts_dir / "archive-dark-day.png"), full_page=True)
        printed = chromium.new_page()
        printed.goto(origin + f"swrb13/{story}")
        printed.emulate_media(media="print")
        # Navigation and the footer leave the paper; the story and its posts stay.
        assert not printed.locator(".event-nav").first.is_visible()
        assert not printed.locator(".site-footer").is_visible()
        assert printed.locator("h1").is_visible() and printed.locator(".post").first.is_visible()
        link = printed.locator('.original a[href^="http"]').first  # where the post is
        assert "<http" in link.evaluate("e => getComputedStyle(e, '::after').content")
        pdf = printed.pdf(path=str(artifacts_dir / "story-print.pdf"), format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
        printed.screenshot(path=str(artifacts_dir / "story-print.png"), full_page=True)


def test_the_axe_check_reports_what_it_should() -> None:
    with browser() as chromium:
        context = chromium.new_context()
        with_axe(context)
        page = context.new_page()
        page.goto("data:text/html,<html><body><img src='data:,'><button></button></body></html>")
        found = " ".join(violations(page))
        context.close()
    assert "image-alt" in found and "button-name" in found


def _store_keynote_image(database: Database, media_dir: Path, width: int, height: int) -> None:
    """The keynote post's first image as if ``media fetch`` had stored it; the server
    said it is 1200x800, the file is smaller (a ratio or another rendition)."""
    from sqlalchemy import update

    from backchannel.sandbox.images import png
    from backchannel.store import Media

    data = png("keynote", width, height)
    sha = hashlib.sha256(data).hexdigest()
    (media_dir / sha[:2]).mkdir(parents=True)
    (media_dir / sha[:2] / f"{sha}.png").write_bytes(data)
    with database.writing() as session:
        session.execute(
            update(Media)
            .where(Media.remote_url.like("%/media/keynote.jpg"))
            .values(
                sha256=sha,
                local_path=f"{sha[:2]}/{sha}.png",
                content_type="image/png",
                fetch_state="done",
            )  # fmt: skip
        )


def test_an_image_enlarges_and_closes_with_the_keyboard_and_is_never_scaled_up(
    db_url: str, tmp_path: Path
) -> None:
    database = build_fixture(db_url)
    media_dir = tmp_path / "media"
    _store_keynote_image(database, media_dir, 40, 30)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False, media_dir=media_dir))
    database.dispose()
    day = (out / "swrb13" / "2013-11-14.html").read_text("utf-8")
    # The file's own size on the page (the server's 1200x800 would stretch it 30 times).
    assert 'width="40" height="30"' in day and 'width="1200"' not in day
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 1000, "height": 900})
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "swrb13/2013-11-14.html")
        link = page.locator("a.zoom").first
        thumbnail = link.locator("img")
        thumbnail.scroll_into_view_if_needed()
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("e => e.getBoundingClientRect().width") <= 40
        link.focus()
        page.keyboard.press("Enter")
        viewer = page.get_by_role("dialog", name="Enlarged image")
        expect(viewer).to_be_visible()
        enlarged = viewer.locator("img")
        expect(enlarged).to_have_attribute("alt", "Keynote speaker at the lectern")
        expect(enlarged).to_have_js_property("naturalWidth", 40)
        assert enlarged.evaluate("e => e.getBoundingClientRect().width") <= 40  # never upscaled
        expect(viewer.locator("figcaption")).to_have_text("Keynote speaker at the lectern")
        page.keyboard.press("Escape")
        expect(viewer).to_be_hidden()
        assert page.evaluate("document.activeElement.classList.contains('zoom')")
        # The Close button and a click beside the image close it too.
        link.click()
        expect(viewer).to_be_visible()
        viewer.get_by_role("button", name="Close").click()
        expect(viewer).to_be_hidden()
        watch.collect(page)
        watch.assert_clean()
        # Without script the link opens the image file itself.
        context = chromium.new_context(java_script_enabled=False)
        bare = context.new_page()
        bare.goto(origin + "swrb13/2013-11-14.html")
        bare.locator("a.zoom").first.click()
        bare.wait_for_url("**/media/**.png")
        context.close()


def test_chart_words_stay_legible_on_a_phone(db_url: str, tmp_path: Path) -> None:
    database = build_fixture(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    with serve(out) as origin, browser() as chromium:
        page = chromium.new_page(viewport={"width": 390, "height": 844})
        page.goto(origin + "swrb13/stats.html")
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('.chart text')].map(
                 (t) => t.getBoundingClientRect().height)"""
        )
        assert sizes and min(sizes) >= 10, sizes  # 11 and 13 px type, never shrunk
        # A chart wider than the phone scrolls in its frame, and the page does not.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        frame = page.locator(".chart-frame").first
        frame.focus()
        assert page.evaluate("document.activeElement.classList.contains('chart-frame')")
