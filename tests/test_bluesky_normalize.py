"""Post views (raw JSON) to NormalizedPost: embeds, timestamps, labels, tags, escaping."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from backchannel.collectors.bluesky.normalize import (
    UnreadablePost,
    normalize_post_view,
    parse_timestamp,
    sort_at,
)
from tests.helpers import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "bluesky"
DID = "did:plc:kvwvcn5iqfooopmyzvb4qzba"
CDN = "https://cdn.bsky.app/img"


def author(**extra: Any) -> dict[str, Any]:
    return {"did": DID, "handle": "ana.bsky.social", "displayName": "Ana", **extra}


def view(text: str = "hello #swrs26", **extra: Any) -> dict[str, Any]:
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2026-03-12T09:00:00.000Z",
        "langs": ["en"],
    }
    record.update(extra.pop("record", {}))
    return {
        "uri": f"at://{DID}/app.bsky.feed.post/3kabc",
        "cid": "bafyreiabc",
        "author": extra.pop("author", author()),
        "record": record,
        "indexedAt": "2026-03-12T09:00:01.000Z",
        "replyCount": 1,
        "repostCount": 2,
        "likeCount": 3,
        "quoteCount": 4,
        **extra,
    }


def quoted(**extra: Any) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.record#viewRecord",
        "uri": f"at://{DID}/app.bsky.feed.post/3kquoted",
        "cid": "bafyquoted",
        "author": author(),
        "value": {
            "$type": "app.bsky.feed.post",
            "text": "quoted <b>text</b>",
            "createdAt": "2026-03-11T08:00:00Z",
        },
        "indexedAt": "2026-03-11T08:00:01Z",
        **extra,
    }


def test_basic_fields() -> None:
    post = normalize_post_view(view())
    assert post.platform == "bluesky"
    assert post.uri == post.native_id == f"at://{DID}/app.bsky.feed.post/3kabc"
    assert post.url == "https://bsky.app/profile/ana.bsky.social/post/3kabc"
    assert post.author.uri == DID and post.author.handle == "ana.bsky.social"
    assert post.author.profile_url == f"https://bsky.app/profile/{DID}"
    assert post.created_at == datetime(2026, 3, 12, 9, tzinfo=UTC)
    assert post.indexed_at == datetime(2026, 3, 12, 9, 0, 1, tzinfo=UTC)
    assert (post.reply_count, post.repost_count, post.like_count, post.quote_count) == (1, 2, 3, 4)
    assert post.language == "en" and post.cid == "bafyreiabc"
    assert post.tags == ("swrs26",)  # no facet: found in the text
    assert post.visibility == "public" and not post.sensitive


def test_raw_is_the_view_unchanged() -> None:
    raw = view(record={"weird": {"nested": [1, 2]}}, extraField="kept")
    original = copy.deepcopy(raw)
    post = normalize_post_view(raw)
    assert post.raw == original


def test_fixture_thread_view_with_record_with_media() -> None:
    data = json.loads((FIXTURES / "thread_view_post_with_embed_media.json").read_text())
    post = normalize_post_view(data)  # a threadViewPost: the post inside is taken
    assert post.uri.endswith("/3kaheyt6vpc22")
    assert post.url == "https://bsky.app/profile/test.marshal.dev/post/3kaheyt6vpc22"
    assert post.text == "" and post.html == ""
    assert [m.kind for m in post.media] == ["image"]
    assert post.media[0].url.startswith("https://cdn.bsky.app/img/feed_fullsize/")
    assert post.media[0].preview_url.startswith("https://cdn.bsky.app/img/feed_thumbnail/")
    assert post.media[0].alt is None  # "" in the view
    assert post.quote_uri == f"at://{DID}/app.bsky.feed.post/3kahesw26il2z"
    snap = post.quote_snapshot
    assert snap is not None and snap["text"] == "test"
    assert snap["author"]["handle"] == "test.marshal.dev"
    assert snap["createdAt"] == "2023-09-28T12:46:18.414Z"
    assert snap["url"] == "https://bsky.app/profile/test.marshal.dev/post/3kahesw26il2z"


def test_post_record_fixture_timestamp_with_offset() -> None:
    data = json.loads((FIXTURES / "post_record.json").read_text())
    assert parse_timestamp(data["value"]["createdAt"]) == datetime(
        2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:00:00.000Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.000z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.000+00:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2023-07-21T01:33:51.481951", datetime(2023, 7, 21, 1, 33, 51, 481951, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_timestamps(value: Any, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


def test_created_at_formats_in_a_post() -> None:
    naive = normalize_post_view(view(record={"createdAt": "2026-03-12T09:00:00.5"}))
    assert naive.created_at == datetime(2026, 3, 12, 9, 0, 0, 500000, tzinfo=UTC)
    offset = normalize_post_view(view(record={"createdAt": "2026-03-12T22:00:00+13:00"}))
    assert offset.created_at == datetime(2026, 3, 12, 9, tzinfo=UTC)
    broken = normalize_post_view(view(record={"createdAt": "yesterday"}))
    assert broken.created_at == broken.indexed_at  # falls back to indexedAt


def test_sort_at_is_the_earlier_of_created_and_indexed() -> None:
    future = view(record={"createdAt": "2030-01-01T00:00:00Z"})
    assert sort_at(future) == datetime(2026, 3, 12, 9, 0, 1, tzinfo=UTC)
    assert sort_at(view()) == datetime(2026, 3, 12, 9, tzinfo=UTC)


def test_images_with_alt_and_aspect_ratio() -> None:
    embed = {
        "$type": "app.bsky.embed.images#view",
        "images": [
            {
                "thumb": f"{CDN}/thumb/a@jpeg",
                "fullsize": f"{CDN}/full/a@jpeg",
                "alt": "A <b>slide</b>",
                "aspectRatio": {"width": 1600, "height": 900},
            },
            {"thumb": "javascript:alert(1)", "fullsize": "javascript:alert(1)", "alt": ""},
        ],
    }
    post = normalize_post_view(view(embed=embed))
    assert len(post.media) == 1  # the javascript: one has no usable URL
    image = post.media[0]
    assert image.kind == "image" and image.url == f"{CDN}/full/a@jpeg"
    assert image.preview_url == f"{CDN}/thumb/a@jpeg"
    assert image.alt == "A <b>slide</b>"  # plain text; templates escape it
    assert (image.width, image.height) == (1600, 900)


def test_external_card() -> None:
    embed = {
        "$type": "app.bsky.embed.external#view",
        "external": {
            "uri": "https://example.org/paper",
            "title": "A paper",
            "description": "About things",
            "thumb": f"{CDN}/card@jpeg",
        },
    }
    post = normalize_post_view(view(embed=embed))
    assert post.card == {
        "url": "https://example.org/paper",
        "title": "A paper",
        "description": "About things",
        "image": f"{CDN}/card@jpeg",
    }
    assert post.links == ("https://example.org/paper",)


def test_video() -> None:
    embed = {
        "$type": "app.bsky.embed.video#view",
        "cid": "bafyvideo",
        "playlist": "https://video.bsky.app/watch/x/playlist.m3u8",
        "thumbnail": "https://video.bsky.app/watch/x/thumbnail.jpg",
        "alt": "Keynote clip",
        "aspectRatio": {"width": 16, "height": 9},
    }
    (video,) = normalize_post_view(view(embed=embed)).media
    assert video.kind == "video" and video.url is None
    assert video.playlist_url == "https://video.bsky.app/watch/x/playlist.m3u8"
    assert video.preview_url == "https://video.bsky.app/watch/x/thumbnail.jpg"
    assert video.alt == "Keynote clip" and (video.width, video.height) == (16, 9)


def test_quote() -> None:
    embed = {"$type": "app.bsky.embed.record#view", "record": quoted()}
    post = normalize_post_view(view(embed=embed))
    assert post.quote_uri == f"at://{DID}/app.bsky.feed.post/3kquoted"
    snap = post.quote_snapshot
    assert snap is not None
    assert snap["uri"] == post.quote_uri and snap["cid"] == "bafyquoted"
    assert snap["author"] == {"did": DID, "handle": "ana.bsky.social", "displayName": "Ana"}
    assert snap["text"] == "quoted <b>text</b>"
    assert snap["html"] == "quoted &lt;b&gt;text&lt;/b&gt;"
    assert snap["createdAt"] == "2026-03-11T08:00:00Z"


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("app.bsky.embed.record#viewNotFound", "notFound"),
        ("app.bsky.embed.record#viewBlocked", "blocked"),
        ("app.bsky.embed.record#viewDetached", "detached"),
        ("app.bsky.feed.defs#generatorView", "unsupported"),
    ],
)
def test_unavailable_quotes(kind: str, reason: str) -> None:
    uri = f"at://{DID}/app.bsky.feed.post/3kgone"
    embed = {"$type": "app.bsky.embed.record#view", "record": {"$type": kind, "uri": uri}}
    post = normalize_post_view(view(embed=embed))
    assert post.quote_uri == uri
    assert post.quote_snapshot == {"uri": uri, "unavailable": reason}


def test_quote_of_an_opted_out_author_is_unavailable() -> None:
    labels = [
        {
            "src": DID,
            "uri": f"at://{DID}/app.bsky.actor.profile/self",
            "val": "!no-unauthenticated",
            "cts": "2024-01-01T00:00:00Z",
        }
    ]
    embed = {"$type": "app.bsky.embed.record#view", "record": quoted(author=author(labels=labels))}
    snap = normalize_post_view(view(embed=embed)).quote_snapshot
    assert snap == {"uri": f"at://{DID}/app.bsky.feed.post/3kquoted", "unavailable": "optedOut"}


def test_quote_in_the_record_but_not_in_the_view() -> None:
    uri = f"at://{DID}/app.bsky.feed.post/3kref"
    record = {"embed": {"$type": "app.bsky.embed.record", "record": {"uri": uri, "cid": "x"}}}
    post = normalize_post_view(view(record=record))
    assert post.quote_uri == uri and post.quote_snapshot == {"uri": uri, "unavailable": "missing"}


def test_record_with_media_video_and_quote() -> None:
    embed = {
        "$type": "app.bsky.embed.recordWithMedia#view",
        "record": {"record": quoted()},
        "media": {
            "$type": "app.bsky.embed.video#view",
            "cid": "c",
            "playlist": "https://video.example/p.m3u8",
        },
    }
    post = normalize_post_view(view(embed=embed))
    assert [m.kind for m in post.media] == ["video"]
    assert post.quote_uri and post.quote_snapshot["text"] == "quoted <b>text</b>"


def test_unknown_embed_is_ignored() -> None:
    post = normalize_post_view(view(embed={"$type": "app.bsky.embed.gallery#view", "x": 1}))
    assert post.media == () and post.card is None and post.quote_uri is None


@pytest.mark.parametrize("label", ["porn", "sexual", "nudity", "graphic-media"])
def test_self_labels_give_a_content_warning(label: str) -> None:
    labels = {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": label}]}
    post = normalize_post_view(view(record={"labels": labels}))
    assert post.sensitive is True
    assert post.content_warning
    assert label in post.labels


def test_labeller_label_on_the_view_counts_too() -> None:
    labels = [
        {
            "src": "did:plc:mod",
            "uri": "at://x",
            "val": "graphic-media",
            "cts": "2026-01-01T00:00:00Z",
        }
    ]
    post = normalize_post_view(view(labels=labels))
    assert post.sensitive and post.content_warning == "Graphic media"


def test_negated_label_is_taken_back() -> None:
    labels = [
        {"src": "did:plc:mod", "val": "porn", "cts": "2026-01-01T00:00:00Z"},
        {"src": "did:plc:mod", "val": "porn", "neg": True, "cts": "2026-01-02T00:00:00Z"},
    ]
    post = normalize_post_view(view(labels=labels))
    assert not post.sensitive and post.content_warning is None


def test_harmless_self_label_no_warning() -> None:
    labels = {"values": [{"val": "!no-unauthenticated"}]}
    post = normalize_post_view(view(record={"labels": labels}))
    assert not post.sensitive and post.content_warning is None


def test_record_tags_count_as_matches() -> None:
    post = normalize_post_view(view(text="no visible tag", record={"tags": ["SWRS26", "#Extra"]}))
    assert post.tags == ("swrs26", "extra")


def test_facet_tags_then_record_tags_then_text_tags() -> None:
    text = "#One and #two, (#three)"
    facets = [
        {
            "index": {"byteStart": 0, "byteEnd": 4},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "One"}],
        }
    ]
    post = normalize_post_view(view(text=text, record={"facets": facets, "tags": ["four"]}))
    assert post.tags == ("one", "four", "two", "three")


def test_text_tags_stop_at_punctuation_and_skip_numbers() -> None:
    post = normalize_post_view(view(text="issue #12, url https://x.example/#frag #a_b-c.d"))
    assert post.tags == ("a_b-c",)


def test_author_labels_and_opt_out() -> None:
    labels = [
        {
            "src": DID,
            "uri": f"at://{DID}/app.bsky.actor.profile/self",
            "val": "!no-unauthenticated",
            "cts": "2024-01-01T00:00:00Z",
        },
        {"src": DID, "val": "bot", "cts": "2024-01-01T00:00:00Z"},
    ]
    post = normalize_post_view(view(author=author(labels=labels)))
    assert post.author.labels == ("!no-unauthenticated", "bot")
    assert post.author.bot is True


def test_hostile_text_alt_and_display_name_are_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    embed = {
        "$type": "app.bsky.embed.images#view",
        "images": [{"thumb": f"{CDN}/t", "fullsize": f"{CDN}/f", "alt": hostile}],
    }
    post = normalize_post_view(
        view(text=f"{hostile} #swrs26", embed=embed, author=author(displayName=hostile))
    )
    assert "<img" not in post.html and "&lt;img" in post.html
    assert post.author.display_name == hostile  # plain text stays plain
    assert post.author.display_name_html == "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    assert post.media[0].alt == hostile  # plain; never put into html by us


def test_hostile_urls_are_dropped() -> None:
    post = normalize_post_view(view(author=author(avatar="javascript:alert(1)")))
    assert post.author.avatar_url is None


def test_handle_invalid_uses_the_did_in_the_url() -> None:
    post = normalize_post_view(view(author=author(handle="handle.invalid")))
    assert post.url == f"https://bsky.app/profile/{DID}/post/3kabc"


def test_reply_refs() -> None:
    root = {"uri": f"at://{DID}/app.bsky.feed.post/root", "cid": "a"}
    parent = {"uri": f"at://{DID}/app.bsky.feed.post/parent", "cid": "b"}
    post = normalize_post_view(view(record={"reply": {"root": root, "parent": parent}}))
    assert post.reply_root_uri == root["uri"] and post.reply_to_uri == parent["uri"]


def test_repost_archives_the_original() -> None:
    item = {
        "post": view(),
        "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": author(did="did:plc:other")},
    }
    post = normalize_post_view(item)
    assert post.uri == f"at://{DID}/app.bsky.feed.post/3kabc" and post.author.uri == DID


def test_invalid_for_the_sdk_is_fine_for_us() -> None:
    # A record the SDK would refuse (text not a string, facets of the wrong shape).
    odd = view(record={"text": 42, "facets": "nope", "langs": "en"})
    post = normalize_post_view(odd)
    assert post.text == "" and post.language is None


def test_lone_surrogates_and_nul_are_made_storable() -> None:
    post = normalize_post_view(view(text="a\ud800b\x00c", author=author(displayName="x\udfffy")))
    assert post.text == "a\ufffdbc"
    assert post.author.display_name == "x\ufffdy"
    (post.text + post.html + post.author.display_name).encode("utf-8")


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"uri": "https://not-at"},
        {"uri": f"at://{DID}/app.bsky.feed.post/x", "author": author()},
        {"uri": f"at://{DID}/app.bsky.feed.post/x", "record": {}, "author": {"handle": "x"}},
        {"uri": f"at://{DID}/app.bsky.feed.post/x", "record": {}, "author": author()},
    ],
)
def test_unreadable_views_raise(broken: dict[str, Any]) -> None:
    with pytest.raises(UnreadablePost):
        normalize_post_view(broken)


def test_not_a_post_record() -> None:
    odd = view(record={"$type": "app.bsky.feed.repost"})
    with pytest.raises(UnreadablePost) as info:
        normalize_post_view(odd)
    assert info.value.reason == "not a post"


def test_html_is_sanitised_and_keeps_links_mentions_and_tags() -> None:
    from backchannel.sanitize.clean import html_to_text

    text = "Hi @bo.example 👋\nslides: example.org/s… #SWRS26"
    data = text.encode()

    def at(part: str) -> dict[str, int]:
        start = data.index(part.encode())
        return {"byteStart": start, "byteEnd": start + len(part.encode())}

    facets = [
        {
            "index": at("@bo.example"),
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bo"}],
        },
        {
            "index": at("example.org/s…"),
            "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/slides/2026"}
            ],
        },
        {
            "index": at("#SWRS26"),
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "SWRS26"}],
        },
    ]
    post = normalize_post_view(view(text=text, record={"facets": facets}))
    assert '<a class="mention" href="https://bsky.app/profile/did:plc:bo"' in post.html
    assert 'href="https://example.org/slides/2026"' in post.html
    assert '<a class="hashtag" href="https://bsky.app/hashtag/swrs26"' in post.html
    assert html_to_text(post.html) == text
    assert post.mentions == (("bo.example", "https://bsky.app/profile/did:plc:bo"),)
    assert post.links == ("https://example.org/slides/2026",)
    assert post.tags == ("swrs26",)


def test_a_future_created_at_is_placed_at_its_sort_time() -> None:
    from backchannel.collectors.bluesky.normalize import normalize_post_view

    view = {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3kfuture",
        "cid": "bafyfuture",
        "author": {"did": "did:plc:abc", "handle": "a.bsky.example"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": "from the future #swrs26",
            "createdAt": "2027-03-12T10:00:00Z",
        },
        "indexedAt": "2026-03-12T10:00:00.000Z",
    }
    post = normalize_post_view(view)
    assert post.created_at.isoformat() == "2026-03-12T10:00:00+00:00"
    assert post.raw["record"]["createdAt"] == "2027-03-12T10:00:00Z"


def test_author_cache_never_mixes_up_authors() -> None:
    first = normalize_post_view(view(author=author(displayName="Ana")))
    again = normalize_post_view(view(author=author(displayName="Ana")))
    assert again.author is first.author  # read once, shared (it is frozen)
    renamed = normalize_post_view(view(author=author(displayName="Ana K")))
    assert renamed.author.display_name == "Ana K"
    labelled = normalize_post_view(view(author=author(labels=[{"val": "bot", "src": DID}])))
    assert labelled.author.bot and labelled.author.labels == ("bot",)
    assert not normalize_post_view(view(author=author())).author.bot
    odd = normalize_post_view(view(author=author(displayName=1)))
    assert odd.author.display_name == ""  # not a string: not a key, and still read right
