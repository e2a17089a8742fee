"""The facet renderer: UTF-8 byte offsets, and broken facets that must not hurt."""

from __future__ import annotations

import html
import random
import re
from typing import Any

import pytest

from backchannel.collectors.bluesky.facets import LINK, MENTION, TAG, render_facets

DID = "did:plc:abcdefghijklmnopqrstuvwx"


def visible(markup: str) -> str:
    """The text a reader sees: tags dropped, <br> as a newline, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup.replace("<br>", "\n")))


def span(text: str, part: str) -> tuple[int, int]:
    """UTF-8 byte offsets of ``part`` in ``text``."""
    start = len(text[: text.index(part)].encode())
    return start, start + len(part.encode())


def facet(start: int, end: int, *features: dict[str, Any]) -> dict[str, Any]:
    return {"index": {"byteStart": start, "byteEnd": end}, "features": list(features)}


def link(uri: str) -> dict[str, Any]:
    return {"$type": LINK, "uri": uri}


def tag(name: str) -> dict[str, Any]:
    return {"$type": TAG, "tag": name}


def mention(did: str = DID) -> dict[str, Any]:
    return {"$type": MENTION, "did": did}


def test_zwj_family_before_a_link() -> None:
    family = "👨‍👩‍👧‍👧"
    assert len(family.encode()) == 25
    text = f"{family} read https://example.com/a…"
    start, end = span(text, "https://example.com/a…")
    out = render_facets(text, [facet(start, end, link("https://example.com/a/long/path?q=1"))])
    assert out.html == (
        f"{family} read "
        '<a href="https://example.com/a/long/path?q=1" rel="nofollow noopener ugc">'
        "https://example.com/a…</a>"
    )
    assert out.links == ("https://example.com/a/long/path?q=1",)
    assert visible(out.html) == text


def test_macrons() -> None:
    text = "Kia ora ā ē ī ō ū #kōrero @aroha.bsky.social"
    t0, t1 = span(text, "#kōrero")
    m0, m1 = span(text, "@aroha.bsky.social")
    out = render_facets(text, [facet(t0, t1, tag("kōrero")), facet(m0, m1, mention())])
    assert (
        '<a class="hashtag" href="https://bsky.app/hashtag/k%C5%8Drero" data-tag="kōrero">#kōrero</a>'
        in out.html
    )
    assert f'<a class="mention" href="https://bsky.app/profile/{DID}">@aroha.bsky.social</a>' in (
        out.html
    )
    assert out.tags == ("kōrero",)
    assert out.mentions == (("aroha.bsky.social", f"https://bsky.app/profile/{DID}"),)
    assert visible(out.html) == text


def test_right_to_left_text() -> None:
    text = "שלום עולם #עברית مرحبا #عربي"
    a, b = span(text, "#עברית")
    c, d = span(text, "#عربي")
    out = render_facets(text, [facet(c, d, tag("عربي")), facet(a, b, tag("עברית"))])
    assert out.tags == ("עברית", "عربي")  # in order of the text, not of the list
    assert visible(out.html) == text
    assert 'data-tag="עברית">#עברית</a>' in out.html


def test_cafe_tag_is_bytes_11_to_17() -> None:
    text = "café 😀 #tést"
    assert text.encode()[11:17].decode() == "#tést"
    out = render_facets(text, [facet(11, 17, tag("tést"))])
    assert (
        out.html
        == 'café 😀 <a class="hashtag" href="https://bsky.app/hashtag/t%C3%A9st" data-tag="tést">#tést</a>'
    )


def test_tag_is_normalised_and_case_kept_in_the_text() -> None:
    out = render_facets("#SWRS26", [facet(0, 7, tag("SWRS26"))])
    assert out.tags == ("swrs26",)
    assert ">#SWRS26</a>" in out.html


def test_hostile_text_is_escaped() -> None:
    text = '<script>alert(1)</script> & "quotes" #x'
    out = render_facets(text, [facet(*span(text, "#x"), tag('x"><img src=x onerror=alert(1)>'))])
    assert "<script" not in out.html and "<img" not in out.html
    assert "&lt;script&gt;" in out.html
    assert visible(out.html) == text


def test_newlines_become_br() -> None:
    out = render_facets("one\ntwo", [])
    assert out.html == "one<br>two"


EMOJI_TEXT = "go 😀 #tag https://x.example/ end"


@pytest.mark.parametrize(
    ("name", "facets"),
    [
        ("cuts into the emoji", [facet(5, 12, tag("tag"))]),
        ("ends inside the emoji", [facet(0, 5, link("https://a.example/"))]),
        ("overlapping", [facet(8, 12, tag("tag")), facet(10, 30, link("https://x.example/"))]),
        ("same start", [facet(8, 12, tag("tag")), facet(8, 12, link("https://x.example/"))]),
        ("past the end", [facet(13, 999, link("https://x.example/"))]),
        ("negative start", [facet(-5, 2, tag("go"))]),
        ("reversed", [facet(12, 8, tag("tag"))]),
        ("empty", [facet(8, 8, tag("tag"))]),
        ("beyond the text", [facet(500, 600, tag("tag"))]),
        ("unknown $type", [facet(8, 12, {"$type": "app.bsky.richtext.facet#bold"})]),
        ("non-standard tag type", [facet(8, 12, {"$type": "#hashtag", "tag": "tag"})]),
        ("tag without tag", [facet(8, 12, {"$type": TAG})]),
        ("tag not a string", [facet(8, 12, {"$type": TAG, "tag": 5})]),
        ("link without uri", [facet(13, 30, {"$type": LINK})]),
        ("mention without did", [facet(0, 2, {"$type": MENTION})]),
        ("mention with a bad did", [facet(0, 2, mention("javascript:alert(1)"))]),
        ("no index", [{"features": [tag("tag")]}]),
        ("no byteEnd", [{"index": {"byteStart": 8}, "features": [tag("tag")]}]),
        ("string offsets", [facet("8", "12", tag("tag"))]),  # type: ignore[arg-type]
        ("float offsets", [facet(8.0, 12.0, tag("tag"))]),  # type: ignore[arg-type]
        ("bool offsets", [facet(False, True, tag("tag"))]),
        ("features not a list", [{"index": {"byteStart": 8, "byteEnd": 12}, "features": "x"}]),
        ("feature not a dict", [facet(8, 12, "tag")]),  # type: ignore[arg-type]
        ("facet not a dict", ["facet", None, 3]),
        ("facets not a list", "oops"),
        ("facets None", None),
        ("javascript link", [facet(13, 30, link("javascript:alert(1)"))]),
        ("JavaScript link", [facet(13, 30, link(" JaVaScRiPt:alert(1)"))]),
        ("data link", [facet(13, 30, link("data:text/html,<script>alert(1)</script>"))]),
        ("relative link", [facet(13, 30, link("/etc/passwd"))]),
        ("link with a newline", [facet(13, 30, link("https://x.example/\nfoo"))]),
    ],
)
def test_broken_facets_never_garble_the_text(name: str, facets: Any) -> None:
    out = render_facets(EMOJI_TEXT, facets)
    assert visible(out.html) == EMOJI_TEXT, name
    assert "javascript" not in out.html.lower() and "data:" not in out.html


def test_cut_through_a_character_shrinks_to_whole_characters() -> None:
    # bytes 5..12 start inside 😀 (bytes 3..7): the facet keeps " #tag" only.
    out = render_facets(EMOJI_TEXT, [facet(5, 12, tag("tag"))])
    assert out.html.startswith('go 😀<a class="hashtag"')
    assert out.tags == ("tag",)


def test_overlap_keeps_the_first() -> None:
    facets = [facet(8, 12, tag("tag")), facet(10, 30, link("https://x.example/"))]
    out = render_facets(EMOJI_TEXT, facets)
    assert out.tags == ("tag",) and out.links == ()


def test_past_the_end_is_clamped() -> None:
    out = render_facets(EMOJI_TEXT, [facet(13, 999, link("https://x.example/"))])
    assert out.links == ("https://x.example/",)
    assert out.html.endswith('rel="nofollow noopener ugc">https://x.example/ end</a>')


def test_unknown_feature_before_a_known_one() -> None:
    features = [{"$type": "blue.poll.post#option"}, tag("tag")]
    out = render_facets(EMOJI_TEXT, [facet(8, 12, *features)])
    assert out.tags == ("tag",)


def test_javascript_link_is_not_a_link() -> None:
    out = render_facets(EMOJI_TEXT, [facet(13, 30, link("javascript:alert(1)"))])
    assert "<a" not in out.html and out.links == ()


def test_lone_surrogate_does_not_crash() -> None:
    text = "a\ud800b #t"
    out = render_facets(text, [facet(*span("a\ufffdb #t", "#t"), tag("t"))])
    assert visible(out.html) == "a\ufffdb #t"
    assert out.tags == ("t",)
    out.html.encode("utf-8")  # storable


def test_random_facets_never_break_the_invariants() -> None:
    rng = random.Random(1234)
    alphabet = list("ab #@.ā😀👨‍👩‍👧\n<&>\"'") + ["שׁ", "مر"]
    kinds = [tag("t"), link("https://e.example/"), mention(), {"$type": "x"}, {}]
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        size = len(text.encode())
        facets = [
            facet(
                rng.randint(-3, size + 3),
                rng.randint(-3, size + 3),
                *rng.sample(kinds, rng.randint(0, 2)),
            )
            for _ in range(rng.randint(0, 5))
        ]
        out = render_facets(text, facets)
        assert visible(out.html) == text
        assert out.html.count("<a ") == out.html.count("</a>")


def test_text_hashtags_ascii_shortcut_agrees_with_unicode_categories() -> None:
    import unicodedata

    from backchannel.collectors.bluesky.facets import text_hashtags

    # Every ASCII character after a tag: cut where Unicode says punctuation ("_", "-" kept).
    for code in range(0x21, 0x7F):
        char = chr(code)
        if char == "#":
            continue
        cut = unicodedata.category(char).startswith("P") and char not in "_-"
        expected = ["ab"] if cut else [("ab" + char + "c").casefold()]
        assert text_hashtags(f"x #ab{char}c") == expected, char
    assert text_hashtags("#swrs26, (#Tāmaki)… ＃日本語「x」 #123 a#b") == [
        "swrs26",
        "tāmaki",
        "日本語",
    ]


def test_ascii_and_non_ascii_text_render_alike() -> None:
    # ASCII text is sliced as str, other text as UTF-8 bytes: same rules either way.
    for text in ("see #tag and more", "sée #tag and more"):
        start, end = span(text, "#tag")
        out = render_facets(text, [facet(start, end, {"$type": TAG, "tag": "tag"})])
        assert ">#tag</a>" in out.html
        assert visible(out.html) == text
        assert out.tags == ("tag",)
