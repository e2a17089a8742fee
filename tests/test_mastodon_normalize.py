"""Mastodon Status JSON -> NormalizedPost, and the shared HTML sanitiser.

Real statuses come from the recorded cassettes in tests/fixtures/mastodon; the
hostile corpus is checked by parsing the output, not by looking for substrings.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml

from backchannel.collectors.base import normalize_hashtag
from backchannel.collectors.mastodon.normalize import normalize_status
from backchannel.errors import MalformedResponseError
from backchannel.sanitize.clean import clean_post_html, escape, html_to_text, safe_url
from tests.helpers import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "mastodon"


def cassette(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))
    return data["interactions"]


def body(interaction: dict[str, Any]) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


@pytest.fixture(scope="module")
def hoot() -> dict[str, Any]:
    """The one status of a real GET /api/v1/timelines/tag/hoot."""
    (interaction,) = [
        i for i in cassette("test_hashtag_tl.yaml") if "/timelines/tag/" in i["request"]["uri"]
    ]
    return body(interaction)[0]


@pytest.fixture(scope="module")
def boost() -> dict[str, Any]:
    (interaction,) = [
        i
        for i in cassette("test_status_reblog_unreblog.yaml")
        if i["request"]["uri"].endswith("/reblog")
    ]
    return body(interaction)


@pytest.fixture
def status(hoot: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(hoot)


# -- a parser that says what is in HTML --------------------------------------------------


class Inventory(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []  # (tag, name, value)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inventory(html: str) -> Inventory:
    parser = Inventory()
    parser.feed(html)
    parser.close()
    return parser


def assert_safe(html: str) -> Inventory:
    inv = inventory(html)
    allowed = {"p", "br", "span", "a", "img", "b", "strong", "i", "em", "u", "s", "del"}
    allowed |= {"code", "pre", "blockquote", "ul", "ol", "li"}
    assert set(inv.tags) <= allowed, set(inv.tags) - allowed
    for tag, name, value in inv.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name in {"href", "src", "alt", "title", "class", "rel", "start"}, (tag, name)
        if name in ("href", "src"):
            assert safe_url(value) == value, (tag, name, value)
        if tag == "a" and name == "rel":
            assert value == "nofollow noopener ugc"
    return inv


# -- real statuses -------------------------------------------------------------------------


def test_real_hashtag_status(hoot: dict[str, Any]) -> None:
    post = normalize_status(hoot, "localhost")
    assert post.platform == "mastodon"
    assert post.uri == hoot["uri"] and post.native_id == "117020593741189701"
    assert post.url == hoot["url"]
    assert post.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert post.created_at.utcoffset().total_seconds() == 0
    assert post.text == "#hoot (hashtag toot)"
    assert post.tags == ("hoot",)
    assert post.language == "ja" and post.visibility == "public"
    assert post.content_warning is None and post.sensitive is False
    assert post.links == ()  # the hashtag link is not an outbound link
    assert post.raw == hoot  # exactly what the server sent
    author = post.author
    assert author.handle == "mastodonpy_test_2@localhost"
    assert author.uri == "http://localhost:3000/ap/users/117020566092212359"
    assert author.noindex is False and author.indexable is True and author.discoverable is True
    assert_safe(post.html)


def test_real_timeline_page() -> None:
    (interaction,) = [
        i
        for i in cassette("test_timeline_disabled.yaml")
        if "/timelines/public" in i["request"]["uri"]
    ]
    statuses = body(interaction)
    posts = [normalize_status(s, "localhost") for s in statuses]
    assert len({p.uri for p in posts}) == len(statuses)
    mention = next(p for p in posts if p.mentions)
    assert mention.mentions == (
        ("mastodonpy_test@localhost", "http://localhost:3000/@mastodonpy_test"),
    )
    assert mention.text.startswith("@mastodonpy_test beep beep")
    assert all(p.text and "&#39;" not in p.text for p in posts)


def test_boost_is_unwrapped(boost: dict[str, Any]) -> None:
    post = normalize_status(boost, "localhost")
    original = boost["reblog"]
    assert post.uri == original["uri"] and post.native_id == original["id"]
    assert post.raw == original  # the original's JSON, never the wrapper
    assert not post.uri.endswith("/activity")
    assert post.text == "Toot!" and post.sensitive is True
    assert post.visibility == "unlisted"  # the collector counts it as skipped
    assert post.author.display_name == "John Lennon"
    assert "bread: toasty." in post.author.bio_text


def test_absent_noindex_is_unknown(status: dict[str, Any]) -> None:
    del status["account"]["noindex"]
    status["account"]["acct"] = "ana@kea.example"
    status["account"]["suspended"] = True
    author = normalize_status(status, "localhost").author
    assert author.noindex is None  # not "not opted out"
    assert author.handle == "ana@kea.example" and author.home_server == "kea.example"
    assert author.suspended is True and author.limited is False


# -- content -------------------------------------------------------------------------------

SHORTENED = (
    '<p>See <a href="https://example.org/abcdefghijklmnopqrstuvwxyz0123456789" target="_blank" '
    'rel="nofollow noopener" translate="no"><span class="invisible">https://</span>'
    '<span class="ellipsis">example.org/abcdefghijklmnopqrs</span>'
    '<span class="invisible">tuvwxyz0123456789</span></a> and '
    '<a href="https://example.org/abc" rel="nofollow noopener"><span class="invisible">https://'
    '</span><span class="">example.org/abc</span><span class="invisible"></span></a></p>'
)


def test_invisible_and_ellipsis_link_parts(status: dict[str, Any]) -> None:
    status["content"] = SHORTENED
    post = normalize_status(status, "localhost")
    assert post.text == "See example.org/abcdefghijklmnopqrs… and example.org/abc"
    inv = assert_safe(post.html)
    hrefs = [v for t, n, v in inv.attrs if n == "href"]
    assert hrefs == [
        "https://example.org/abcdefghijklmnopqrstuvwxyz0123456789",
        "https://example.org/abc",
    ]
    assert ("span", "class", "invisible") not in inv.attrs
    assert "tuvwxyz" not in "".join(inv.text) and "https://" not in "".join(inv.text)
    assert 'class=""' not in post.html
    assert post.links == tuple(hrefs)


def test_custom_emoji_in_content_and_display_name(status: dict[str, Any]) -> None:
    blob = "http://localhost:3000/system/custom_emojis/images/blob.png"
    status["content"] = "<p>Kia ora :blob: :unknown: :blob:</p>"
    status["emojis"] = [
        {"shortcode": "blob", "url": blob, "static_url": blob, "visible_in_picker": True}
    ]
    status["account"]["display_name"] = "Ana <b>:wave:</b>"
    status["account"]["emojis"] = [
        {"shortcode": "wave", "url": "https://kea.example/wave.gif", "static_url": ""}
    ]
    post = normalize_status(status, "localhost")
    imgs = [dict((n, v) for t2, n, v in inventory(post.html).attrs if t2 == "img")]
    assert (
        post.html.count('<img class="emoji" alt=":blob:" title=":blob:" src="' + blob + '">') == 2
    )
    assert imgs and ":unknown:" in post.text and post.text == "Kia ora :blob: :unknown: :blob:"
    assert post.emojis == (("blob", blob),)
    author = post.author
    assert author.display_name == "Ana <b>:wave:</b>"  # plain text, as sent
    assert author.display_name_html == (
        'Ana &lt;b&gt;<img class="emoji" alt=":wave:" title=":wave:" '
        'src="https://kea.example/wave.gif">&lt;/b&gt;'
    )
    assert author.emojis == (("wave", "https://kea.example/wave.gif"),)


def test_emoji_with_unsafe_url_stays_text(status: dict[str, Any]) -> None:
    status["content"] = "<p>:evil:</p>"
    status["emojis"] = [{"shortcode": "evil", "url": "javascript:alert(1)", "static_url": ""}]
    post = normalize_status(status, "localhost")
    assert post.html == "<p>:evil:</p>" and post.emojis == ()


def test_tags_are_compared_without_case(status: dict[str, Any]) -> None:
    status["content"] = (
        '<p><a href="http://localhost:3000/tags/swrs26" class="mention hashtag" rel="tag">#<span>SWRS26</span></a></p>'
    )
    status["tags"] = [
        {"name": "SWRS26", "url": "http://localhost:3000/tags/swrs26"},
        {"name": "swrs26", "url": "http://localhost:3000/tags/swrs26"},
        {"name": "ThisIsAHashtag", "url": "http://localhost:3000/tags/thisisahashtag"},
    ]
    post = normalize_status(status, "localhost")
    assert post.tags == ("swrs26", "thisisahashtag")
    assert normalize_hashtag("#SwRs26") in post.tags
    assert post.links == ()


def test_fields_mentions_reply_quote_counts_poll_card(status: dict[str, Any]) -> None:
    quoted = copy.deepcopy(status)
    quoted.update(id="42", uri="https://kea.example/users/ana/statuses/1", content="<p>quoted</p>")
    status.update(
        spoiler_text="Spoilers: the keynote",
        sensitive=True,
        in_reply_to_id="117020593741189000",
        replies_count=3,
        reblogs_count=4,
        favourites_count=5,
        quotes_count=6,
        quote={"state": "accepted", "quoted_status": quoted},
        mentions=[{"id": "1", "username": "bo", "acct": "bo", "url": "http://localhost:3000/@bo"}],
        poll={
            "id": "9", "expires_at": "2026-03-13T00:00:00.000Z", "expired": False,
            "multiple": False, "votes_count": 7, "voters_count": 7,
            "options": [{"title": "yes", "votes_count": 5}, {"title": "no", "votes_count": 2}],
            "emojis": [],
        },
        card={
            "url": "https://example.org/paper", "title": "A paper", "description": "d",
            "type": "video", "image": "https://example.org/p.png", "blurhash": "UABC",
            "html": '<iframe src="https://evil.example/embed"></iframe>', "width": 400, "height": 300,
        },
    )  # fmt: skip
    post = normalize_status(status, "localhost")
    assert post.content_warning == "Spoilers: the keynote" and post.sensitive
    assert post.reply_to_native_id == "117020593741189000" and post.reply_to_uri is None
    assert (post.reply_count, post.repost_count, post.like_count, post.quote_count) == (3, 4, 5, 6)
    assert post.quote_uri == "https://kea.example/users/ana/statuses/1"
    assert post.quote_snapshot and post.quote_snapshot["text"] == "quoted"
    assert post.mentions == (("bo@localhost", "http://localhost:3000/@bo"),)
    assert post.poll and post.poll["options"] == [
        {"title": "yes", "votes_count": 5},
        {"title": "no", "votes_count": 2},
    ]
    assert post.card and post.card["url"] == "https://example.org/paper"
    assert "html" not in post.card  # the embed iframe never travels
    json.dumps(post.poll), json.dumps(post.card), json.dumps(post.quote_snapshot)


def test_quote_not_yet_accepted_has_no_snapshot(status: dict[str, Any]) -> None:
    status["quote"] = {"state": "pending", "quoted_status": None}
    post = normalize_status(status, "localhost")
    assert post.quote_uri is None and post.quote_snapshot is None


def test_media_fields(status: dict[str, Any]) -> None:
    status["media_attachments"] = [
        {
            "id": "1", "type": "image", "url": "http://localhost:3000/system/a.png",
            "preview_url": "http://localhost:3000/system/a_small.png", "remote_url": None,
            "description": "A slide with a graph", "blurhash": "UBL_:rOpGG-;",
            "meta": {"original": {"width": 1200, "height": 800}, "small": {"width": 400, "height": 267},
                     "focus": {"x": -0.2, "y": 0.5}},
        },
        {
            "id": "2", "type": "video", "url": None, "remote_url": "https://kea.example/v.mp4",
            "preview_url": "https://kea.example/v.png", "description": None, "blurhash": None,
            "meta": {"small": {"width": 320, "height": 180}},
        },
        {"id": "3", "type": "image", "url": "javascript:alert(1)", "preview_url": None, "meta": None},
    ]  # fmt: skip
    image, video, hostile = normalize_status(status, "localhost").media
    assert image.kind == "image" and image.url == "http://localhost:3000/system/a.png"
    assert image.alt == "A slide with a graph" and image.blurhash == "UBL_:rOpGG-;"
    assert (image.width, image.height, image.focus_x, image.focus_y) == (1200, 800, -0.2, 0.5)
    assert video.kind == "video" and video.playlist_url == "https://kea.example/v.mp4"
    assert video.url == video.preview_url == "https://kea.example/v.png"
    assert video.alt is None and (video.width, video.height) == (320, 180)
    assert hostile.url is None


def test_edit_carries_edited_at(status: dict[str, Any]) -> None:
    first = normalize_status(status, "localhost")
    status["edited_at"] = "2026-08-01T14:05:00.000Z"
    status["content"] = "<p>#hoot (hashtag toot), now corrected</p>"
    edited = normalize_status(status, "localhost")
    assert first.edited_at is None
    assert edited.edited_at == datetime(2026, 8, 1, 14, 5, tzinfo=UTC)
    assert edited.uri == first.uri and edited.text.endswith("now corrected")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.pop("uri"),
        lambda s: s.update(created_at="yesterday"),
        lambda s: s.update(account="nobody"),
        lambda s: s.update(mentions=[{"username": "x"}]),
    ],
)
def test_malformed_status(status: dict[str, Any], change: Any) -> None:
    change(status)
    with pytest.raises(MalformedResponseError):
        normalize_status(status, "localhost")


# -- the hostile corpus ----------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script><p>after</p>",
    '<p onclick="alert(1)" style="position:fixed;top:0">click</p>',
    '<img src="x" onerror="alert(1)">',
    '<img src="https://tracker.example/pixel.gif">',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">js</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="&#106;avascript:alert(1)">entity</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="//evil.example/x">scheme-relative</a>',
    '<a href="/relative">relative</a>',
    '<svg onload="alert(1)"><script>alert(1)</script><a href="https://x.example">s</a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="https://evil.example"></iframe><object data="x.swf"></object><embed src="x">',
    "<style>body{display:none}</style><p>styled</p>",
    '<p><span class="invisible" style="x">h</span><span class="ellipsis" onmouseover="x">v</span></p>',
    '<form action="https://evil.example"><input name="q"><button>go</button></form>',
    '<a href="https://ok.example" target="_blank" rel="opener" ping="https://evil.example">ok</a>',
    "<!-- <script>alert(1)</script> --><p>comment</p>",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<p><a href="https://ok.example"><img class="emoji" alt=":x:" src="https://evil.example/x.png"></a></p>',
    "<scr<script>ipt>alert(1)</script>",
    '<div style="background:url(javascript:alert(1))">div</div>',
    "<base href='https://evil.example/'><meta http-equiv=refresh content='0;url=https://evil'>",
    '<a href="https://ok.example/&quot;onmouseover=&quot;alert(1)">quote</a>',
    "<p>unclosed <b>bold <i>italic <a href='https://ok.example'>link",
]


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_html_is_neutralised(html: str) -> None:
    out = clean_post_html(html, {"x": "https://emoji.example/x.png"})
    inv = assert_safe(out)
    assert "script" not in inv.tags
    if html.startswith("<script>"):
        assert "alert" not in "".join(inv.text)  # script content goes with the tag
    for tag, name, value in inv.attrs:
        if tag == "img":
            assert name != "src" or value == "https://emoji.example/x.png"
    assert clean_post_html(out, {"x": "https://emoji.example/x.png"}) == out  # stable


def test_hostile_status_in_full(status: dict[str, Any]) -> None:
    status["content"] = "".join(HOSTILE)
    status["account"]["display_name"] = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'
    post = normalize_status(status, "localhost")
    assert_safe(post.html)
    assert_safe(post.author.display_name_html)
    assert inventory(post.author.display_name_html).tags == []  # all of it is text
    assert all(safe_url(link) == link for link in post.links)
    assert "body{display:none}" not in post.text


def test_huge_post_is_handled(status: dict[str, Any]) -> None:
    # That its cost grows linearly is tests/test_sanitize_linear.py's business.
    chunk = '<p>word <a href="https://ok.example/x">link</a> <script>x()</script><b onclick="y">b</b></p>'
    status["content"] = chunk * (1_000_000 // len(chunk) + 1)
    assert len(status["content"]) >= 1_000_000
    post = normalize_status(status, "localhost")
    inv = assert_safe(post.html)
    assert inv.tags.count("a") == post.html.count("<a ") > 10_000
    assert post.links == ("https://ok.example/x",)


# -- the sanitiser's small API ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=c#d", "https://example.org/a?b=c#d"),
        ("  http://example.org  ", "http://example.org"),
        ("HTTPS://EXAMPLE.ORG/", "HTTPS://EXAMPLE.ORG/"),
        ("javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("vbscript:x", None),
        ("//example.org/x", None),
        ("/relative", None),
        ("https:///nohost", None),
        ("https://exa mple.org", None),
        ("http://[::1", None),
        (None, None),
        (42, None),
    ],
)
def test_safe_url(url: Any, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_html_to_text_and_escape() -> None:
    html = "<p>One<br>two &amp; three</p><p>Four <img class='emoji' alt=':x:'></p><script>no()</script>"
    assert html_to_text(html) == "One\ntwo & three\n\nFour :x:"
    assert escape('<b>"hi"</b>') == "&lt;b&gt;&quot;hi&quot;&lt;/b&gt;"
    assert escape(":a::b:", {"a": "https://e.example/a.png", "b": "javascript:x"}) == (
        '<img class="emoji" alt=":a:" title=":a:" src="https://e.example/a.png">:b:'
    )


def test_account_cache_never_mixes_up_accounts(status: dict[str, Any]) -> None:
    first = normalize_status(status, "localhost")
    assert normalize_status(copy.deepcopy(status), "localhost").author is first.author
    changed = copy.deepcopy(status)
    changed["account"]["display_name"] = "Someone else"
    changed["account"]["fields"] = [{"name": "Pronouns", "value": "they/them"}]
    author = normalize_status(changed, "localhost").author
    assert author.display_name == "Someone else" and "they/them" in author.bio_text
    elsewhere = normalize_status(copy.deepcopy(status), "other.example").author
    assert elsewhere is not first.author  # the answering server is part of the key
    typed = copy.deepcopy(status)
    typed["account"]["noindex"] = 1  # not str, bool or None: read without the cache
    assert normalize_status(typed, "localhost").author.noindex is True
