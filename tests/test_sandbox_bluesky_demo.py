"""The Bluesky demo world: real shapes (checked against the official lexicons), real
awkwardness, an answer key that matches what search hands out, and determinism.

Driven through the atproto SDK over HTTP, as a collector would see it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from atproto import Client, models
from atproto_client.models.dot_dict import DotDict
from atproto_client.request import Request

from backchannel.sandbox import conference
from backchannel.sandbox.bluesky import AnswerKey, BlueskySandbox, World, build_demo_world
from backchannel.sandbox.bluesky_ids import format_datetime, parse_datetime
from tests.helpers import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "bluesky"
LEXICONS = {
    doc["id"]: doc
    for doc in (json.loads(path.read_text()) for path in (FIXTURES / "lexicons").glob("*.json"))
}
# A missing folder must fail loudly: with no lexicons, every check would pass.
assert len(LEXICONS) >= 10, f"the official lexicons are missing from {FIXTURES}"
BROKEN_FACET_TEXTS = {  # the demo's deliberately broken facets, by the start of their text
    "Tēnā koutou", "See https", "Past the end", "Bold claim", "Missing tag key",
}  # fmt: skip


def login(sb: BlueskySandbox) -> Client:
    client = Client(base_url=sb.base_url, request=Request(timeout=10.0))
    client.login(sb.handle, sb.app_password)
    return client


def raw_walk(client: Client, **params: Any) -> list[dict[str, Any]]:
    """Every post view of a search as raw JSON, following the cursor to the end."""
    posts: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = models.AppBskyFeedSearchPosts.Params(limit=100, cursor=cursor, **params)
        page = client.invoke_query("app.bsky.feed.searchPosts", params=query).content
        posts.extend(page["posts"])
        cursor = page.get("cursor")
        if cursor is None:
            return posts


class Demo:
    """One demo world, walked once through the sandbox before and after advance()."""

    def __init__(self, world: World, sb: BlueskySandbox, client: Client) -> None:
        self.world, self.sb, self.client = world, sb, client
        self.key: AnswerKey = world.answer_key()
        since, until = format_datetime(self.key.since), format_datetime(self.key.until)
        self.walked = {
            tag: raw_walk(client, q=f"#{tag}", since=since, until=until) for tag in world.hashtags
        }
        self.views = {v["uri"]: v for tag in world.hashtags for v in raw_walk(client, q=f"#{tag}")}


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    world = build_demo_world()
    with BlueskySandbox(world) as sb:
        yield Demo(world, sb, login(sb))


# -- the lexicon check -------------------------------------------------------------------


def _definition(ref: str, context: str) -> tuple[dict[str, Any] | None, str]:
    nsid, _, name = ref.partition("#")
    nsid = nsid or context
    doc = LEXICONS.get(nsid)
    return (doc["defs"].get(name or "main") if doc else None), nsid


def _references(node: Any, context: str) -> Iterator[str]:
    """Every reference a lexicon makes (refs and union members), written out in full."""
    if isinstance(node, dict):
        if node.get("type") == "ref":
            yield _full(node["ref"], context)
        if node.get("type") == "union":
            yield from (_full(ref, context) for ref in node["refs"])
        for value in node.values():
            yield from _references(value, context)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value, context)


def _full(ref: str, context: str) -> str:
    full = context + ref if ref.startswith("#") else ref
    return full.removesuffix("#main")


def check(value: Any, schema: dict[str, Any], context: str, path: str, views: bool) -> list[str]:
    """Problems of ``value`` against a lexicon schema: required keys and types, recursively.

    ``views``: also insist on timezone-aware datetimes (records may have naive ones).
    """
    kind = schema.get("type")
    if kind == "ref":
        definition, nsid = _definition(schema["ref"], context)
        if definition is None:  # never "no problems" for a shape it cannot see
            return [f"{path}: {_full(schema['ref'], context)} is in no lexicon here"]
        return check(value, definition, nsid, path, views)
    if kind == "union":
        if not isinstance(value, dict) or "$type" not in value:
            return [f"{path}: union member without $type"]
        refs = {_full(ref, context) for ref in schema["refs"]}
        if value["$type"] not in refs:
            return [f"{path}: {value['$type']} not allowed"] if schema.get("closed") else []
        return check(value, {"type": "ref", "ref": value["$type"]}, context, path, views)
    if kind == "record":
        return check(value, schema["record"], context, path, views)
    if kind in ("object", "params"):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        problems = [
            f"{path}: missing {key}" for key in schema.get("required", []) if key not in value
        ]
        for key, prop in schema.get("properties", {}).items():
            if key in value:
                problems += check(value[key], prop, context, f"{path}.{key}", views)
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array"]
        return [p for i, item in enumerate(value) for p in check(item, schema["items"], context, f"{path}[{i}]", views)]  # fmt: skip
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string"]
        if views and schema.get("format") == "datetime":
            if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
                return [f"{path}: datetime without a zone"]
        return []
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return [f"{path}: expected an integer"]
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{path}: expected a boolean"]
    return []


POST_VIEW = {"type": "ref", "ref": "app.bsky.feed.defs#postView"}
POST_RECORD = {"type": "ref", "ref": "app.bsky.feed.post"}


def test_every_reference_of_the_vendored_lexicons_resolves() -> None:
    unresolved = sorted(
        {ref for nsid, doc in LEXICONS.items() for ref in _references(doc, nsid)
         if _definition(ref, nsid)[0] is None}
    )  # fmt: skip
    assert unresolved == []


def test_the_check_fails_on_a_reference_it_cannot_resolve() -> None:
    problems = check({"uri": "at://x"}, {"type": "ref", "ref": "com.example.missing#thing"},
                     "", "post", views=False)  # fmt: skip
    assert problems == ["post: com.example.missing#thing is in no lexicon here"]
    held = LEXICONS.pop("com.atproto.repo.strongRef")  # as it was before it was vendored
    try:
        record = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-01-01T00:00:00Z",
                  "reply": {"root": {"uri": "at://a", "cid": "b"},
                            "parent": {"uri": "at://a", "cid": "b"}}}  # fmt: skip
        assert check(record, POST_RECORD, "", "post", views=False) == [
            "post.reply.root: com.atproto.repo.strongRef is in no lexicon here",
            "post.reply.parent: com.atproto.repo.strongRef is in no lexicon here",
        ]
    finally:
        LEXICONS["com.atproto.repo.strongRef"] = held
    assert check(record, POST_RECORD, "", "post", views=False) == []


def test_lexicon_check_can_fail() -> None:
    view = {"uri": "at://x", "cid": "b", "record": {}, "indexedAt": "2026-01-01T00:00:00"}
    view["embed"] = {"$type": "app.bsky.embed.images#view", "images": [{"thumb": "t", "alt": ""}]}
    problems = check(view, POST_VIEW, "", "post", views=True)
    assert set(problems) == {
        "post: missing author",
        "post.indexedAt: datetime without a zone",
        "post.embed.images[0]: missing fullsize",
    }


# -- the demo ------------------------------------------------------------------------------


def test_demo_is_deterministic_and_follows_the_seed() -> None:
    def snapshot(world: World) -> list[Any]:
        posts = [(p.uri, p.cid, json.dumps(p.record, sort_keys=True)) for p in world.posts.values()]
        return [posts, sorted(world.blobs), world.login and world.login.app_password]

    first = build_demo_world()
    with BlueskySandbox(first) as sb:
        assert httpx.get(sb.base_url + "/xrpc/com.atproto.server.getSession").status_code == 401
    assert 750 <= len(first.posts) <= 900
    assert snapshot(build_demo_world()) == snapshot(first)
    assert snapshot(build_demo_world(conference.SEED + 1)) != snapshot(first)


def test_full_walk_returns_every_expected_post_once(demo: Demo) -> None:
    key = demo.key
    for tag, views in demo.walked.items():
        walked = [v["uri"] for v in views]
        assert len(walked) == len(set(walked)), f"duplicates for #{tag}"
        assert key.by_tag[tag] <= set(walked)
        # Only the posts deleted right after being served may be extra.
        assert set(walked) - key.by_tag[tag] <= key.deleted
        sort_ats = [min(parse_datetime(v["record"]["createdAt"]), parse_datetime(v["indexedAt"])) for v in views if v["record"].get("createdAt")]  # fmt: skip
        assert sort_ats == sorted(sort_ats, reverse=True)
        assert not set(walked) & (key.outside_window | key.pending)
    assert demo.world.answer_key().by_tag == key.by_tag
    served_then_deleted = {
        u for views in demo.walked.values() for u in (v["uri"] for v in views)
    } & key.deleted
    assert len(served_then_deleted) == 3
    assert demo.client.get_posts(sorted(served_then_deleted)).posts == []
    for uri, cid in key.edited.items():
        assert demo.client.get_posts([uri]).posts[0].cid == cid


def test_late_posts_arrive_with_advance() -> None:
    world = build_demo_world()
    key = world.answer_key()
    assert key.pending == key.late and len(key.late) >= 15
    with BlueskySandbox(world) as sb:
        client = login(sb)
        window = {"since": format_datetime(key.since), "until": format_datetime(key.until)}
        before = {v["uri"] for v in raw_walk(client, q="#swrs26", **window)}
        assert set(world.advance()) >= key.late
        after = {v["uri"] for v in raw_walk(client, q="#swrs26", **window)}
    assert after - before == key.late & world.answer_key().by_tag["swrs26"]
    assert world.answer_key().pending == set()


def test_the_world_clock_stands_before_late_posts_until_advance() -> None:
    world = build_demo_world()
    now = world.now()
    arrived = [p.sort_at for p in world.posts.values() if p.arrived]
    late = [p.sort_at for p in world.posts.values() if not p.arrived]
    assert max(arrived) < now <= min(late)
    world.advance()
    assert world.now() > max(late)


def test_post_views_satisfy_the_lexicons(demo: Demo) -> None:
    problems: list[str] = []
    failing_records = set()
    for uri, view in demo.views.items():
        problems += check(view, POST_VIEW, "", uri, views=True)
        if check(view["record"], POST_RECORD, "", uri, views=False):
            failing_records.add(uri)
    got = demo.client.invoke_query(
        "app.bsky.feed.getPosts",
        params=models.AppBskyFeedGetPosts.Params(uris=sorted(demo.views)[:25]),
    ).content
    for view in got["posts"]:
        problems += check(view, POST_VIEW, "", view["uri"], views=True)
    assert problems == []
    assert failing_records == demo.key.invalid_records and len(failing_records) == 2


def test_sdk_falls_back_to_dotdict_exactly_for_the_invalid_records(demo: Demo) -> None:
    sample = sorted(demo.key.invalid_records) + sorted(demo.views)[:20]
    posts = demo.client.get_posts(sample).posts
    fallback = {p.uri for p in posts if isinstance(p.record, DotDict)}
    assert fallback == demo.key.invalid_records
    assert all(
        isinstance(p.record, models.AppBskyFeedPost.Record) for p in posts if p.uri not in fallback
    )


def test_demo_covers_the_shapes_real_data_has(demo: Demo) -> None:
    views = list(demo.views.values())
    embeds = Counter(v["embed"]["$type"] for v in views if "embed" in v)
    for kind in ("images", "external", "record", "recordWithMedia", "video"):
        assert embeds[f"app.bsky.embed.{kind}#view"] >= 1, kind
    quoted = Counter(v["embed"]["record"]["$type"].split("#")[1] for v in views if v.get("embed", {}).get("$type") == "app.bsky.embed.record#view")  # fmt: skip
    assert {"viewRecord", "viewNotFound", "viewDetached", "viewBlocked"} <= set(quoted)
    alts = [i["alt"] for v in views if v.get("embed", {}).get("$type") == "app.bsky.embed.images#view" for i in v["embed"]["images"]]  # fmt: skip
    assert alts.count("") >= 10 and len(set(alts)) >= 4
    labels = {label["val"] for v in views for label in v["labels"]}
    assert {"porn", "sexual", "nudity", "graphic-media"} <= labels
    records = [v["record"] for v in views]
    assert sum(1 for r in records if "reply" in r) >= 50
    assert sum(1 for r in records if r.get("tags") and "#" not in r["text"]) >= 10
    texts = " ".join(r["text"] for r in records)
    for needle in (
        "#SWRS26",
        "#swrs26",
        "#SocialWorkResearch",
        "Tēnā",
        "👨‍👩‍👧‍👧",
        "العمل",
        "עבודה",
    ):
        assert needle in texts, needle
    created = [r.get("createdAt", "") for r in records]
    assert any(c.endswith("Z") and len(c) == 24 for c in created)  # milliseconds, Z
    assert any(c.endswith("+00:00") for c in created)
    assert any(c.endswith("Z") and len(c) == 27 for c in created)  # microseconds, Z
    assert any(len(c) == 26 and c[-1].isdigit() for c in created)  # naive
    assert any(c.endswith("+13:00") for c in created)


def test_opted_out_authors_are_labelled_on_their_profile_and_still_returned(demo: Demo) -> None:
    labelled = set()
    for uri, view in demo.views.items():
        author = view["author"]
        for label in author["labels"]:
            assert label["val"] == "!no-unauthenticated"
            assert label["src"] == author["did"]
            assert label["uri"] == f"at://{author['did']}/app.bsky.actor.profile/self"
            labelled.add(uri)
    in_window = {u for views in demo.walked.values() for u in (v["uri"] for v in views)}
    assert labelled & in_window == demo.key.opted_out and len(demo.key.opted_out) >= 10


def test_activity_has_heavy_posters_many_occasional_and_keynote_bursts(demo: Demo) -> None:
    views = [v for views in demo.walked.values() for v in views]
    per_author = Counter(v["author"]["did"] for v in {v["uri"]: v for v in views}.values())
    counts = sorted(per_author.values(), reverse=True)
    assert sum(counts[:5]) >= 0.25 * sum(counts)
    assert sum(1 for c in counts if c <= 5) >= 40
    rate = Counter()
    minutes = Counter()
    for session in conference.SESSIONS:
        kind = "keynote" if session.keynote else "other"
        minutes[kind] += (session.ends_at - session.starts_at).total_seconds() / 60
        start, end = session.starts_at.astimezone(UTC), session.ends_at.astimezone(UTC)
        rate[kind] += sum(1 for v in views if start <= parse_datetime(v["indexedAt"]) < end)
    assert rate["keynote"] / minutes["keynote"] > 2 * rate["other"] / minutes["other"]


def test_facets_are_at_utf8_byte_offsets_except_the_deliberately_broken_ones() -> None:
    world = build_demo_world()
    broken: set[str] = set()
    checked = 0
    for post in world.posts.values():
        text = post.record.get("text", "")
        data = text.encode("utf-8")
        end_so_far = 0
        for facet in sorted(post.record.get("facets", []), key=lambda f: f["index"]["byteStart"]):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            try:
                shown = data[start:end].decode("utf-8") if 0 <= start < end <= len(data) else None
            except UnicodeDecodeError:
                shown = None
            ok = shown is not None and start >= end_so_far
            for feature in facet["features"]:
                kind = feature.get("$type", "").rpartition("#")[2]
                if kind == "tag":
                    ok = ok and "tag" in feature and shown == "#" + feature["tag"]
                elif kind == "mention":
                    ok = ok and shown is not None and shown.startswith("@")
                elif kind != "link":
                    ok = False
            end_so_far = max(end_so_far, end)
            checked += 1
            if not ok:
                broken.add(next((t for t in BROKEN_FACET_TEXTS if text.startswith(t)), text))
    assert broken == BROKEN_FACET_TEXTS
    assert checked >= 700
    family = next(p for p in world.posts.values() if p.record["text"].startswith("Whānau day"))
    assert family.record["facets"][0]["index"] == {"byteStart": 55, "byteEnd": 62}
    assert len("👨‍👩‍👧‍👧".encode()) == 25
