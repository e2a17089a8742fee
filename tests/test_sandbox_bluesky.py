"""The Bluesky sandbox speaks XRPC the way the atproto SDK expects: driven by the SDK.

Every test talks to a real server on 127.0.0.1 through ``atproto.Client``; nothing in
the SDK is patched. Demo-world content is tested in test_sandbox_bluesky_demo.py.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from atproto import Client, models
from atproto_client import exceptions
from atproto_client.request import Request

from backchannel.sandbox import conference
from backchannel.sandbox.bluesky import BlueskySandbox, World
from backchannel.sandbox.bluesky_ids import format_datetime, make_cid
from backchannel.sandbox.bluesky_model import Post

T0 = conference.STARTS_AT
SEARCH = "/xrpc/app.bsky.feed.searchPosts"


@pytest.fixture
def world() -> World:
    world = World()
    world.login = world.add_account(
        "archivist.bsky.example", "Archivist", app_password="abcd-efgh-ijkl-mnop", avatar=False
    )
    return world


@pytest.fixture
def sb(world: World) -> Iterator[BlueskySandbox]:
    with BlueskySandbox(world) as sandbox:
        yield sandbox


def login(sb: BlueskySandbox, timeout: float = 10.0) -> Client:
    client = Client(base_url=sb.base_url, request=Request(timeout=timeout))
    client.login(sb.handle, sb.app_password)
    return client


def author(world: World, name: str = "aroha") -> Any:
    return world.account(f"{name}.bsky.example") or world.add_account(f"{name}.bsky.example", name)


def walk(client: Client, **params: Any) -> list[models.AppBskyFeedDefs.PostView]:
    """Every page of a search, following the cursor to its end."""
    posts, cursor = [], params.pop("cursor", None)
    while True:
        page = client.app.bsky.feed.search_posts(params={**params, "cursor": cursor})
        posts.extend(page.posts)
        cursor = page.cursor
        if not cursor:
            return posts


def uris(posts: list[Any]) -> list[str]:
    return [post.uri for post in posts]


# -- sessions ---------------------------------------------------------------------------


def test_login_gets_a_jwt_shaped_session_without_did_doc(sb: BlueskySandbox) -> None:
    client = Client(base_url=sb.base_url)
    profile = client.login(sb.handle, sb.app_password)
    assert profile is not None and profile.handle == sb.handle
    raw = httpx.post(
        sb.base_url + "/xrpc/com.atproto.server.createSession",
        json={"identifier": sb.handle.upper(), "password": sb.app_password},
    ).json()
    assert "didDoc" not in raw
    payload = raw["accessJwt"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == raw["did"] and claims["exp"] > time.time() + 3600


def test_wrong_password_is_401_authentication_required(sb: BlueskySandbox) -> None:
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        Client(base_url=sb.base_url).login(sb.handle, "wrong-pass-word-here")
    assert caught.value.response.status_code == 401
    assert caught.value.response.content.error == "AuthenticationRequired"
    assert caught.value.response.content.message == "Invalid identifier or password"


def test_search_without_a_token_is_401_as_on_the_pds(sb: BlueskySandbox) -> None:
    with pytest.raises(exceptions.UnauthorizedError) as caught:
        Client(base_url=sb.base_url).app.bsky.feed.search_posts(params={"q": "#swrs26"})
    assert caught.value.response.status_code == 401
    assert caught.value.response.content.error == "AuthMissing"


def test_expired_token_is_400_expired_token_until_logged_in_again(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.expire_sessions()
    with pytest.raises(exceptions.BadRequestError) as caught:
        client.app.bsky.feed.search_posts(params={"q": "#swrs26"})
    assert caught.value.response.content.error == "ExpiredToken"
    client.login(sb.handle, sb.app_password)
    assert client.app.bsky.feed.search_posts(params={"q": "#swrs26"}).posts == []


def test_sdk_refreshes_a_short_lived_session_and_refresh_tokens_are_single_use(
    sb: BlueskySandbox,
) -> None:
    sb.server.access_lifetime = 60.0  # inside the SDK's 15-minute refresh margin
    client = login(sb)
    old_refresh = client._session.refresh_jwt  # noqa: SLF001  (to replay it by hand)
    client.app.bsky.feed.search_posts(params={"q": "#swrs26"})
    assert sb.requests_to("/xrpc/com.atproto.server.refreshSession")
    replay = httpx.post(
        sb.base_url + "/xrpc/com.atproto.server.refreshSession",
        headers={"Authorization": f"Bearer {old_refresh}"},
    )
    assert replay.status_code == 400 and replay.json()["error"] == "ExpiredToken"


# -- search -------------------------------------------------------------------------------


def test_tags_match_case_insensitively_from_text_facets_and_record_tags_and_are_anded(
    sb: BlueskySandbox, world: World
) -> None:
    a = author(world)
    p1 = world.post(a, "one #swrs26", created_at=T0)
    p2 = world.post(a, "two #SWRS26 #socialworkresearch", created_at=T0 + timedelta(minutes=1))
    p3 = world.post(
        a, "three, no visible tag", created_at=T0 + timedelta(minutes=2),
        record_tags=["SocialWorkResearch", "Swrs26"],
    )  # fmt: skip
    world.post(a, "four #other", created_at=T0 + timedelta(minutes=3))
    p5 = world.post(a, "five #Swrs26 without facets", created_at=T0, facets=[])
    client = login(sb)

    def found(**params: Any) -> set[str]:
        return set(uris(walk(client, **params)))

    assert found(q="#swrs26") == {p1.uri, p2.uri, p3.uri, p5.uri}
    assert found(q="#SWRS26") == found(q="#swrs26")
    assert found(q="#swrs26", tag=["SocialWorkResearch"]) == {p2.uri, p3.uri}
    assert found(q="two", tag=["swrs26", "socialworkresearch"]) == {p2.uri}
    assert found(q="#nothing", tag=["swrs26"]) == set()


def test_since_is_inclusive_until_exclusive_on_sort_at_newest_first(
    sb: BlueskySandbox, world: World
) -> None:
    a = author(world)
    minute = [
        world.post(a, f"m{i} #swrs26", created_at=T0 + timedelta(minutes=i)) for i in range(6)
    ]
    # Clock ahead: created 30 min later than indexed, so it sorts at its indexedAt.
    skewed = world.post(
        a, "skewed #swrs26", created_at=T0 + timedelta(minutes=30),
        indexed_at=T0 + timedelta(minutes=2, seconds=30),
    )  # fmt: skip
    naive = world.post(
        a, "naive #swrs26", created_at=T0 + timedelta(minutes=4), created_style="naive"
    )
    assert "Z" not in naive.record["createdAt"] and "+" not in naive.record["createdAt"]
    client = login(sb)
    since, until = (
        format_datetime(T0 + timedelta(minutes=1)),
        format_datetime(T0 + timedelta(minutes=4)),
    )
    got = walk(client, q="#swrs26", since=since, until=until)
    assert set(uris(got)) == {minute[1].uri, minute[2].uri, minute[3].uri, skewed.uri}
    assert uris(got) == [minute[3].uri, skewed.uri, minute[2].uri, minute[1].uri]
    later = walk(client, q="#swrs26", since=until)
    assert {naive.uri, minute[4].uri, minute[5].uri} <= set(uris(later))
    assert skewed.uri not in uris(later)
    day = (T0 - timedelta(days=1)).astimezone(UTC).date().isoformat()
    assert len(walk(client, q="#swrs26", since=day)) == 8


def test_cursor_pages_end_without_a_cursor_key(sb: BlueskySandbox, world: World) -> None:
    a = author(world)
    for i in range(6):
        world.post(a, f"post {i} #swrs26", created_at=T0 + timedelta(minutes=i))
    client = login(sb)
    params = models.AppBskyFeedSearchPosts.Params(q="#swrs26", limit=3)
    first = client.invoke_query("app.bsky.feed.searchPosts", params=params).content
    assert len(first["posts"]) == 3 and first["cursor"]
    params = models.AppBskyFeedSearchPosts.Params(q="#swrs26", limit=3, cursor=first["cursor"])
    last = client.invoke_query("app.bsky.feed.searchPosts", params=params).content
    assert len(last["posts"]) == 3 and "cursor" not in last
    assert not {p["uri"] for p in first["posts"]} & {p["uri"] for p in last["posts"]}
    assert len(walk(client, q="#swrs26", limit=4, sort="top")) == 6


def sort_at(post: Any) -> datetime:
    created = post.record["createdAt"] if isinstance(post.record, dict) else post.record.created_at
    parsed = datetime.fromisoformat(created.replace("Z", "+00:00"))
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return min(parsed, datetime.fromisoformat(post.indexed_at.replace("Z", "+00:00")))


def test_search_cap_stops_the_cursor_and_moving_until_gets_the_rest(
    sb: BlueskySandbox, world: World
) -> None:
    world.add_bulk("capped", 600, T0, T0 + timedelta(hours=6), authors=7)
    sb.server.search_cap = 250
    client = login(sb)
    capped = walk(client, q="#capped", limit=100)
    assert len(capped) == 250
    seen: dict[str, Any] = {}
    until: str | None = None
    while True:
        params: dict[str, Any] = {"q": "#capped", "limit": 100}
        if until:
            params["until"] = until
        batch = [p for p in walk(client, **params) if p.uri not in seen]
        if not batch:
            break
        seen.update((p.uri, p) for p in batch)
        until = format_datetime(min(sort_at(p) for p in batch))
    assert len(seen) == 600


def test_bulk_worlds_page_past_the_real_cap_of_10000() -> None:
    # How fast a bulk world is built and served is the benchmarks' business
    # (benchmarks/, the request walks at N = 100,000), not a timed test's.
    world = World()
    world.login = world.add_account("me.bsky.example", "Me", app_password="pw", avatar=False)
    world.add_bulk("huge", 25_000, T0, T0 + timedelta(days=2))
    with BlueskySandbox(world) as sb:
        client = login(sb)
        assert sb.server.search_cap == 10_000
        page = client.app.bsky.feed.search_posts(
            params={"q": "#huge", "limit": 100, "until": format_datetime(T0 + timedelta(days=1))}
        )
        assert len(page.posts) == 100 and page.cursor
        sb.server.search_cap = 150  # the cap counts from the query's first page
        second = client.app.bsky.feed.search_posts(
            params={"q": "#huge", "limit": 100, "cursor": page.cursor}
        )
        assert len(second.posts) == 50 and second.cursor is None


# -- posts and records ------------------------------------------------------------------


def test_get_posts_keeps_request_order_and_omits_the_unavailable(
    sb: BlueskySandbox, world: World
) -> None:
    a = author(world)
    p1, p2, p3 = (
        world.post(a, f"p{i} #swrs26", created_at=T0 + timedelta(minutes=i)) for i in range(3)
    )
    world.delete(p1.uri)
    missing = f"at://{a.did}/app.bsky.feed.post/3kaaaaaaaaaaa"
    client = login(sb)
    assert uris(client.get_posts([p3.uri, p1.uri, missing, p2.uri]).posts) == [p3.uri, p2.uri]


def test_get_record_sees_edits_and_says_record_not_found_after_delete(
    sb: BlueskySandbox, world: World
) -> None:
    post = world.post(author(world), "first draft #swrs26", created_at=T0)
    client = login(sb)

    def get() -> Any:
        return client.com.atproto.repo.get_record(
            params={"repo": post.author.did, "collection": "app.bsky.feed.post", "rkey": post.rkey}
        )

    old_cid = get().cid
    new_cid = world.edit(post.uri, "second draft #swrs26 #socialworkresearch")
    record = get()
    assert record.cid == new_cid != old_cid and record.value.text.startswith("second")
    assert world.answer_key().edited == {post.uri: new_cid}
    world.delete(post.uri)
    with pytest.raises(exceptions.BadRequestError) as caught:
        get()
    assert caught.value.response.status_code == 400
    assert caught.value.response.content.error == "RecordNotFound"


def test_deleting_and_editing_while_paging_skips_and_repeats_nothing(
    sb: BlueskySandbox, world: World
) -> None:
    a = author(world)
    posts = [
        world.post(a, f"p{i} #swrs26", created_at=T0 + timedelta(minutes=i)) for i in range(10)
    ]
    client = login(sb)
    first = client.app.bsky.feed.search_posts(params={"q": "#swrs26", "limit": 4})
    world.delete(posts[4].uri)  # on the next page (newest first: p9..p6 were served)
    world.edit(posts[3].uri, "p3 rewritten #swrs26")
    rest = walk(client, q="#swrs26", limit=4, cursor=first.cursor)
    got = uris(first.posts) + uris(rest)
    assert got == [p.uri for p in reversed(posts) if p is not posts[4]]
    rewritten = next(p for p in rest if p.uri == posts[3].uri)
    assert rewritten.cid == posts[3].cid and rewritten.record.text == "p3 rewritten #swrs26"


def test_after_served_mutations_and_late_posts(sb: BlueskySandbox, world: World) -> None:
    a = author(world)
    doomed = world.post(a, "doomed #swrs26", created_at=T0)
    edited = world.post(a, "typo #swrs26", created_at=T0 + timedelta(minutes=1))
    late = world.post(a, "late #swrs26", created_at=T0 + timedelta(minutes=2), late=True)
    world.delete_after_served(doomed.uri)
    world.edit_after_served(edited.uri, "fixed #swrs26")
    key = world.answer_key()
    assert key.deleted == {doomed.uri} and key.pending == {late.uri}
    assert key.by_tag["swrs26"] == {edited.uri}
    client = login(sb)
    assert set(uris(walk(client, q="#swrs26"))) == {doomed.uri, edited.uri}
    assert uris(client.get_posts([doomed.uri, edited.uri]).posts) == [edited.uri]
    assert client.get_posts([edited.uri]).posts[0].cid == key.edited[edited.uri]
    assert world.advance() == [late.uri]
    assert set(uris(walk(client, q="#swrs26"))) == {edited.uri, late.uri}
    assert world.answer_key().by_tag["swrs26"] == {edited.uri, late.uri}


def test_media_urls_are_served_by_the_sandbox(sb: BlueskySandbox, world: World) -> None:
    from backchannel.sandbox.images import png

    a = author(world)
    blob = world.add_blob(png("x", 32, 24), "image/png")
    world.post(
        a, "pic #swrs26", created_at=T0,
        embed={"$type": "app.bsky.embed.images", "images": [{"alt": "", "image": blob}]},
    )  # fmt: skip
    client = login(sb)
    view = client.app.bsky.feed.search_posts(params={"q": "#swrs26"}).posts[0]
    image = view.embed.images[0]
    for url in (image.thumb, image.fullsize, view.author.avatar):
        assert url.startswith(sb.base_url)
        answer = httpx.get(url)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert answer.content.startswith(b"\x89PNG")
        assert make_cid(answer.content, raw=True) in url  # content-addressed, as on the CDN


def test_posts_added_while_running_are_thread_safe(sb: BlueskySandbox, world: World) -> None:
    a = author(world)
    client = login(sb)
    made: list[Post] = []
    for i in range(30):
        made.append(world.post(a, f"live {i} #swrs26", created_at=T0 + timedelta(seconds=i)))
        if i % 10 == 9:
            assert len(walk(client, q="#swrs26", limit=7)) == i + 1
