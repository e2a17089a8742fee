"""Rate limits and faults of the Bluesky sandbox raise what the atproto SDK really raises.

Each fault is switched on in the server (``sb.server.faults``, ``sb.server.budget``)
and met by a real ``atproto.Client`` over HTTP, so these tests pin down the exception
types a collector has to handle (platform-apis.md B6).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from atproto import Client, models
from atproto_client import exceptions
from atproto_client.request import Request

from backchannel.sandbox import conference
from backchannel.sandbox.bluesky import BlueskySandbox, Fault, World
from backchannel.sandbox.httpbase import RateBudget

SEARCH = "/xrpc/app.bsky.feed.searchPosts"


@pytest.fixture
def world() -> World:
    world = World()
    world.login = world.add_account("me.bsky.example", "Me", app_password="pass-word", avatar=False)
    world.post(world.login, "something to send #x", created_at=conference.STARTS_AT)
    return world


@pytest.fixture
def sb(world: World) -> Iterator[BlueskySandbox]:
    with BlueskySandbox(world) as sandbox:
        yield sandbox


def login(sb: BlueskySandbox, timeout: float = 10.0) -> Client:
    client = Client(base_url=sb.base_url, request=Request(timeout=timeout))
    client.login(sb.handle, sb.app_password)
    return client


def test_rate_limit_headers_count_down_then_429_with_reset(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.budget = RateBudget(limit=2, window=60)
    for remaining in ("1", "0"):
        answer = client.invoke_query(
            "app.bsky.feed.searchPosts", params=models.AppBskyFeedSearchPosts.Params(q="#x")
        )
        assert answer.headers["ratelimit-remaining"] == remaining
        assert answer.headers["ratelimit-policy"] == "2;w=60"
    with pytest.raises(exceptions.RateLimitExceededError) as caught:
        client.app.bsky.feed.search_posts(params={"q": "#x"})
    error = caught.value
    assert error.limit == 2 and error.remaining == 0 and error.policy == "2;w=60"
    assert timedelta(seconds=50) < error.reset_at - datetime.now(UTC) <= timedelta(seconds=61)
    assert error.response.content.error == "RateLimitExceeded"


def test_ratelimit_fault_says_when_to_come_back(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.faults.add(Fault("ratelimit", path=SEARCH, reset_in=30))
    with pytest.raises(exceptions.RateLimitExceededError) as caught:
        client.app.bsky.feed.search_posts(params={"q": "#x"})
    assert (
        timedelta(seconds=25) < caught.value.reset_at - datetime.now(UTC) <= timedelta(seconds=31)
    )


@pytest.mark.parametrize(
    ("status", "error_type", "name"),
    [
        (500, exceptions.RequestException, "InternalServerError"),
        (502, exceptions.NetworkError, "UpstreamFailure"),
        (503, exceptions.RequestException, "NotEnoughResources"),
    ],
)
def test_5xx_burst_raises_what_the_sdk_raises_then_recovers(
    sb: BlueskySandbox, status: int, error_type: type[Exception], name: str
) -> None:
    client = login(sb)
    sb.server.faults.add(Fault("status", times=2, path=SEARCH, status=status))
    for _ in range(2):
        with pytest.raises(error_type) as caught:
            client.app.bsky.feed.search_posts(params={"q": "#x"})
        assert type(caught.value) is error_type
        assert caught.value.response.status_code == status
        assert caught.value.response.content.error == name
    assert len(client.app.bsky.feed.search_posts(params={"q": "#x"}).posts) == 1


def test_auth_fault_is_unauthorized(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.faults.add(Fault("auth", path=SEARCH))
    with pytest.raises(exceptions.UnauthorizedError):
        client.app.bsky.feed.search_posts(params={"q": "#x"})


def test_malformed_body_raises_a_json_value_error_not_an_sdk_error(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.faults.add(Fault("malformed", path=SEARCH))
    with pytest.raises(ValueError) as caught:  # pydantic_core.from_json, before any model
        client.app.bsky.feed.search_posts(params={"q": "#x"})
    assert not isinstance(caught.value, exceptions.AtProtocolError)


def test_dropped_connection_surfaces_as_raw_httpx_error(sb: BlueskySandbox) -> None:
    client = login(sb)
    sb.server.faults.add(Fault("drop", path=SEARCH))
    # The SDK wraps only httpx.NetworkError and timeouts; a half-sent body is a
    # RemoteProtocolError, which it lets through unwrapped (platform-apis.md B6).
    with pytest.raises(httpx.RemoteProtocolError):
        client.app.bsky.feed.search_posts(params={"q": "#x"})
    assert len(client.app.bsky.feed.search_posts(params={"q": "#x"}).posts) == 1


def test_latency_beyond_the_client_timeout_is_invoke_timeout(sb: BlueskySandbox) -> None:
    client = login(sb, timeout=0.3)
    sb.server.faults.latency = 0.6
    with pytest.raises(exceptions.InvokeTimeoutError):
        client.app.bsky.feed.search_posts(params={"q": "#x"})
    sb.server.faults.latency = 0.0
