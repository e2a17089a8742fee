"""Issue 35, end to end: a Storify story and a twarc capture imported into the demo
event, whose Mastodon and Bluesky posts the sandbox servers gave; exported; the story
shows its text and items in their order, the tweets sit in the timeline beside the
other posts, and Chromium asks nothing of a third party (Twitter's avatars and
images included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.export_browser import Watch, browser, serve
from tests.helpers import REPO
from tests.test_import_storify import tweet_element
from tests.twarc_files import tweet_v1, user_v1, write_lines

TAG = "swrs26"  # the demo conference's hashtag


def _cli(data: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backchannel", "--config", str(data / "config.toml"), *args],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("import-e2e")
    site, data = folder / "site", folder / "data"
    subprocess.run(
        [sys.executable, "-m", "backchannel", "demo", "--out", str(site), "--data", str(data)],
        check=True, capture_output=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    ana = user_v1("101", "ana_sw", "Ana Silva")
    tweets = [tweet_v1(f"30000000000000070{i}", f"From the back row, point {i} #{TAG}", ana,
                       created=f"Thu Mar 12 0{i}:30:00 +0000 2026") for i in range(1, 4)]  # fmt: skip
    capture = write_lines(folder / "swrs26-tweets.jsonl", tweets)
    story = {"code": 200, "content": {
        "title": "The day on Twitter", "slug": "the-day-on-twitter",
        "author": {"name": "Dr A. Example"}, "elements": [
            {"id": "1", "type": "text", "data": {"text": "<h2>Morning</h2>"}},
            {"id": "2", "type": "text", "data": {"text": "<p>First the keynote.</p>"}},
            tweet_element("300000000000000702", "ana_sw", f"From the back row, point 2 #{TAG}"),
            {"id": "4", "type": "link", "permalink": "https://swrs.example/slides",
             "source": {"name": "web"}, "data": {"link": {"title": "The slides",
                                                          "description": "All 40 of them"}}},
            {"id": "5", "type": "text", "data": {"text": "<p>Then the panel.</p>"}},
        ]}}  # fmt: skip
    storify = folder / "storify.json"
    storify.write_text(json.dumps(story), encoding="utf-8")
    imported = _cli(data, "import", "swrs26", str(capture), str(storify), "--no-media", "--wide")
    assert "story the-day-on-twitter stored" in imported, imported
    _cli(data, "consent", "imported", "swrs26", "all")
    _cli(data, "export", "swrs26", "--out", str(site))
    return site


def test_the_story_and_the_timeline_show_the_imported_posts(site: Path) -> None:
    story = (site / "swrs26" / "story-the-day-on-twitter.html").read_text(encoding="utf-8")
    order = ["Morning</h2>", "First the keynote.", "From the back row, point 2", "The slides",
             "All 40 of them", "Then the panel."]  # fmt: skip
    places = [story.index(part) for part in order]
    assert places == sorted(places)
    days = "".join(
        p.read_text(encoding="utf-8") for p in (site / "swrs26").glob("2026-03-12*.html")
    )
    platforms = {p for p in ("Mastodon", "Bluesky", "Twitter") if f'class="platform">{p}<' in days}
    assert platforms == {"Mastodon", "Bluesky", "Twitter"}
    assert all(f"From the back row, point {i}" in days for i in (1, 2, 3))


@pytest.mark.browser
def test_nothing_is_asked_of_a_third_party(site: Path) -> None:
    days = sorted(p.name for p in (site / "swrs26").glob("2026-03-12*.html"))
    with serve(site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        for name in ["story-the-day-on-twitter.html", *days, "people.html"]:
            page.goto(f"{origin}swrs26/{name}", wait_until="load")
            page.evaluate("async () => { for (let y = 0; y < document.body.scrollHeight; "
                          "y += innerHeight) { scrollTo(0, y); await new Promise(r => "
                          "requestAnimationFrame(r)); } }")  # fmt: skip
            watch.collect(page, f"/swrs26/{name}")
    watch.assert_clean()
