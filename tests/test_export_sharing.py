"""Shared as Storify's were (issue 34, point 7): preview cards on stories and events
with a base URL, a story's embed page that other sites may frame (and only it), and
its oEmbed description."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from backchannel.export import ExportOptions, export_site
from backchannel.store import Story
from tests.export_browser import browser
from tests.export_fixture import build_fixture
from tests.html_audit import audit_site
from tests.test_serve import _serving

BASE = "https://example.org/arch/"


def _site(tmp_path: Path, base_url: str, title: str | None = None) -> Path:
    database = build_fixture(f"sqlite:///{tmp_path / 'a.db'}")
    if title:
        with database.writing() as session:
            session.scalar(select(Story)).title = title
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, base_url=base_url))
    database.dispose()
    return out


def _meta(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z_:]+)" content="([^"]*)"', html)
    )


def test_cards_embed_and_oembed_with_a_base_url(tmp_path: Path) -> None:
    out = _site(tmp_path, BASE)
    story = (out / "swrb13" / "story-day-one.html").read_text(encoding="utf-8")
    meta = _meta(story)
    assert meta["og:url"] == f"{BASE}swrb13/story-day-one.html"
    assert meta["og:title"] == "Day one in posts" and meta["og:type"] == "article"
    assert meta["og:description"] == "The first day, as it was told."
    # No picture of the story is kept: a card is drawn from its title.
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:image"] == meta["twitter:image"] == f"{BASE}swrb13/story-day-one-card.png"
    with Image.open(out / "swrb13" / "story-day-one-card.png") as card:
        assert (card.format, card.size) == ("PNG", (1200, 630))
        assert card.getpixel((5, 5)) == (0x1F, 0x6F, 0x54)  # the accent colour
        # Its title in white letters: the top half holds far more white than the rest.
        whites = sum(1 for x in range(0, 1200, 4) for y in range(150, 400, 4)
                     if card.getpixel((x, y)) == (255, 255, 255))  # fmt: skip
        assert whites > 500, whites
    oembed_link = f'<link rel="alternate" type="application/json+oembed" href="{BASE}swrb13/story-day-one.oembed.json"'
    assert oembed_link in story
    answer = json.loads((out / "swrb13" / "story-day-one.oembed.json").read_text("utf-8"))
    assert answer["version"] == "1.0" and answer["type"] == "rich"
    assert f'src="{BASE}swrb13/story-day-one-embed.html"' in answer["html"]
    event = _meta((out / "swrb13" / "index.html").read_text("utf-8"))
    assert event["og:type"] == "website" and event["og:image"] == f"{BASE}swrb13/card.png"
    with Image.open(out / "swrb13" / "card.png") as card:
        assert card.size == (1200, 630)

    embed = (out / "swrb13" / "story-day-one-embed.html").read_text(encoding="utf-8")
    assert "<script" not in embed and "<nav" not in embed and '<base target="_blank">' in embed
    assert "The opening." in embed and "Day one in posts" in embed  # the story, its notes


def test_without_a_base_url_no_card_nor_oembed(tmp_path: Path) -> None:
    out = _site(tmp_path, "")
    story = (out / "swrb13" / "story-day-one.html").read_text(encoding="utf-8")
    assert _meta(story) == {} and "json+oembed" not in story
    assert not (out / "swrb13" / "story-day-one-card.png").exists()  # nobody would see it
    assert not (out / "swrb13" / "story-day-one.oembed.json").exists()
    assert (out / "swrb13" / "story-day-one-embed.html").is_file()


def test_a_hostile_title_stays_text_in_the_card_and_the_embed_code(tmp_path: Path) -> None:
    hostile = '"><script>alert(1)</script> & more'
    out = _site(tmp_path, BASE, hostile)
    story = (out / "swrb13" / "story-day-one.html").read_text(encoding="utf-8")
    assert "<script>alert" not in story
    assert _meta(story)["og:title"] == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"
    answer = json.loads((out / "swrb13" / "story-day-one.oembed.json").read_text("utf-8"))
    assert answer["title"] == hostile
    assert 'title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"' in answer["html"]
    assert audit_site(out) == []  # the embed page too: no script, nothing from elsewhere


@pytest.mark.browser
def test_only_the_embed_page_may_be_framed(tmp_path: Path) -> None:
    out = _site(tmp_path, BASE)
    with _serving(out) as origin:
        embed = httpx.get(origin + "swrb13/story-day-one-embed.html")
        assert "frame-ancestors *" in embed.headers["content-security-policy"]
        story = httpx.get(origin + "swrb13/story-day-one.html")
        assert "frame-ancestors 'none'" in story.headers["content-security-policy"]
        # Another site's page framing both: another origin (its own server and port).
        frames = (
            "<!doctype html><title>A blog</title>"
            f'<iframe name="embed" src="{origin}swrb13/story-day-one-embed.html"></iframe>'
            f'<iframe name="page" src="{origin}swrb13/story-day-one.html"></iframe>'
        ).encode()

        class Blog(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(frames)

            def log_message(self, *args: object) -> None:
                pass

        blog = ThreadingHTTPServer(("127.0.0.1", 0), Blog)
        threading.Thread(target=blog.serve_forever, daemon=True).start()
        try:
            with browser() as chromium:
                page = chromium.new_page()
                page.goto(f"http://127.0.0.1:{blog.server_address[1]}/post.html")
                page.wait_for_timeout(500)
                framed = page.frame(name="embed")
                assert framed is not None
                assert "Day one in posts" in framed.locator("h1").inner_text()
                refused = page.frame(name="page")
                assert refused is None or "Day one in posts" not in refused.content()
        finally:
            blog.shutdown()


def test_a_card_is_drawn_only_from_the_title_and_in_every_letter(tmp_path: Path) -> None:
    from backchannel.export.cards import _font, _lines, draw_card

    assert _font("bold", 64) is not None, "install fonts-dejavu-core: cards need a font"
    one = draw_card("Hui-ā-Tau: whānau, Ōtautahi", "SWRB", "A storyboard by Ngaio")
    assert one == draw_card("Hui-ā-Tau: whānau, Ōtautahi", "SWRB", "A storyboard by Ngaio")
    assert one != draw_card("Hui-a-Tau: whanau, Otautahi", "SWRB", "A storyboard by Ngaio")
    font = _font("bold", 64)
    # The font has the letters of Māori names (Pillow's own font draws them as boxes).
    missing = bytes(font.getmask("\ue000"))
    assert all(bytes(font.getmask(letter)) != missing for letter in "āēīōūĀŌüñç")
    long = _lines("word " * 200, font, 1056, 4)
    assert len(long) == 4 and long[-1].endswith("…")
    assert all(font.getlength(line) <= 1056 for line in _lines("x" * 300, font, 1056, 9))
