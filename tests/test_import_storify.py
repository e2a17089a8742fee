"""``backchannel import`` of Storify stories (issue 35): the v1 API's JSON (paged), the
pre-v1 shape, tweets told by source and permalink (not by type), text, headings and
cards in order, hostile text, twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.import_kit import archive_with_event

TAG = "swrb13"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def tweet_element(tweet_id: str, name: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": f"el-{tweet_id}", "type": "quote",
            "permalink": f"http://twitter.com/{name}/status/{tweet_id}",
            "posted_at": "2013-03-20T10:30:00.000Z",
            "source": {"name": "twitter", "href": "http://twitter.com"},
            "data": {"quote": {"text": text, "username": name}},
            "attribution": {"name": name.title(), "username": name,
                            "href": f"http://twitter.com/{name}",
                            "thumbnail": "https://pbs.twimg.com/profile_images/1/a.jpg"},
            **extra}  # fmt: skip


def v1_story(elements: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    return {"code": 200, "content": {
        "sid": "51abc", "title": "What we learned at #swrb13", "slug": "swrb13-day-one",
        "description": "The keynote, the arguments, the pictures.",
        "author": {"username": "sw_prof", "name": "Dr A. Example"},
        "permalink": "https://storify.com/sw_prof/swrb13-day-one",
        "date": {"created": "2013-03-22T09:00:00.000Z"},
        "stats": {"elements": {"total": total if total is not None else len(elements)}},
        "elements": elements,
    }}  # fmt: skip


ELEMENTS = [
    {"id": "el-1", "type": "text", "data": {"text": "<h2>Opening keynote</h2>"}},
    {"id": "el-2", "type": "text", "data": {"text": f"<p>The room filled early. {HOSTILE}"
                                                    '<a href="https://swrb.example/prog">Programme</a></p>'
                                                    "<p>https://swrb.example/bare</p>"
                                                    "<p># not a heading</p>"}},
    tweet_element("313000000000000001", "ana_sw", f"Supervision sustains us #{TAG}"),
    # Typed "quote", but from another site: a card, not a tweet.
    {"id": "el-4", "type": "quote", "permalink": "https://www.facebook.com/sw/posts/1",
     "source": {"name": "facebook"}, "data": {"quote": {"text": "A Facebook post"}},
     "attribution": {"name": "SW Group"}},
    # Typed "link", but Twitter and a status permalink: a tweet (no hashtag, kept).
    dict(tweet_element("313000000000000002", "ben_pr", "Coffee now, outside"), type="link"),
    {"id": "el-6", "type": "image", "permalink": "https://photos.example/p/9",
     "source": {"name": "flickr"},
     "data": {"image": {"src": "https://photos.example/9.jpg", "caption": "The panel " + HOSTILE}},
     "attribution": {"name": "Cat"}},
    # Twitter, but no status permalink: a card.
    {"id": "el-7", "type": "quote", "permalink": "https://twitter.com/sw_prof",
     "source": {"name": "twitter"}, "data": {"quote": {"text": "A profile"}}},
]  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrb13", TAG, "2013-03-20", "2013-03-21")


def _import(config: Path, path: Path) -> str:
    result = run_cli("import", "swrb13", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    return result.output


def _story(config: Path, slug: str = "swrb13-day-one") -> str:
    result = run_cli("story", "export", "swrb13", slug, config=config)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_storify_story_comes_back_with_its_tweets_in_order(tmp_path: Path, config: Path) -> None:
    path = tmp_path / "swrb13-day-one.json"
    path.write_text(json.dumps(v1_story(ELEMENTS), indent=2), encoding="utf-8")
    output = _import(config, path)
    row = next(line for line in output.splitlines() if line.startswith("swrb13-day-one.json"))
    assert row.split()[1:5] == ["storify", "7", "2", "0"], output
    assert "story swrb13-day-one stored" in output
    story = _story(config)
    assert 'title: "What we learned at #swrb13"' in story and "curator: Dr A. Example" in story
    order = ["## Opening keynote", "The room filled early.", "https://twitter.com/i/web/status/313000000000000001",
             "A Facebook post", "https://twitter.com/i/web/status/313000000000000002",
             "[The panel", "A profile"]  # fmt: skip
    places = [story.index(part) for part in order]
    assert places == sorted(places), story
    assert "[Programme](https://swrb.example/prog)" in story
    assert "[https://swrb.example/bare](https://swrb.example/bare)" in story
    assert "\\# not a heading" in story

    exported = run_cli("export", "swrb13", "--no-search", config=config)
    assert exported.exit_code == 0, exported.output
    page = (tmp_path / "site" / "swrb13" / "story-swrb13-day-one.html").read_text(encoding="utf-8")
    assert "Supervision sustains us" in page and "Coffee now, outside" in page
    assert '<time datetime="2013-03-22">22 March 2013</time>' in page  # made on Storify
    assert "<script>alert" not in page and "onerror=" not in page.replace(
        "onerror=alert(2)&gt;", ""
    )
    assert '<h2 id="opening-keynote"' in page or "Opening keynote</h2>" in page

    again = _import(config, path)
    row = next(line for line in again.splitlines() if line.startswith("swrb13-day-one.json"))
    assert row.split()[2:5] == ["7", "0", "2"]
    assert _story(config) == story


def test_pages_of_one_story_in_one_file_are_joined_and_missing_ones_said(
    tmp_path: Path, config: Path
) -> None:
    first, second = v1_story(ELEMENTS[:3], total=8), v1_story(ELEMENTS[2:], total=8)
    path = tmp_path / "paged.json"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    output = _import(config, path)
    assert "the story has 8 elements and the file holds 7" in output
    assert _story(config).count("https://twitter.com/i/web/status/313000000000000001") == 1


def test_pages_saved_as_files_of_their_own_make_one_story(tmp_path: Path, config: Path) -> None:
    pages = []
    for number, part in enumerate((ELEMENTS[:3], ELEMENTS[3:]), start=1):
        page = tmp_path / f"swrb13-page{number}.json"
        page.write_text(json.dumps(v1_story(part, total=len(ELEMENTS))), encoding="utf-8")
        pages.append(page)
    result = run_cli("import", "swrb13", *map(str, pages), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    assert "swrb13-page1+1-pages.json" in result.output and "file holds" not in result.output
    story = _story(config)
    places = [story.index(part) for part in ("## Opening keynote", "status/313000000000000001",
                                              "A Facebook post", "status/313000000000000002")]  # fmt: skip
    assert places == sorted(places), story


def test_the_pre_v1_shape(tmp_path: Path, config: Path) -> None:
    story = {"content": {"title": "Old story", "slug": "old-story", "author": {"username": "x"},
                         "elements": {
        "1": {"elementClass": "quote", "permalink": "https://twitter.com/ana_sw/status/313000000000000011",
              "source": "twitter", "posted_at": "1363775400",
              "data": {"quote": {"text": f"From 2013 #{TAG}"}},
              "attribution": {"username": "ana_sw", "name": "Ana"}},
        "0": {"elementClass": "text", "data": {"text": "Before the tweet"}},
    }}}  # fmt: skip
    path = tmp_path / "old.json"
    path.write_text(json.dumps(story), encoding="utf-8")
    _import(config, path)
    text = _story(config, "old-story")
    assert text.index("Before the tweet") < text.index("status/313000000000000011")


def test_a_cut_storify_file_is_named(tmp_path: Path, config: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(v1_story(ELEMENTS), indent=2)[:300], encoding="utf-8")
    result = run_cli("import", "swrb13", str(path), "--format", "storify", "--no-media",
                     config=config)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "cut.json line 1: cut short, or not JSON, from here on" in result.output


STORIFY_HTML = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Storify: SWRB day one</title>
<meta name="description" content="The keynote, told by the room.">
<meta name="author" content="Dr A. Example"></head>
<body class="storify-export"><h1>What we learned at SWRB</h1>
<ol class="elements">
<li class="element text" data-type="text" data-id="e1"><h2>Opening keynote</h2></li>
<li class="element text" data-type="text" data-id="e2"><p>The room filled <b>early</b>.</p></li>
<li class="element quote" data-type="quote" data-source="twitter" data-id="e3"
    data-permalink="https://twitter.com/ana_sw/status/314000000000000001"
    data-timestamp="1363775400" data-username="ana_sw">
  <img class="avatar" src="https://pbs.twimg.com/profile_images/1/a.jpg">
  <span class="name">Ana Silva</span> <span class="username">@ana_sw</span>
  <div class="text">Slides at <a href="https://t.co/abc"><span class="invisible">https://</span>swrb.example/slides<span class="invisible">/2013/day-one</span></a> #{TAG}</div>
  <span class="time">6 months ago</span>
</li>
<li class="element link" data-type="link" data-source="web" data-id="e4"
    data-permalink="https://swrb.example/report">
  <h3 class="title">The report</h3><p class="text">What the panel found.</p></li>
<li class="element quote" data-type="quote" data-source="facebook" data-id="e5"
    data-permalink="https://www.facebook.com/sw/posts/2"><div class="text">Not a tweet</div></li>
</ol></body></html>
"""


def test_a_storify_html_export(tmp_path: Path, config: Path) -> None:
    path = tmp_path / "swrb-day-one.html"
    path.write_text(STORIFY_HTML, encoding="utf-8")
    output = _import(config, path)
    row = next(line for line in output.splitlines() if line.startswith("swrb-day-one.html"))
    assert row.split()[1:5] == ["storify", "5", "1", "0"], output
    story = _story(config, "what-we-learned-at-swrb")
    assert "curator: Dr A. Example" in story and "The keynote, told by the room." in story
    order = ["## Opening keynote", "The room filled **early**.",
             "https://twitter.com/i/web/status/314000000000000001", "[The report]",
             "What the panel found.", "Not a tweet"]  # fmt: skip
    places = [story.index(part) for part in order]
    assert places == sorted(places), story
    assert "6 months ago" not in story
    exported = run_cli("export", "swrb13", "--no-search", config=config)
    assert exported.exit_code == 0, exported.output
    page = (tmp_path / "site" / "swrb13" / "2013-03-20.html").read_text(encoding="utf-8")
    # The time from data-timestamp (10:30 UTC), the link's words without its hidden parts.
    assert '<time datetime="2013-03-20T10:30:00Z">' in page
    assert '<p>Slides at swrb.example/slides <a class="hashtag"' in page


def test_markup_the_standard_parser_refuses_does_not_end_the_page(
    tmp_path: Path, config: Path
) -> None:
    page = STORIFY_HTML.replace(
        "<p>The room filled <b>early</b>.</p>",
        '<p>The room filled <b>early</b>. <![><img src="]><img src=x onerror=alert(1)//"></p>',
    )
    path = tmp_path / "refused.html"
    path.write_text(page, encoding="utf-8")
    output = _import(config, path)
    row = next(line for line in output.splitlines() if line.startswith("refused.html"))
    assert row.split()[1:4] == ["storify", "5", "1"], output  # every element read
    story = _story(config, "what-we-learned-at-swrb")
    assert "The room filled **early**. \\<!\\[\\>" in story  # shown as the text it is
    assert "Not a tweet" in story and "onerror" not in story
