"""Hostile post HTML is cleaned in linear time, and comes out inert.

CPython's ``HTMLParser`` rescans unterminated constructs (``'<a' * n`` took ~12 s at
80 kB, minutes at the sizes here), so the sanitiser must never hand it raw odd input;
and html5ever (nh3) spends time that grows with the depth of the tree and with the
attributes of one tag (``'<div>' * n``: 9 s), so those are bounded first.
Each shape is timed against ordinary HTML of the same size in the same test: a ratio,
not seconds, so that a loaded machine slows both alike. Linear code stays far below
the bound; the quadratic parser was hundreds of times above it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from backchannel.sanitize.clean import clean_post, html_to_text, text_and_links
from backchannel.sanitize.tame import MAX_ATTRIBUTES, MAX_DEPTH, tame
from tests.test_mastodon_normalize import assert_safe

SIZE = 200_000
MAX_RATIO = 25  # hostile time / ordinary time of the same size


def _repeat(unit: str) -> str:
    return unit * (SIZE // len(unit))


# Ordinary HTML that the one-pass cleaner refuses (a list, an upper-case tag, a stray
# "<" in text, a comment): it goes the full way, as the hostile shapes do.
ORDINARY_UNIT = (
    '<p>Kia ora <a href="https://kea.example/a?b=1&amp;c=2">a link</a> &amp; 1 < 2 '
    "<B>bold</B> <!-- note --></p><ul><li>one</li><li>two &mdash; three</li></ul>"
)
ORDINARY = _repeat(ORDINARY_UNIT)

HOSTILE = {
    "unterminated tags": _repeat("<a"),
    "bare <": _repeat("<"),
    "unterminated comments": _repeat("<!--"),
    "unclosed quotes": _repeat('<a href="'),
    "unclosed single quotes": _repeat("<a x='"),
    "attribute names across <": _repeat("<a x='>'b"),
    "char refs": _repeat("&#"),
    "hex char refs": _repeat("&#x"),
    "end tags": _repeat("</a"),
    "declarations": _repeat("<!"),
    "processing instructions": _repeat("<?"),
    "cdata": _repeat("<![CDATA["),
    "self-closing": _repeat("<br/"),
    "nested tags": _repeat("<b>"),
    "nested spans": _repeat('<span class="invisible">'),
    "long attribute list": "<a " + " ".join(f"x{i}=y" for i in range(SIZE // 8)) + ">",
    "attribute names only": "<a " + " ".join(f"x{i}" for i in range(SIZE // 7)),
    # What html5ever's tree building does in time that grows with the depth.
    "deep nesting": _repeat("<div>"),
    "unclosed formatting": _repeat("<b>x</p>"),
    "stray end tags": _repeat("<em>x</b>"),
    "nested lists": _repeat('<ol start="1">'),
    "reopened formatting": "".join(f"<i x={i}>" for i in range(SIZE // 18)) + _repeat("</p>y"),
    "tables": _repeat("<table><tr><td>"),
    "foreign content": _repeat("<svg><g>"),
    # What the text extraction's regular expressions might backtrack on.
    "spaces before a break": "<ul><li>x</li></ul>" + " " * SIZE + "x\n",
    "script in tags": _repeat("<scr<script>ipt>alert(1)</script>"),
    "event handlers": _repeat("<img src=x onerror=alert(1)"),
    "javascript links": _repeat('<a href="javascript:alert(1)" '),
}

CLEANERS: dict[str, Callable[[str], object]] = {
    "clean_post": clean_post,
    "html_to_text": html_to_text,
    "text_and_links": text_and_links,
}


def _seconds(clean: Callable[[str], object], source: str, runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        clean(source)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("cleaner", CLEANERS)
def test_hostile_shapes_take_linear_time(cleaner: str) -> None:
    clean = CLEANERS[cleaner]
    ordinary = _seconds(clean, ORDINARY, runs=3)
    slow = {}
    for shape, source in HOSTILE.items():
        seconds = _seconds(clean, source)
        if seconds > MAX_RATIO * ordinary:
            slow[shape] = round(seconds / ordinary, 1)
    assert not slow, f"{cleaner}: slower than {MAX_RATIO}x ordinary HTML ({ordinary:.3f}s): {slow}"


@pytest.mark.parametrize("shape", HOSTILE)
def test_hostile_shapes_come_out_inert(shape: str) -> None:
    post = clean_post(HOSTILE[shape])
    assert_safe(post.html)  # allowed tags and attributes only, http(s) URLs only
    assert "<script" not in post.html
    assert all(link.startswith(("http://", "https://")) for link in post.links)


def test_ordinary_html_is_unchanged_by_the_taming() -> None:
    post = clean_post(ORDINARY_UNIT)
    assert post.html == (
        '<p>Kia ora <a href="https://kea.example/a?b=1&amp;c=2" rel="nofollow noopener ugc">'
        "a link</a> &amp; 1 &lt; 2 <b>bold</b> </p><ul><li>one</li><li>two — three</li></ul>"
    )
    assert post.text == "Kia ora a link & 1 < 2 bold\n\none\ntwo — three"
    assert post.links == ["https://kea.example/a?b=1&c=2"]


def test_taming_leaves_ordinary_html_alone() -> None:
    assert tame(ORDINARY) is ORDINARY  # 200 kB, thousands of tags, shallow
    nested = ("<blockquote>" * 20 + "<p>deep quote</p>" + "</blockquote>" * 20) * 500
    assert tame(nested) is nested


def test_taming_bounds_depth_and_attributes() -> None:
    deep = tame("<div>" * 1000 + "x" + "</div>" * 1000)
    assert deep.count("<div>") == MAX_DEPTH
    assert html_to_text(deep) == "x"
    # Closed elements free their depth: siblings are never dropped.
    siblings = "<b>" * (MAX_DEPTH - 1) + "<i>x</i>" * 2000
    assert tame(siblings) is siblings
    # Only tags count: "<" in comments and quoted values hides nothing html5ever sees.
    hidden = '<!-- <div> --><a title="<div>">' + "<span>" * 300
    assert tame(hidden).count("<span>") == MAX_DEPTH - 1 and "<!-- <div> -->" in tame(hidden)
    many = "<p " + " ".join(f"x{i}=1" for i in range(5000)) + ' class="quote-inline">'
    cut = tame(many + "text</p>")
    assert cut.startswith("<p x0=1 x1=1") and cut.endswith(">text</p>")
    assert cut.count("=") == MAX_ATTRIBUTES
