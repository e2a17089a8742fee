"""The one-pass cleaner of simple HTML gives exactly what the full way gives, and
hostile input that fits its narrow grammar still comes out inert."""

from __future__ import annotations

import random
import time

import pytest

from backchannel.collectors.bluesky.facets import render_facets
from backchannel.sanitize import clean as sanitize
from backchannel.sanitize.clean import CleanPost, clean_post, clean_post_html, text_and_links
from tests.test_mastodon_normalize import HOSTILE, assert_safe

EMOJI = {"x": "https://emoji.example/x.png", "blob_cat": "https://emoji.example/a&b.png"}


def full_way(source: str, emojis: dict[str, str]) -> CleanPost:
    body = sanitize._clean_fully(source, sanitize._safe_emojis(emojis))
    return CleanPost(body, *text_and_links(body))


def simple_way(source: str, emojis: dict[str, str]) -> CleanPost | None:
    return sanitize._SIMPLE.clean(source, sanitize._safe_emojis(emojis))


MASTODON = [
    '<p>Kia ora <span class="h-card" translate="no"><a href="https://tui.example/@mele" '
    'class="u-url mention">@<span>mele</span></a></span> :x: see <a href="https://example.org/'
    'a/very/long/path?x=1&amp;y=2" target="_blank" rel="nofollow noopener" translate="no">'
    '<span class="invisible">https://</span><span class="ellipsis">example.org/a/very</span>'
    '<span class="invisible">/long/path?x=1&amp;y=2</span></a> <a href="https://kea.example/tags/'
    'swrs26" class="mention hashtag" rel="tag">#<span>swrs26</span></a></p><p>Line one<br />'
    "line two &amp; &lt;three&gt; &quot;q&quot; it&#39;s</p>",
    '<p class="quote-inline">RE: <a href="https://kea.example/@a/1">kea.example/@a/1</a></p>'
    "<p>quoted</p>",
    "<p><b>bold</b> <i>it</i> <code>x = 1</code> <del>old</del> <em>e</em> <strong>s</strong></p>",
    '<p>emoji <img class="emoji" alt=":blob_cat:" title=":blob_cat:" '
    'src="https://emoji.example/a&amp;b.png"> and :x:blob_cat: \xa0nbsp</p>',
    "",
    "plain text, no tags at all",
]


@pytest.mark.parametrize("source", MASTODON)
def test_simple_html_takes_the_one_pass_and_matches_the_full_way(source: str) -> None:
    simple = simple_way(source, EMOJI)
    assert simple is not None, "this HTML should be simple"
    assert simple == full_way(source, EMOJI)
    assert clean_post(source, EMOJI) == simple
    assert clean_post_html(source, EMOJI) == simple.html
    assert clean_post_html(simple.html, EMOJI) == simple.html  # stable


def test_what_the_one_pass_writes() -> None:
    result = clean_post(MASTODON[0], EMOJI)
    assert result.html == (
        '<p>Kia ora <span class="h-card"><a href="https://tui.example/@mele" class="u-url mention"'
        ' rel="nofollow noopener ugc">@<span>mele</span></a></span> <img class="emoji" alt=":x:"'
        ' title=":x:" src="https://emoji.example/x.png"> see <a href="https://example.org/a/very/'
        'long/path?x=1&amp;y=2" rel="nofollow noopener ugc"><span>example.org/a/very…</span></a> '
        '<a href="https://kea.example/tags/swrs26" class="mention hashtag" rel="nofollow noopener '
        'ugc">#<span>swrs26</span></a></p><p>Line one<br>line two &amp; &lt;three&gt; "q" it\'s</p>'
    )
    assert result.text == (
        'Kia ora @mele :x: see example.org/a/very… #swrs26\n\nLine one\nline two & <three> "q" it\'s'
    )
    assert result.links == ["https://example.org/a/very/long/path?x=1&y=2"]


# Hostile input written in the simple grammar: the one pass handles (or refuses) it.
HOSTILE_SIMPLE = [
    '<p onclick="alert(1)" style="position:fixed">click</p>',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="https://ok.example/&quot;onmouseover=&quot;alert(1)">quote</a>',
    '<a href="https://ok.example/x" onmouseover="alert(1)" style="x" rel="opener">ok</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a>',
    '<a href="//evil.example/x">scheme-relative</a>',
    '<img src="https://tracker.example/pixel.gif">',
    '<img class="emoji" alt=":x:" src="https://evil.example/x.png" onerror="alert(1)">',
    '<span class="invisible"><a href="https://hidden.example/">h</a></span><span>shown</span>',
    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
    "<b>unclosed <i>nesting",
    "<b><i>misnested</b></i>",
    "<p>one<p>nested</p></p>",
    '<a href="https://a.example/"><a href="https://b.example/">nested links</a></a>',
    '<a href="https://a.example/" href="javascript:alert(1)">duplicate</a>',
    '<a href="https://xn--80ak6aa92e.example/">punycode</a>',
    '<a href="https://999999999999/">number host</a>',
    '<span class="h-card" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">t</span>',
    '<code title="\xa0&amp; a>b">c</code>',
]


@pytest.mark.parametrize("source", HOSTILE_SIMPLE + HOSTILE)
def test_hostile_input_is_inert_and_matches_the_full_way(source: str) -> None:
    simple = simple_way(source, EMOJI)
    if simple is not None:
        assert simple == full_way(source, EMOJI)
    out = clean_post(source, EMOJI)
    inv = assert_safe(out.html)
    assert "script" not in inv.tags
    for tag, name, value in inv.attrs:
        assert name in {"href", "class", "rel", "title", "lang", "src", "alt"}
        if tag == "img":
            assert name != "src" or value in EMOJI.values()
    assert clean_post_html(out.html, EMOJI) == out.html  # stable
    assert all(link.startswith("https://") for link in out.links)


def test_hostile_simple_cases_that_take_the_one_pass() -> None:
    # These fit the grammar: the one pass must handle them (and did, above, exactly as
    # the full way); the rest must be refused to the full way.
    taken = {s for s in HOSTILE_SIMPLE if simple_way(s, EMOJI) is not None}
    assert taken == {
        HOSTILE_SIMPLE[0],
        HOSTILE_SIMPLE[3],
        HOSTILE_SIMPLE[6],
        HOSTILE_SIMPLE[7],
        HOSTILE_SIMPLE[8],
        HOSTILE_SIMPLE[9],
        HOSTILE_SIMPLE[17],
    }  # [18] has a raw ">" in an attribute value: the full way takes that
    assert clean_post(HOSTILE_SIMPLE[17], EMOJI).html == (
        '<span class="h-card" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">t</span>'
    )
    assert clean_post(HOSTILE_SIMPLE[8], EMOJI).links == []  # hidden links do not count


def test_huge_simple_post() -> None:
    chunk = '<p>word <a href="https://ok.example/x">link</a> <b title="t">b</b></p>'
    source = chunk * (1_000_000 // len(chunk) + 1)
    simple = simple_way(source, {})
    assert simple is not None
    assert simple.html.count("<a ") > 10_000
    assert simple.links == ["https://ok.example/x"]


@pytest.mark.parametrize("source", ["<" * 1_000_000, "<a" * 500_000, "<p " * 400_000 + ">"])
def test_huge_hostile_post_is_refused_quickly(source: str) -> None:
    started = time.monotonic()
    assert simple_way(source, {}) is None
    assert time.monotonic() - started < 2


def test_bluesky_rendered_html_is_simple() -> None:
    text = "Tēnā koe @ana.example it's <b> & #swrs26 https://example.org/x\nnext"
    data = text.encode()
    facets = [
        {"index": {"byteStart": data.index(b"@"), "byteEnd": data.index(b" it")},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:abc"}]},
        {"index": {"byteStart": data.index(b"#"), "byteEnd": data.index(b" https")},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "SWRS26"}]},
        {"index": {"byteStart": data.index(b"https"), "byteEnd": data.index(b"\n")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/x"}]},
    ]  # fmt: skip
    rendered = render_facets(text, facets).html
    simple = simple_way(rendered, {})
    assert simple is not None
    assert simple == full_way(rendered, {})


# Generated input: random token soup (mostly refused) and random well-nested trees
# (mostly simple); wherever the one pass answers, it answers as the full way does.
_SOUP = [
    "<p>", "</p>", "<span>", "</span>", '<span class="invisible">', '<span class="ellipsis">',
    '<span class="h-card" translate="no">', "<a>", "</a>",
    '<a href="https://ok.example/x?a=1&amp;b=2" class="mention hashtag" rel="tag">',
    '<a href="https://ok.example/p" title="t&quot;" lang="en" target="_blank">',
    '<a href="javascript:alert(1)">', '<a href="https://ok.example:8080/">', "<b>", "</b>",
    "<i>", "</i>", "<code>", "</code>", "<br>", "<br />", '<br class="x">',
    '<img class="emoji" alt=":x:" src="https://emoji.example/x.png">',
    '<img src="https://tracker.example/p.gif">', '<p class="quote-inline foo">',
    '<p onclick="alert(1)">', '<b class="mention">', "text", " ", "\n", "\t", ":x:",
    ":x:blob_cat:", "&amp;", "&lt;script&gt;", "&#39;", "&#x27;", "a > b", "\xa0", "é✨",
    "&nbsp;", "&", "<", "\r", "<script>", "</script>", "<!-- c -->", "<div>", "</div>",
    '<span class="invisible ellipsis">', '<span class="ellipsis\xa0h-card">',
    '<a href=" https://ok.example/">', '<a class="mention mention" href="https://ok.example/m">',
]  # fmt: skip
_ATTRS = [
    "", ' class="invisible"', ' class="ellipsis"', ' class="h-card"', ' class="mention hashtag"',
    ' class="u-url"', ' href="https://ok.example/x"', ' href="https://ok.example/y" class="mention"',
    ' title="t"', ' class="quote-inline"', ' lang="mi"', ' rel="tag" href="https://ok.example/z"',
    ' data-x="1"', ' href="https://ok.example/&amp;&quot;"', ' title="a>b&lt;c&quot;\xa0"',
]  # fmt: skip
_TAGS = ["span", "a", "b", "i", "code", "em", "strong", "del", "s", "u", "p"]
_TEXT = ["word ", ":x: ", "&amp; ", "a&lt;b", "\n", " ", "é", "\xa0", "&#39;q&quot;", "x\ty"]
_VOID = ["<br>", "<br />", '<img class="emoji" alt=":x:" src="https://emoji.example/x.png">']


def _tree(rng: random.Random, depth: int) -> str:
    out = []
    for _ in range(rng.randrange(0, 4)):
        roll = rng.random()
        if roll < 0.4:
            out.append(rng.choice(_TEXT))
        elif roll < 0.5:
            out.append(rng.choice(_VOID))
        elif depth < 4:
            tag = rng.choice(_TAGS)
            out.append(f"<{tag}{rng.choice(_ATTRS)}>{_tree(rng, depth + 1)}</{tag}>")
    return "".join(out)


def test_generated_input_matches_the_full_way() -> None:
    rng = random.Random(20260312)
    simple_count = 0
    for i in range(3000):
        if i % 2:
            source = "".join(rng.choice(_SOUP) for _ in range(rng.randrange(1, 10)))
        else:
            source = _tree(rng, 0)
        emojis = EMOJI if i % 3 else {}
        simple = simple_way(source, emojis)
        if simple is not None:
            simple_count += 1
            assert simple == full_way(source, emojis), source
    assert simple_count > 500  # the one pass was really exercised
