"""The studio in headless Chromium, as a curator uses it, checked by axe-core (issue 15).

The real application is served by uvicorn on 127.0.0.1 in a thread; Playwright drives
Debian's Chromium through it with the keyboard where a curator without a mouse would.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import expect
from sqlalchemy import select

from backchannel.config import load_config
from backchannel.curation import export_story
from backchannel.store import Database, Post, StoryRevision
from backchannel.studio import create_app
from tests.axe import violations, with_axe
from tests.export_browser import Watch, browser
from tests.export_fixture import build_fixture
from tests.helpers import write_config

pytestmark = pytest.mark.browser
TOKEN = "browser-test-token"


@dataclass
class Running:
    origin: str
    db: Database


@pytest.fixture
def running(db_url: str, tmp_path: Path) -> Iterator[Running]:
    db = build_fixture(db_url)
    config = load_config(
        write_config(tmp_path, db_url, f"[archive]\nsite_dir = '{tmp_path / 'site'}'\n")
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(db, TOKEN, port, config=config), host="127.0.0.1",
                       port=port, log_level="warning")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield Running(f"http://127.0.0.1:{port}/", db)
    finally:
        server.should_exit = True
        thread.join(10)
        db.dispose()


def _accessible(page: Any, problems: dict[str, list[str]]) -> None:
    found = violations(page)
    if found:
        problems[page.url] = found


def test_a_curator_builds_a_story_with_search_keyboard_and_notes(
    running: Running, artifacts_dir: Path
) -> None:
    with running.db.reading() as session:
        word = next(
            w for t in session.scalars(select(Post.text).order_by(Post.created_at)) if t
            for w in t.split() if w.isalpha() and len(w) > 4
        )  # fmt: skip
    problems: dict[str, list[str]] = {}
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1300, "height": 1000})
        with_axe(context)
        page = context.new_page()
        watch = Watch(running.origin)
        watch.attach(page)
        page.goto(running.origin + f"login?token={TOKEN}")
        expect(page.get_by_role("heading", name="Events")).to_be_visible()
        _accessible(page, problems)
        page.get_by_role("link", name="posts").first.click()
        _accessible(page, problems)
        _new_story(page, running, "The keynote", "keynote")
        expect(page.get_by_role("heading", name="The keynote", level=1)).to_be_visible()
        _accessible(page, problems)

        # Search, then add two posts from the results.
        search = page.get_by_role("searchbox", name="Words")
        search.fill(word)
        search.press("Enter")
        adds = page.get_by_role("button", name="Add to the story")
        adds.first.click()
        expect(page.get_by_role("status")).to_contain_text("Post added at the end.")
        page.get_by_role("searchbox", name="Words").fill("")
        page.get_by_role("searchbox", name="Words").press("Enter")
        page.get_by_role("button", name="Add to the story").first.click()
        page.get_by_label("Heading").fill("Opening")
        page.get_by_role("button", name="Add the heading").click()

        # Move the heading to the top with the keyboard only.
        page.get_by_role("button", name="Move item 3 up").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Item 3 moved up: now item 2 of 3.")
        page.get_by_role("button", name="Move item 2 up").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("now item 1 of 3")

        page.get_by_label("Text (Markdown)").fill("The room was *full*.")
        page.get_by_role("button", name="Add the text").click()
        page.get_by_label("Note on this post").first.fill("Everyone quoted this.")
        page.get_by_role("button", name="Save the note").first.click()
        expect(page.get_by_role("status")).to_contain_text("Note on item 2 saved.")
        _accessible(page, problems)

        # Undo the note, then redo it.
        page.get_by_role("button", name="Undo the last change").click()
        expect(page.get_by_role("status")).to_contain_text("Undone.")
        expect(page.get_by_label("Note on this post").first).to_have_value("")
        page.get_by_role("button", name="Redo the change undone").click()
        expect(page.get_by_role("status")).to_contain_text("Redone.")

        page.reload()
        items = page.locator("ol.items > li")
        expect(items).to_have_count(4)
        expect(items.nth(0)).to_contain_text("Opening")
        expect(items.nth(3)).to_contain_text("The room was full.")
        expect(page.get_by_label("Note on this post").first).to_have_value("Everyone quoted this.")
        page.screenshot(path=str(artifacts_dir / "studio-editor.png"), full_page=True)
        watch.collect(page)

        # Publish, with its progress page, then open the story as readers will.
        page.goto(running.origin + "events/swrb13/stories")
        page.get_by_role("button", name="Publish the archive").click()
        page.get_by_role("link", name="Open the published archive").click(timeout=30_000)
        expect(page.locator("h1")).to_have_text("SWRB conference 2013")
        page.goto(running.origin + "site/swrb13/story-keynote.html")
        expect(page.locator("h1")).to_have_text("The keynote")
        expect(page.locator("main")).to_contain_text("Everyone quoted this.")
        _accessible(page, problems)
        watch.collect(page)
        context.close()
    assert (watch.dialogs, watch.page_errors, watch.console_errors, watch.foreign_requests,
            watch.script_calls) == ([], [], [], [], [])  # fmt: skip
    watch.assert_clean()
    assert problems == {}
    with running.db.reading() as session:
        markdown = export_story(session, "swrb13", "keynote")
        newest = session.scalars(
            select(StoryRevision.markdown).order_by(StoryRevision.number.desc()).limit(1)
        ).one()
    assert markdown == newest  # the studio's story is the file `story export` writes
    assert markdown.split("---\n", 2)[2].lstrip().startswith("## Opening\n")
    assert "> Everyone quoted this." in markdown and markdown.rstrip().endswith("*full*.")


def test_two_tabs_on_one_story_see_the_conflict_and_can_redo_their_change(
    running: Running,
) -> None:
    problems: dict[str, list[str]] = {}
    with browser() as chromium:
        context = chromium.new_context()
        with_axe(context)
        first = context.new_page()
        first.goto(running.origin + f"login?token={TOKEN}")
        _new_story(first, running, "Shared", "shared")
        second = context.new_page()  # the same session, as a second tab has
        second.goto(first.url)
        first.get_by_label("Heading").fill("From the first tab")
        first.get_by_role("button", name="Add the heading").click()
        expect(first.get_by_role("status")).to_contain_text("Saved as revision")
        second.get_by_label("Heading").fill("From the second tab")
        second.get_by_role("button", name="Add the heading").click()
        alert = second.get_by_role("alert")
        expect(alert).to_contain_text("Not saved: the story changed elsewhere")
        _accessible(second, problems)
        second.get_by_role("button", name="Make my change again").click()
        expect(second.get_by_role("status")).to_contain_text("added at the end")
        # The organiser's pages pass axe too: the post browser and forget's confirmation.
        second.goto(running.origin + "events/swrb13/posts")
        _accessible(second, problems)
        second.get_by_role("link", name="Forget this post…").first.click()
        expect(second.get_by_role("heading", name="Forget this post")).to_be_visible()
        _accessible(second, problems)
        second.goto(running.origin)  # the events, with the form to add one
        expect(second.get_by_role("heading", name="Add an event")).to_be_visible()
        _accessible(second, problems)
        second.get_by_role("link", name="run it").first.click()
        expect(second.get_by_role("heading", name="Sources")).to_be_visible()
        _accessible(second, problems)
        # A wrong end: the error is beside the field, and a screen reader hears it there.
        end = second.get_by_role("textbox", name=re.compile(r"^End"))
        end.fill("2013-11-10")
        second.get_by_role("button", name="Save the event").click()
        expect(end).to_have_attribute("aria-invalid", "true")
        expect(end).to_have_accessible_description(re.compile(r"^the event would end"))
        expect(end).to_have_value("2013-11-10")
        _accessible(second, problems)
        second.goto(running.origin + "activity")
        expect(second.get_by_role("table")).to_contain_text("create story")
        _accessible(second, problems)
        second.get_by_role("button", name="Sign out").click()
        expect(second.get_by_role("heading", name="Signed out")).to_be_visible()
        _accessible(second, problems)
        context.close()
    assert problems == {}
    with running.db.reading() as session:
        story = export_story(session, "swrb13", "shared")
    assert story.index("From the first tab") < story.index("From the second tab")


def _new_story(page: Any, running: Running, title: str, slug: str) -> None:
    """Create a story from the event's stories page; its editor opens."""
    page.goto(running.origin + "events/swrb13/stories")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Slug").fill(slug)
    page.get_by_role("button", name="Create the story").click()


def _drag(page: Any, source: Any, target: Any, below: bool = False) -> None:
    """Press on ``source``, move in steps (as a hand does) onto ``target``, let go."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    y = end["y"] + (end["height"] * 0.8 if below else end["height"] * 0.2)
    page.mouse.move(end["x"] + end["width"] / 2, y, steps=20)
    page.mouse.up()


def test_posts_are_dragged_into_the_story_and_items_dragged_into_place(
    running: Running,
) -> None:
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1300, "height": 1000})
        page = context.new_page()
        watch = Watch(running.origin)
        watch.attach(page)
        page.goto(running.origin + f"login?token={TOKEN}")
        _new_story(page, running, "Dragged", "dragged")
        first = page.locator("section.browser ol.posts > li").first
        address = first.get_attribute("data-address")
        _drag(page, first.locator(".drag"), page.locator("ol.items"))
        expect(page.get_by_role("status")).to_contain_text("Post added as item 1 of 1.")
        page.get_by_label("Heading").fill("Top")
        page.get_by_role("button", name="Add the heading").click()
        items = page.locator("ol.items > li")
        expect(items).to_have_count(2)
        _drag(page, items.nth(1).locator(".drag"), items.nth(0))
        expect(page.get_by_role("status")).to_contain_text("Item 2 moved: now item 1 of 2.")
        watch.collect(page)
        context.close()
    watch.assert_clean()
    with running.db.reading() as session:
        story = export_story(session, "swrb13", "dragged").split("---\n", 2)[2].strip()
    assert story.startswith("## Top\n\n" + str(address))


def test_a_curator_signs_in_with_a_password_and_is_refused_an_organiser_action(
    running: Running,
) -> None:
    from backchannel.studio import add_user

    with running.db.writing() as session:
        add_user(session, "aroha", "curator", "a long enough secret")
    problems: dict[str, list[str]] = {}
    with browser() as chromium:
        context = chromium.new_context()
        with_axe(context)
        page = context.new_page()
        page.goto(running.origin + "login")
        _accessible(page, problems)
        page.get_by_label("Name").fill("aroha")
        page.get_by_label("Password").fill("a wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match an account")
        page.get_by_label("Password").fill("a long enough secret")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Signed in as aroha")).to_be_visible()
        expect(page.get_by_role("link", name="run it")).to_have_count(0)
        answer = page.goto(running.origin + "events/swrb13/organise")
        assert answer is not None and answer.status == 403
        expect(page.locator("body")).to_contain_text("Only an organiser may do this: ask one.")
        page.goto(running.origin + "events/swrb13/posts")
        expect(page.get_by_role("button", name="Feature").first).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("out of this event"))).to_have_count(0)
        context.close()
    assert problems == {}


def _touch_drag(page: Any, source: Any, target: Any) -> None:
    """A finger on ``source``, moved in steps onto ``target``, lifted (real touch
    events, through the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    start, end = source.bounding_box(), target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] * 0.2
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for step in range(1, 21):
        x, y = x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
        page.wait_for_timeout(10)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_a_finger_drags_an_item_into_place(running: Running) -> None:
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 900, "height": 1000}, has_touch=True)
        page = context.new_page()
        page.goto(running.origin + f"login?token={TOKEN}")
        _new_story(page, running, "Touched", "touched")
        for text in ("One", "Two"):
            page.get_by_label("Heading").fill(text)
            page.get_by_role("button", name="Add the heading").click()
        items = page.locator("ol.items > li")
        expect(items).to_have_count(2)
        _touch_drag(page, items.nth(1).locator(".drag"), items.nth(0))
        expect(page.get_by_role("status")).to_contain_text("Item 2 moved: now item 1 of 2.")
        context.close()
    with running.db.reading() as session:
        story = export_story(session, "swrb13", "touched").split("---\n", 2)[2].strip()
    assert story == "## Two\n\n## One"


def test_an_organiser_uploads_an_old_archive_and_watches_it_import(
    running: Running, tmp_path: Path
) -> None:
    """Issue 35, point 1: the upload on the event's page, as an organiser uses it."""
    from tests.twarc_files import tweet_v1, user_v1, write_lines

    ana = user_v1("101", "ana_sw", "Ana Silva")
    capture = write_lines(tmp_path / "swrb13-2013.jsonl", [
        tweet_v1(f"39100000000000{i:04d}", f"In the hall {i} #swrb13", ana,
                 created="Thu Nov 14 01:00:00 +0000 2013") for i in range(40)])  # fmt: skip
    problems: dict[str, list[str]] = {}
    with browser() as chromium:
        context = chromium.new_context()
        with_axe(context)
        page = context.new_page()
        watch = Watch(running.origin)
        watch.attach(page)
        page.goto(running.origin + f"login?token={TOKEN}")
        page.goto(running.origin + "events/swrb13/organise")
        expect(page.get_by_role("heading", name="Import old posts")).to_be_visible()
        page.get_by_label("Files").set_input_files(str(capture))
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("status").first).to_contain_text("Importing now.")
        expect(page.locator("ul.imports")).to_contain_text(
            "swrb13-2013.jsonl: twarc: 40 read, 40 imported, 0 already there", timeout=20_000
        )
        _accessible(page, problems)
    with running.db.reading() as session:
        assert len(session.scalars(select(Post).where(Post.platform == "twitter")).all()) == 40
    watch.assert_clean()
    assert problems == {}
