"""One Mastodon server over Mastodon.py: raw response capture, retries, error mapping.

:class:`TimelineClient` reads one page of a hashtag timeline and returns the statuses
*exactly as the server sent them* (parsed from the response bytes by us, not
Mastodon.py's filled-in objects), counting every HTTP request it makes, the hidden
``GET /api/v2/instance/`` and every retry included. It turns what can go wrong into
:mod:`backchannel.errors`:

* 429: sleep until the server's reset time (capped, logged), then try again;
* 5xx and network errors (refused, reset, timeout, a body cut short): capped,
  jittered exponential backoff, at most ``policy.attempts`` tries of one request,
  then :class:`RetriesExhaustedError`;
* 401, 403, 422: :class:`AuthRequiredError` at once, naming the config key;
* a body that is not a JSON array of objects: :class:`MalformedResponseError`;
* 404 on a tag: the tag is unknown there, which is an empty page.

Each instance owns its own ``requests`` session and Mastodon.py client, so collectors
can run in parallel threads without sharing anything mutable.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Self

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)

from backchannel.collectors.bounded import CHUNK, read_bounded, readable_json
from backchannel.collectors.deadline import deadline_of, mount_deadline_adapters, past_deadline
from backchannel.collectors.failures import TooLarge, TooSlow, host_of, network_problem
from backchannel.collectors.mastodon.normalize import parse_datetime
from backchannel.collectors.retry import Bounds, Pacer
from backchannel.errors import (
    AuthRequiredError,
    MalformedResponseError,
    RetriesExhaustedError,
    SourceError,
)
from backchannel.sanitize import parse_json

log = logging.getLogger(__name__)

AUTH_STATUSES = (401, 403, 422)
DEADLINE_TRIES = 2  # a request that runs out its deadline is tried once more, no more
# Mastodon.py's name-mangled cache of GET /api/v2/instance/ (see _settle_instance_check).
_INSTANCE_CACHE = "_Mastodon__instance_v2_cache"


class CountingSession(requests.Session):
    """A session that counts what it sends and keeps the last response it got.

    ``send`` is the one door every request goes through (redirect hops included), so
    counting there is exact. ``last_response`` is cleared before each send, so after a
    failed request it never holds an earlier answer. The body is read there too, within
    the request's deadline and size cap (:mod:`backchannel.collectors.bounded`).
    """

    def __init__(self, bounds: Bounds | None = None) -> None:
        super().__init__()
        self.bounds = bounds or Bounds()
        mount_deadline_adapters(self)
        self.sent = 0
        self.last_response: requests.Response | None = None
        self.rate_limit: dict[str, str] | None = None  # X-RateLimit-* as last sent

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        self.last_response = None
        started = time.monotonic()
        try:
            with deadline_of(started, self.bounds.deadline):  # the headers too
                response = super().send(request, **{**kwargs, "stream": True})
                body = read_bounded(
                    _arriving(response.raw), started, self.bounds.deadline, self.bounds.max_bytes
                )
        except (TooSlow, TooLarge) as exc:
            response.close()
            # Mastodon.py turns this into a MastodonNetworkError; the cause says why.
            raise requests.exceptions.ConnectionError(str(exc), request=request) from exc
        # What requests itself keeps after reading a body; a page one character would
        # make Mastodon.py refuse is made readable first (see readable_json).
        response._content = readable_json(body, response.headers.get("content-type", ""),
                                          str(request.url))  # fmt: skip
        response.raw.release_conn()
        self.last_response = response
        if "X-RateLimit-Remaining" in response.headers:
            self.rate_limit = {
                key: response.headers.get(f"X-RateLimit-{key.capitalize()}", "")
                for key in ("limit", "remaining", "reset")
            }
        return response


def _arriving(raw: Any) -> Iterator[bytes]:
    """The decoded body as it arrives (``read1``: whatever one read of the socket gives,
    so a trickling server cannot hold a whole chunk's read past the deadline)."""
    while True:
        data = raw.read1(CHUNK, decode_content=True)
        if not data:
            return
        yield data


class RawMastodon(Mastodon):
    """Mastodon.py, minus the cost of building objects we never read.

    Mastodon.py casts every response into typed objects, choosing the type from the
    return annotation of the method that made the request (it looks two frames up the
    stack). For a 40-status page that costs about 0.3 s of CPU, and this collector
    reads the raw bytes instead. Declaring ``timeline`` as returning a plain ``list``
    makes the cast a cheap ``list(...)``. Requests, parameters, errors and rate-limit
    handling are untouched; should a future Mastodon.py pick types differently, the
    only effect is the slower cast.
    """

    def timeline(self, *args: Any, **kwargs: Any) -> Any:
        return super().timeline(*args, **kwargs)

    timeline.__annotations__["return"] = list  # a real type, not a postponed string

    @classmethod
    def polite(
        cls,
        base_url: str,
        access_token: str | None,
        user_agent: str,
        timeout: float,
        session: requests.Session,
    ) -> Self:
        """A client that never sleeps on its own and sends nothing until asked."""
        return cls(
            access_token=access_token,
            api_base_url=base_url,  # keeps http:// for loopback servers
            ratelimit_method="throw",  # "wait" can sleep (and retry) forever
            request_timeout=timeout,
            user_agent=user_agent,
            version_check_mode="none",  # no request at construction
            session=session,
        )


class TimelineClient:
    """Reads hashtag timeline pages from one server, politely."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None,
        user_agent: str,
        timeout: float,
        pacer: Pacer,
        config_key: str,
        bounds: Bounds | None = None,
    ) -> None:
        self.base_url = base_url
        self._pacer = pacer
        self._config_key = config_key
        self._session = CountingSession(bounds)
        self._api = RawMastodon.polite(base_url, access_token, user_agent, timeout, self._session)
        self._instance_settled = False
        self._api_checked = False  # whether a 404 for a tag was checked against the API

    @property
    def requests_sent(self) -> int:
        return self._session.sent

    @property
    def rate_limit(self) -> dict[str, str] | None:
        """The server's last ``X-RateLimit-*`` headers (limit, remaining, reset)."""
        return self._session.rate_limit

    def close(self) -> None:
        self._session.close()

    def page(self, tag: str, limit: int, **bounds: str) -> list[dict[str, Any]]:
        """One page of ``#tag`` (``min_id``/``max_id``/``since_id`` in ``bounds``)."""
        tag = unicodedata.normalize("NFC", tag)
        server_errors = rate_limits = too_slow = 0
        while True:
            self._pacer.check()
            try:
                # only_media=false said aloud: Pixelfed takes media posts only
                # otherwise (Mastodon.py leaves a False out; Mastodon's default is the
                # same, so other servers see no difference).
                self._api.timeline_hashtag(tag, limit=limit, only_media="false", **bounds)
                return self._body()
            except MastodonRatelimitError:
                rate_limits += 1
                if rate_limits > self._pacer.policy.attempts:
                    raise RetriesExhaustedError(
                        f"{host_of(self.base_url)}: rate limited (HTTP 429) "
                        f"{rate_limits} times in a row; try again later"
                    ) from None
                self._pacer.rate_limited(self._reset_at(), f"{self.base_url} answered 429")
                continue
            except MastodonNotFoundError:
                # The docs promise 404 for a tag nobody used (the code answers []); a
                # web server that is not Mastodon answers 404 too. Which one is asked
                # once: a source must never collect "ok" with 0 posts from a non-server.
                if not self._api_checked:
                    self._api_checked = True
                    self.server_version()  # raises "not a Mastodon server (HTTP 404 ...)"
                return []
            except (MastodonServerError, MastodonNetworkError) as exc:
                server_errors += 1
                reason = _describe(exc)
                too_slow += past_deadline(exc)
                if too_slow >= DEADLINE_TRIES:  # a server that drips: not five times over
                    raise RetriesExhaustedError(
                        f"{host_of(self.base_url)}: {reason}, {too_slow} times in a row",
                        detail=f"{self.base_url}: {exc}",
                    ) from exc
                if server_errors >= self._pacer.policy.attempts:
                    raise RetriesExhaustedError(
                        f"{host_of(self.base_url)}: {reason}",
                        detail=f"{self.base_url}: {exc}, {server_errors} tries in a row",
                    ) from exc
                self._pacer.backoff(server_errors, f"{self.base_url}: {reason}")
                continue
            except MastodonAPIError as exc:
                raise self._api_error(exc) from exc
            finally:
                self._settle_instance_check()

    def server_version(self) -> str:
        """The server's software version from ``/api/v1/instance``: is this Mastodon?"""
        host = host_of(self.base_url)
        try:
            self._api.instance_v1()
        except MastodonNetworkError as exc:
            raise SourceError(f"{host}: {network_problem(exc)}", detail=str(exc)) from exc
        except MastodonAPIError as exc:
            status = _status_code(exc, self._session.last_response)
            if status == 404:
                raise SourceError(
                    f"{host}: not a Mastodon server (HTTP 404 for /api/v1/instance)"
                ) from exc
            raise SourceError(
                f"{host}: /api/v1/instance answered HTTP {status}", detail=str(exc)
            ) from exc
        response = self._session.last_response
        try:
            body = parse_json(response.content) if response is not None else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MalformedResponseError(f"{host}: /api/v1/instance is not a JSON object")
        return str(body.get("version") or "unknown version")

    # -- internals ------------------------------------------------------------------

    def _body(self) -> list[dict[str, Any]]:
        """The timeline exactly as sent: parsed from the bytes, not Mastodon.py's objects."""
        response = self._session.last_response
        if response is None:  # cannot happen after a successful call; be loud if it does
            raise MalformedResponseError(f"{host_of(self.base_url)}: no response body was captured")
        try:
            body = parse_json(response.content)
        except ValueError as exc:
            raise MalformedResponseError(
                f"{host_of(self.base_url)}: a timeline page that is not JSON ({exc})"
            ) from exc
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise MalformedResponseError(
                f"{host_of(self.base_url)}: a timeline page that is not a JSON array of statuses"
            )
        return body

    def _api_error(self, exc: MastodonAPIError) -> SourceError:
        status = _status_code(exc, self._session.last_response)
        message = _error_message(exc)
        if status in AUTH_STATUSES:
            return AuthRequiredError(
                f"{host_of(self.base_url)}: hashtag feeds need an access token "
                f"(HTTP {status}); set {self._config_key}",
                detail=f"{self.base_url} answered HTTP {status}: {message or exc}",
            )
        if status is not None and 200 <= status < 300:
            # Mastodon.py could not parse a successful answer.
            return MalformedResponseError(
                f"{host_of(self.base_url)}: a timeline page that is not JSON"
            )
        return SourceError(
            f"{host_of(self.base_url)} refused the hashtag timeline (HTTP {status}: {message or exc})"
        )

    def _reset_at(self) -> float | None:
        return reset_at(self._session.last_response, self.base_url)

    def _settle_instance_check(self) -> None:
        """Make Mastodon.py's hidden ``GET /api/v2/instance/`` happen once per client.

        Before every timeline call Mastodon.py asks for the instance (to warn when a
        feed looks closed) and caches only a *successful* answer; on a server without
        the v2 endpoint (Mastodon < 4.0 and most forks) it would ask again before every
        page, doubling the requests. Its answer only feeds that warning, and on failure
        Mastodon.py assumes "available" anyway, so after the first try we cache that
        assumption ourselves.
        """
        if self._instance_settled:
            return
        self._instance_settled = True
        if getattr(self._api, _INSTANCE_CACHE, "missing") is None:
            log.info("%s did not answer /api/v2/instance/; not asking again", self.base_url)
            everything = {"local": "public", "remote": "public"}
            setattr(
                self._api,
                _INSTANCE_CACHE,
                {"configuration": {"timelines_access": {"hashtag_feeds": everything}}},
            )


def _status_code(exc: MastodonAPIError, response: requests.Response | None) -> int | None:
    # Mastodon.py's errors carry ('Mastodon API returned error', status, reason, error).
    if len(exc.args) > 1 and isinstance(exc.args[1], int):
        return exc.args[1]
    return response.status_code if response is not None else None


def _error_message(exc: MastodonAPIError) -> str:
    if len(exc.args) > 3 and exc.args[3]:
        return str(exc.args[3])
    return ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, MastodonServerError) and len(exc.args) > 2:
        return f"HTTP {exc.args[1]} {exc.args[2]}"
    return network_problem(exc)


def reset_at(response: requests.Response | None, base_url: str) -> float | None:
    """When the rate limit resets, as an epoch time on *our* clock, if the server said.

    ``X-RateLimit-Reset`` is the server's clock, so it is read relative to the
    server's ``Date``; ``Retry-After`` (seconds or an HTTP date) is honoured too.
    """
    if response is None:
        return None
    headers = response.headers
    retry_after = headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return time.time() + int(retry_after)
        try:
            return parsedate_to_datetime(retry_after).timestamp()
        except (TypeError, ValueError):
            log.debug("unusable Retry-After header %r", retry_after)
    reset = headers.get("X-RateLimit-Reset")
    if not reset:
        return None
    try:
        when = float(reset) if reset.strip().isdigit() else parse_datetime(reset).timestamp()
    except ValueError:
        log.warning("%s sent an unusable X-RateLimit-Reset %r", base_url, reset)
        return None
    try:
        server_now = parsedate_to_datetime(headers["Date"]).astimezone(UTC).timestamp()
    except (KeyError, TypeError, ValueError):
        return when
    skew = time.time() - server_now
    # ``Date`` has whole seconds only: correct for a clock that is really off, not
    # for the truncation (which would add up to a second to every wait).
    return when + skew if abs(skew) > 2 else when
