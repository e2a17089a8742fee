"""Conformance of the Mastodon sandbox, driven through the real Mastodon.py client.

The expected shapes come from the recorded responses in tests/fixtures/mastodon (copied from the project's shared fixtures)
(real Mastodon 4.6); the expected posts come from the world's answer key.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import requests
import yaml
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)

from backchannel.sandbox import conference
from backchannel.sandbox.httpbase import Fault, RateBudget
from backchannel.sandbox.mastodon_answers import build_answer_key
from backchannel.sandbox.mastodon_demo import SOURCES, build_demo_world
from backchannel.sandbox.mastodon_server import TAG_PREFIX, MastodonSandbox
from backchannel.sandbox.mastodon_world import NEVER, Card, MastodonWorld, Media
from tests.helpers import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "mastodon"
AUTH_ONLY = {"favourited", "reblogged", "muted", "bookmarked", "filtered"}
T0 = conference.STARTS_AT.astimezone(UTC)


def client(url: str, **kw: object) -> Mastodon:
    return Mastodon(api_base_url=url, ratelimit_method="throw", **kw)


def walk_next(m: Mastodon, tag: str, **kw: object) -> list:
    page, out = m.timeline_hashtag(tag, **kw), []
    while page:
        out += page
        page = m.fetch_next(page)
    return out


def walk_previous(m: Mastodon, tag: str, **kw: object) -> list:
    page, out = m.timeline_hashtag(tag, min_id=1, **kw), []
    while page:
        out += page
        page = m.fetch_previous(page)
    return out


def small_world() -> MastodonWorld:
    """Three sources and one extra home; overlap, opt-outs, late, unlisted, a boost."""
    w = MastodonWorld()
    for name in ("a.example", "b.example", "c.example", "home.example"):
        w.add_instance(name)
    w.sources = ["a.example", "b.example", "c.example"]
    w.add_emoji("a.example", "kea")
    ana = w.add_account("ana", "a.example", seen_by=["b.example"], display_name="Ana :kea:")
    bo = w.add_account("bo", "b.example", seen_by=["a.example", "c.example"])
    cy = w.add_account("cy", "c.example", note="Researcher. #nobot")
    dee = w.add_account("dee", "home.example", seen_by=["a.example", "b.example", "c.example"])
    noi = w.add_account("noi", "home.example", seen_by=["a.example"], noindex=True)
    authors = [ana, bo, cy, dee, noi]
    variants = [
        "#SWRS26",
        "#swrs26",
        "#Swrs26",
        "#socialworkresearch",
        "#swrs26 #SocialWorkResearch",
    ]
    for i in range(60):
        when = T0 + timedelta(minutes=9 * i)
        attrs: dict = {}
        if i % 9 == 4:
            attrs["visibility"] = "unlisted"
        if i % 11 == 5:
            attrs["visibility"] = "private"
        if i % 6 == 1:
            attrs["media"] = [Media(f"m{i}", "A slide." if i % 12 == 1 else None)]
        if i % 10 == 6:
            attrs["card"] = Card("https://example.org/paper", "A paper", image="card-paper")
        w.add_post(
            authors[i % 5],
            f"Post {i} :kea: {variants[i % 5]}",
            created_at=when,
            key=f"s{i}",
            **attrs,
        )
    w.add_post(bo, "Too early #swrs26", created_at=T0 - timedelta(days=3), key="early")
    w.add_boost(bo, "s0", T0 + timedelta(minutes=3), key="boost")
    late_at = T0 + timedelta(hours=4)  # older than the newest posts: below a min_id cursor
    w.add_post(dee, "Late #swrs26", created_at=late_at, key="late", arrives={"a.example": 1, "b.example": 1, "c.example": NEVER})  # fmt: skip
    w.schedule_delete("s3", 1)
    return w


@pytest.fixture()
def sb():
    with MastodonSandbox(small_world()) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def demo():
    with MastodonSandbox(build_demo_world()) as sandbox:
        yield sandbox


# -- walks ------------------------------------------------------------------------------


def test_walks_return_every_expected_post_once_in_both_directions(sb):
    sb.world.advance()
    key = sb.answer_key()
    for name in sb.sources:
        m = client(sb.url(name))
        for tag in conference.HASHTAGS:
            down = walk_next(m, tag, limit=7)
            up = walk_previous(m, tag, limit=7)
            for got in (down, up):
                uris = [s.uri for s in got]
                assert len(uris) == len(set(uris))
                in_window = {u for u in uris if u not in key.outside_window}
                assert in_window == key.by_tag[tag][name], (name, tag)
            assert [s.id for s in down] == sorted((s.id for s in down), key=int, reverse=True)
            assert {s.uri for s in down} == {s.uri for s in up}
    assert key.late and key.late <= key.all_expected
    assert key.not_public.isdisjoint(key.all_expected)
    assert all(not u.endswith("/activity") for u in key.all_expected)


def test_demo_walk_matches_answer_key_over_raw_http():
    world = build_demo_world()
    world.advance()
    with MastodonSandbox(world) as demo:
        key = demo.answer_key()
        name = SOURCES[1]
        url: str | None = f"{demo.url(name)}{TAG_PREFIX}swrs26?limit=40"
        seen: list[str] = []
        while url:
            r = requests.get(url, timeout=10)
            seen += [s["uri"] for s in r.json()]
            link = re.search(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
            url = link.group(1) if link else None
        assert len(seen) == len(set(seen))
        assert set(seen) - key.outside_window == key.by_tag["swrs26"][name]
        assert key.not_public.isdisjoint(seen)


def test_min_id_and_max_id_combined_and_since_id(sb):
    m = client(sb.url("a.example"))
    everything = walk_next(m, "swrs26", limit=40)
    ids = [int(s.id) for s in everything]
    low, high = ids[-2], ids[3]  # newest first
    between = m.timeline_hashtag("swrs26", min_id=low, max_id=high, limit=3)
    assert [int(s.id) for s in between] == [i for i in ids if low < i < high][-3:]
    since = m.timeline_hashtag("swrs26", since_id=low, limit=3)
    assert [int(s.id) for s in since] == ids[:3]  # the newest, leaving a gap
    assert m.timeline_hashtag("swrs26", max_id=ids[-1]) == []


def test_limit_default_and_max(demo):
    m = client(demo.source_urls[0])
    assert len(m.timeline_hashtag("swrs26")) == 20
    assert len(m.timeline_hashtag("swrs26", limit=100)) == 40
    assert len(m.timeline_hashtag("swrs26", limit=5)) == 5


def test_link_headers_are_shaped_like_the_recording(sb):
    recorded = _fixture_interactions("test_fetch_remaining.yaml")
    real_link = next(
        i["response"]["headers"]["link"][0] for i in recorded if "link" in i["response"]["headers"]
    )
    shape = r'<(http://[^/]+)/api/v1/timelines/tag/(\w+)\?limit=(\d+)&max_id=(\d+)>; rel="next", <\1/api/v1/timelines/tag/\2\?limit=\3&min_id=(\d+)>; rel="prev"'  # fmt: skip
    assert re.fullmatch(shape, real_link)
    base = sb.url("a.example")
    r = requests.get(f"{base}{TAG_PREFIX}swrs26?limit=10", timeout=5)
    match = re.fullmatch(shape, r.headers["Link"])
    assert match and match.group(1) == base
    body = r.json()
    assert match.group(4) == body[-1]["id"] and match.group(5) == body[0]["id"]
    r = requests.get(f"{base}{TAG_PREFIX}swrs26?local=1&only_media=1&any[]=x&limit=2", timeout=5)
    assert (
        "any" not in r.headers["Link"]
        and "local=1" in r.headers["Link"]
        and "only_media=1" in r.headers["Link"]
    )
    r = requests.get(f"{base}{TAG_PREFIX}swrs26?max_id=1", timeout=5)
    assert r.json() == [] and "Link" not in r.headers


def test_filters_case_and_non_ascii_tags(sb):
    w = sb.world
    w.add_post("bo@b.example", "Kia ora #Whānau", created_at=T0, key="wh")
    m = client(sb.url("a.example"))
    assert [s.uri for s in m.timeline_hashtag("SWRS26", limit=40)] == [
        s.uri for s in m.timeline_hashtag("swrs26", limit=40)
    ]
    assert [s.tags[0].name for s in m.timeline_hashtag("WHĀNAU")] == ["whānau"]
    assert all(s.account.acct == "ana" for s in m.timeline_hashtag("swrs26", local=True, limit=40))
    assert all(s.media_attachments for s in m.timeline_hashtag("swrs26", only_media=True, limit=40))
    assert m.timeline_hashtag("neverused") == []


# -- entities ---------------------------------------------------------------------------


def test_status_account_and_instance_carry_the_recorded_fields(sb):
    recorded = {
        i["request"]["uri"]: i["response"]["body"]["string"]
        for i in _fixture_interactions("test_hashtag_tl.yaml")
    }
    fixture_status = next(json.loads(b)[0] for u, b in recorded.items() if "/timelines/tag/" in u)
    fixture_instance = next(
        json.loads(b) for u, b in recorded.items() if u.endswith("/api/v2/instance/")
    )
    status_keys = set(fixture_status) - {"pinned"}  # pinned: only on one's own posts
    account_keys = set(fixture_status["account"])
    base = sb.url("a.example")
    anon = requests.get(f"{base}{TAG_PREFIX}swrs26?limit=40", timeout=5).json()
    authed = requests.get(
        f"{base}{TAG_PREFIX}swrs26?limit=40", headers={"Authorization": "Bearer x"}, timeout=5
    ).json()
    for status in anon:
        assert set(status) == status_keys - AUTH_ONLY
        local = status["account"]["acct"] == status["account"]["username"]
        assert set(status["account"]) == (account_keys if local else account_keys - {"noindex"})
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["created_at"])
        assert all(t["name"] == t["name"].lower() for t in status["tags"])
    assert all(set(s) == status_keys for s in authed)
    media = [a for s in anon for a in s["media_attachments"]]
    assert media and {
        "id",
        "type",
        "url",
        "preview_url",
        "remote_url",
        "meta",
        "description",
        "blurhash",
    } <= set(media[0])
    assert {None, "A slide."} <= {a["description"] for a in media}
    card = next(s["card"] for s in anon if s["card"])
    assert {"url", "title", "description", "type", "image", "blurhash"} <= set(card)
    instance = requests.get(f"{base}/api/v2/instance/", timeout=5).json()
    assert set(fixture_instance) <= set(instance)
    assert set(fixture_instance["configuration"]["timelines_access"]) == set(
        instance["configuration"]["timelines_access"]
    )
    assert instance["domain"] == base.split("//")[1]
    assert requests.get(f"{base}/api/v1/instance", timeout=5).json()["uri"] == instance["domain"]


def test_same_uri_different_ids_and_remote_media(sb):
    uri = sb.world.uri(sb.world.post("s1"))  # by bo@b, seen on a and c; it has an image
    seen = {}
    for name in sb.sources:
        for s in client(sb.url(name)).timeline_hashtag("swrs26", limit=40):
            if s.uri == uri:
                seen[name] = s
    assert set(seen) == set(sb.sources) and len({s.id for s in seen.values()}) == 3
    on_a, on_b = seen["a.example"], seen["b.example"]
    assert (
        on_a.account.acct == f"bo@{sb.url('b.example').split('//')[1]}"
        and on_b.account.acct == "bo"
    )
    assert on_a.account.noindex is None and on_b.account.noindex is False  # only local accounts say
    remote, local = on_a.media_attachments[0], on_b.media_attachments[0]
    assert remote.url.startswith(sb.url("a.example")) and remote.remote_url == local.url
    assert local.remote_url is None
    for url in (remote.url, remote.remote_url, remote.preview_url, on_a.account.avatar):
        r = requests.get(url, timeout=5)
        assert (
            r.status_code == 200
            and r.headers["Content-Type"] == "image/png"
            and r.content[:4] == b"\x89PNG"
        )


def test_account_lookup_at_home_and_elsewhere(sb):
    home = client(sb.url("home.example"))
    assert home.account_lookup("noi").noindex is True
    a_domain = sb.url("a.example").split("//")[1]
    elsewhere = client(sb.url("a.example")).account_lookup(
        f"noi@{sb.url('home.example').split('//')[1]}"
    )
    assert elsewhere.noindex is None and elsewhere.acct.startswith("noi@")
    assert "nobot" in client(sb.url("c.example")).account_lookup("cy").note
    assert client(sb.url("a.example")).account_lookup(f"ana@{a_domain}").acct == "ana"
    with pytest.raises(MastodonNotFoundError):
        client(sb.url("c.example")).account_lookup(f"ana@{a_domain}")  # c never saw ana


def test_statuses_batch_delete_edit_and_boosts(sb):
    w, m = sb.world, client(sb.url("a.example"))
    page = m.timeline_hashtag("swrs26", limit=40)
    first, second = page[0], page[1]
    w.delete(first.uri)
    with pytest.raises(MastodonNotFoundError) as err:
        m.status(first.id)
    assert err.value.args[3] == "Record not found"
    got = m.statuses([first.id, second.id, "12345"])
    assert [s.uri for s in got] == [second.uri]
    with pytest.raises(MastodonAPIError):
        m.statuses([str(i) for i in range(21)])
    assert first.uri not in {s.uri for s in m.timeline_hashtag("swrs26", limit=40)}
    w.edit(second.uri, "<p>Changed #swrs26</p>")
    edited = m.status(second.id)
    assert edited.edited_at is not None and "Changed" in edited.content
    assert len(m.status_history(second.id)) == 2
    boost = w.posts["boost"]
    boost_id = w.local_id("a.example", boost)
    wrapper = m.status(boost_id)
    assert wrapper.reblog.uri == w.uri(w.post("s0")) and wrapper.uri.endswith("/activity")


def test_never_serves_unlisted_or_private_in_tag_timelines(sb):
    m = client(sb.url("a.example"))
    served = {s.uri for s in walk_next(m, "swrs26", limit=40)}
    hidden = {sb.world.uri(p) for p in sb.world.posts.values() if p.visibility != "public"}
    assert hidden and served.isdisjoint(hidden)
    unlisted = sb.world.post("s4")
    assert m.status(sb.world.local_id("a.example", unlisted)).visibility == "unlisted"
    with pytest.raises(MastodonNotFoundError):
        m.status(sb.world.local_id("a.example", sb.world.post("s5")))  # private


def test_late_posts_have_backdated_ids_and_arrive_on_advance(sb):
    m = client(sb.url("a.example"))
    cursor = int(m.timeline_hashtag("swrs26", limit=1)[0].id)
    late_uri = sb.world.uri(sb.world.post("late"))
    assert late_uri not in {s.uri for s in walk_next(m, "swrs26", limit=40)}
    sb.world.advance()
    assert late_uri not in {s.uri for s in m.timeline_hashtag("swrs26", min_id=cursor)}
    rescan = [s for s in walk_next(m, "swrs26", limit=40) if s.uri == late_uri]
    assert rescan and int(rescan[0].id) < cursor
    assert late_uri in sb.answer_key().late
    assert late_uri not in {
        s.uri for s in walk_next(client(sb.url("c.example")), "swrs26", limit=40)
    }


# -- faults and rate limits -----------------------------------------------------------


def test_fault_knobs_raise_what_the_real_service_would(sb):
    server = sb.instances["a.example"]
    m = client(server.base_url)
    m.timeline_hashtag("swrs26")  # the hidden /api/v2/instance/ request is now cached
    server.faults.add(Fault("status", times=2, status=503, path=TAG_PREFIX))
    for _ in range(2):
        with pytest.raises(MastodonServiceUnavailableError):
            m.timeline_hashtag("swrs26")
    assert m.timeline_hashtag("swrs26")
    server.faults.add(Fault("status", status=500, path=TAG_PREFIX))
    with pytest.raises(MastodonInternalServerError):
        m.timeline_hashtag("swrs26")
    server.faults.add(Fault("malformed", path=TAG_PREFIX))
    with pytest.raises(MastodonAPIError, match="Could not parse response as JSON"):
        m.timeline_hashtag("swrs26")
    server.faults.add(Fault("drop", path=TAG_PREFIX))
    with pytest.raises(MastodonNetworkError):
        m.timeline_hashtag("swrs26")
    server.faults.add(Fault("auth", path=TAG_PREFIX))
    with pytest.raises(MastodonUnauthorizedError):
        m.timeline_hashtag("swrs26")
    server.faults.add(Fault("auth", path=TAG_PREFIX))
    r = requests.get(f"{server.base_url}{TAG_PREFIX}swrs26", timeout=5)
    assert (r.status_code, r.json()) == (401, {"error": "The access token is invalid"})
    server.faults.latency = 0.3
    started = time.monotonic()
    m.timeline_hashtag("swrs26")
    assert time.monotonic() - started >= 0.3
    server.faults.latency = 0


def test_ratelimit_fault_and_spent_budget_give_429_with_reset(sb):
    server = sb.instances["b.example"]
    m = client(server.base_url)
    server.faults.add(Fault("ratelimit", path=TAG_PREFIX, reset_in=30))
    with pytest.raises(MastodonRatelimitError):
        m.timeline_hashtag("swrs26")
    r = requests.get(f"{server.base_url}{TAG_PREFIX}swrs26", timeout=5)
    assert r.status_code == 429 and r.headers["X-RateLimit-Remaining"] == "0"
    reset = r.headers["X-RateLimit-Reset"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", reset)
    assert (
        20
        < datetime.strptime(reset, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
        - time.time()
        <= 31
    )
    server.budget = RateBudget(limit=3, window=60)
    remaining = [requests.get(f"{server.base_url}/api/v1/instance", timeout=5).headers["X-RateLimit-Remaining"] for _ in range(3)]  # fmt: skip
    assert remaining == ["2", "1", "0"]
    with pytest.raises(MastodonRatelimitError):
        client(server.base_url).timeline_hashtag("swrs26")
    media = requests.get(f"{server.base_url}/avatars/original/missing.png", timeout=5)
    assert media.status_code == 200  # media files are not rate-limited


def test_authenticated_hashtag_feeds(sb):
    server = sb.instances["c.example"]
    server.hashtag_feeds = "authenticated"
    info = requests.get(f"{server.base_url}/api/v2/instance/", timeout=5).json()
    assert info["configuration"]["timelines_access"]["hashtag_feeds"] == {"local": "authenticated", "remote": "authenticated"}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Mastodon.py warns that the feed needs a login
        with pytest.raises(MastodonAPIError) as err:
            client(server.base_url).timeline_hashtag("swrs26")
    assert err.value.args[1] == 422
    r = requests.get(f"{server.base_url}{TAG_PREFIX}swrs26", timeout=5)
    assert r.json() == {"error": "This method requires an authenticated user"}
    assert client(server.base_url, access_token="any-token").timeline_hashtag("swrs26")


# -- the demo event -------------------------------------------------------------------------


def test_demo_world_is_deterministic_and_rich():
    one, two = build_demo_world(), build_demo_world()
    assert [(p.key, p.content, p.created_at, p.visibility) for p in one.posts.values()] == [
        (p.key, p.content, p.created_at, p.visibility) for p in two.posts.values()
    ]
    assert all(
        one.local_id(n, p) == two.local_id(n, p)
        for n in one.instances
        for p in list(one.posts.values())[:200]
    )
    assert build_answer_key(one) == build_answer_key(two)
    assert [p.content for p in build_demo_world(seed=7).posts.values()] != [
        p.content for p in one.posts.values()
    ]
    posts = list(one.posts.values())
    assert 1350 <= len(posts) <= 1650
    text = "\n".join(p.content for p in posts) + "".join(
        a.display_name for a in one.accounts.values()
    )
    for needle in ("ā", "👨‍👩‍👧‍👧", "\u0627", "\u05d0", ":kea:", "#<span>SWRS26", "#<span>swrs26", "#<span>Swrs26", 'class="ellipsis"', 'class="h-card"'):  # fmt: skip
        assert needle in text, needle
    assert any(p.spoiler_text for p in posts) and any(
        p.sensitive and not p.spoiler_text for p in posts
    )
    media = [m for p in posts for m in p.media]
    assert any(m.description for m in media) and any(m.description is None for m in media)
    for attr in ("card", "poll", "quote_of", "in_reply_to", "reblog_of"):
        assert any(getattr(p, attr) for p in posts), attr
    assert {"unlisted", "private", "direct"} <= {p.visibility for p in posts}
    key = build_answer_key(one)
    assert set(key.opted_out.values()) == {"noindex", "nobot", "noarchive", "bot"}
    assert key.late and key.deleted and key.edited and key.outside_window and key.not_public
    end = conference.ENDS_AT
    assert all(end - timedelta(hours=6) <= one.post(u).created_at <= end for u in key.late)
    keynote_hours = sum(
        1
        for p in posts
        if any(s.keynote and s.starts_at <= p.created_at < s.ends_at for s in conference.SESSIONS)
    )
    assert keynote_hours > len(posts) * 0.4  # bursts: keynotes are 3.5 of ~16 hours


def test_demo_sandbox_serves_its_sources():
    world = build_demo_world()
    with MastodonSandbox(world) as sandbox:
        assert len(sandbox.source_urls) == 3 and len(sandbox.instances) == 5
        extra = sandbox.instances["weka.example"].base_url
        assert extra not in sandbox.source_urls
        author = next(a for a in world.accounts.values() if a.home == "weka.example" and a.noindex)
        assert client(extra).account_lookup(author.username).noindex is True


def _fixture_interactions(name: str) -> list[dict]:
    path = FIXTURES / name
    return yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
