"""A logged-in atproto client that stays logged in, and XRPC calls that wait politely.

``createSession`` is tightly rate-limited (30 per 5 minutes, 300 per day per handle),
so a session is made once and reused: it is kept in ``session_path`` as JSON
``{"service", "handle", "session"}`` (``session`` is the SDK's session string), a file
created with mode 0600 from the start and replaced atomically. The SDK refreshes the
access token 15 minutes before it expires and tells us through its session-change
callback, so the file always holds the newest tokens. A session the server calls
expired (``ExpiredToken``) leads to one fresh login with the app password.

A wrong password or a missing one is a :class:`LoginError` naming the config key,
after exactly one ``createSession`` attempt. Errors while calling:

* 429: wait until ``ratelimit-reset`` (capped by the policy, logged), then retry;
* 5xx, 502/``UpstreamFailure``, timeouts and transport errors: capped exponential
  backoff, at most ``policy.attempts`` tries in all, then :class:`RetriesExhaustedError`;
* a body that is not a JSON object: :class:`MalformedResponseError`, no retry.

This module imports atproto (about 1 s): import it only where Bluesky is collected.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from atproto import Client, Session, SessionEvent
from atproto_client import exceptions as ax
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError
from atproto_server.exceptions import InvalidTokenError

from backchannel.collectors.bounded import BoundedTransport
from backchannel.collectors.deadline import past_deadline
from backchannel.collectors.failures import host_of, network_problem
from backchannel.collectors.retry import Bounds, Pacer
from backchannel.errors import (
    AuthRequiredError,
    LoginError,
    MalformedResponseError,
    RetriesExhaustedError,
    SourceError,
)

log = logging.getLogger(__name__)

# XRPC error names that mean "your tokens are no good": log in again, once per call.
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})
TRANSIENT_ERRORS = frozenset({"UpstreamFailure", "UpstreamTimeout", "InternalServerError"})
DEADLINE_TRIES = 2  # a request that runs out its deadline is tried once more, no more


def _error_name(exc: ax.RequestErrorBase) -> str:
    content = exc.response.content if exc.response is not None else None
    return content.error if isinstance(content, XrpcError) and content.error else ""


def _describe(exc: BaseException) -> str:
    """One line about an error; the SDK's transport errors are empty without their cause."""
    return str(exc) or repr(exc.__cause__ or exc)


def _short(failure: Exception) -> str:
    """A few words for a failure that outlasted the retries."""
    if isinstance(failure, ax.RateLimitExceededError):
        return "rate limited (HTTP 429) on every try; try again later"
    status = _status(failure) if isinstance(failure, ax.RequestErrorBase) else None
    if status is not None:
        return f"HTTP {status} on every try (the server is failing)"
    return network_problem(failure)


def _status(exc: ax.RequestErrorBase) -> int | None:
    return exc.response.status_code if exc.response is not None else None


def _reset_at(exc: ax.RequestErrorBase) -> float | None:
    """Epoch seconds from ``ratelimit-reset`` (or ``retry-after``), when sent."""
    headers = exc.response.headers if exc.response is not None else {}
    try:
        if "ratelimit-reset" in headers:
            return float(headers["ratelimit-reset"])
        if "retry-after" in headers:
            return time.time() + float(headers["retry-after"])
    except ValueError:  # an HTTP-date or junk: fall back to the backoff cap
        return None
    return None


class BlueskySession:
    """One atproto Client for one account at one service. Not thread-safe."""

    def __init__(
        self,
        service: str,
        handle: str,
        password: str | None,
        session_path: Path | None,
        *,
        config_key: str,
        password_env: str | None,
        user_agent: str,
        timeout: float,
        pacer: Pacer,
        bounds: Bounds | None = None,
    ) -> None:
        self.service = service.rstrip("/")
        self.handle = handle.strip().lstrip("@")
        self._password = password
        self.session_path = session_path
        self.config_key = config_key
        self.password_env = password_env
        self.pacer = pacer
        self.requests = 0  # every HTTP request, login and token refreshes included
        self.logins = 0  # createSession attempts
        self.rate_limit: dict[str, str] | None = None  # ratelimit-* headers as last sent
        request = Request(
            timeout=timeout,
            transport=BoundedTransport(bounds or Bounds()),
            event_hooks={"request": [self._count], "response": [self._note_rate_limit]},
        )
        request.add_additional_header("User-Agent", user_agent)
        self.client = Client(base_url=self.service, request=request)
        self.client.on_session_change(self._on_session_change)
        self._logged_in = False

    def _count(self, _request: httpx.Request) -> None:
        self.requests += 1

    def _note_rate_limit(self, response: httpx.Response) -> None:
        if "ratelimit-remaining" in response.headers:
            self.rate_limit = {
                key: response.headers.get(f"ratelimit-{key}", "")
                for key in ("limit", "remaining", "reset")
            }

    def close(self) -> None:
        self.client.request.close()

    # -- the session file --------------------------------------------------------------

    def _on_session_change(self, event: SessionEvent, session: Session) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            self._save(session.export())

    def _save(self, session_string: str) -> None:
        if self.session_path is None:
            return
        path = self.session_path
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {"service": self.service, "handle": self.handle, "session": session_string}
        )
        # mkstemp creates the file 0600 in the same directory: never readable by others,
        # not even briefly, and os.replace makes the switch atomic.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        log.debug("saved the Bluesky session to %s", path)

    def _load(self) -> str | None:
        """The stored session string when it fits this service and handle and is usable."""
        path = self.session_path
        if path is None or not path.exists():
            return None
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                log.warning("%s was readable by others; setting it to 0600", path)
                path.chmod(0o600)
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("service") != self.service:
                log.info("stored Bluesky session is for another service; logging in again")
                return None
            if str(stored.get("handle", "")).casefold() != self.handle.casefold():
                log.info("stored Bluesky session is for another handle; logging in again")
                return None
            session = Session.decode(stored["session"])
            refresh_exp = session.refresh_jwt_payload.exp
            if not session.access_jwt_payload.exp or not refresh_exp:
                return None
            if refresh_exp <= time.time() + 60:
                log.info("stored Bluesky session has expired; logging in again")
                return None
            return stored["session"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, AtProtocolError) as exc:
            log.warning("cannot use the stored Bluesky session in %s (%s)", path, exc)
            return None

    # -- logging in --------------------------------------------------------------------

    def ensure_login(self) -> None:
        """Be logged in: reuse the stored session, or log in with the app password."""
        if self._logged_in:
            return
        stored = self._load()
        if stored is not None:
            self.client.login(session_string=stored, fetch_bsky_profile=False)
            self._logged_in = True
            log.info("reusing the stored Bluesky session for %s", self.handle)
            return
        self.password_login()

    def _missing(self, what: str) -> LoginError:
        env = f" (environment variable {self.password_env})" if self.password_env else ""
        return LoginError(
            f"Bluesky login for {self.handle or '?'}: {what}; check {self.config_key}{env}"
        )

    def password_login(self) -> None:
        """createSession with handle and app password. Never retried on a refusal."""
        if not self.handle:
            raise self._missing("no handle is configured (bluesky.handle)")
        if not self._password:
            raise self._missing("the app password is not set")
        attempt = 0
        while True:
            self.pacer.check()
            self.logins += 1
            try:
                self.client.login(self.handle, self._password, fetch_bsky_profile=False)
                self._logged_in = True
                log.info("logged in to Bluesky as %s", self.handle)
                return
            except ax.RateLimitExceededError as exc:
                attempt += 1
                if attempt >= self.pacer.policy.attempts:
                    raise SourceError(f"Bluesky createSession is rate-limited ({exc})") from exc
                self.pacer.rate_limited(_reset_at(exc), "Bluesky createSession")
            except (ax.UnauthorizedError, ax.BadRequestError) as exc:
                raise self._missing(
                    f"{self.service} refused the login ({exc}); check bluesky.handle"
                ) from exc
            except (ax.NetworkError, ax.RequestException, httpx.HTTPError) as exc:
                attempt += 1
                if attempt >= self.pacer.policy.attempts:
                    raise RetriesExhaustedError(
                        f"{host_of(self.service)}: {network_problem(exc)}",
                        detail=f"Bluesky login at {self.service}: {_describe(exc)}",
                    ) from exc
                self.pacer.backoff(attempt, f"Bluesky login: {_describe(exc)}")

    # -- calling -----------------------------------------------------------------------

    def query(self, nsid: str, params: Any) -> dict[str, Any]:
        """GET ``nsid`` with ``params`` (an SDK Params model); the raw JSON object."""
        attempt = too_slow = 0
        relogged = False
        while True:
            self.pacer.check()
            self.ensure_login()
            failure: Exception
            try:
                response = self.client.invoke_query(nsid, params=params)
            except ax.RateLimitExceededError as exc:
                failure = exc
            except (ax.BadRequestError, ax.UnauthorizedError) as exc:
                name = _error_name(exc)
                if name in TOKEN_ERRORS and not relogged:
                    log.info("Bluesky says %s; logging in again", name)
                    relogged = True
                    self.password_login()
                    continue
                if name not in TRANSIENT_ERRORS | {"ExpiredToken"}:
                    if isinstance(exc, ax.UnauthorizedError):
                        raise AuthRequiredError(
                            f"Bluesky {self.service} refused {nsid} ({exc}); check "
                            f"bluesky.handle and {self.config_key}"
                        ) from exc
                    raise SourceError(f"Bluesky {nsid} failed: {exc}") from exc
                failure = exc
            except (ax.LoginRequiredError, InvalidTokenError):
                # The SDK could not read our access token's expiry: start afresh.
                if relogged:
                    raise SourceError(f"Bluesky {nsid}: the session is unusable") from None
                relogged = True
                self.password_login()
                continue
            except ax.NetworkError as exc:
                failure = exc
            except ax.RequestException as exc:
                status = _status(exc)
                if status is None or status < 500:
                    raise SourceError(f"Bluesky {nsid} failed: {exc}") from exc
                failure = exc
            except httpx.HTTPError as exc:  # e.g. RemoteProtocolError, which the SDK passes on
                failure = exc
            except ValueError as exc:  # pydantic_core.from_json on a body that is not JSON
                raise MalformedResponseError(
                    f"Bluesky {nsid}: the body is not JSON ({exc})"
                ) from exc
            else:
                content = response.content
                if not isinstance(content, dict):
                    raise MalformedResponseError(
                        f"Bluesky {nsid}: expected a JSON object, got {type(content).__name__}"
                    )
                return content
            reason = f"{nsid}: {_describe(failure)}"
            attempt += 1
            too_slow += past_deadline(failure)
            if too_slow >= DEADLINE_TRIES:  # a server that drips: not five times over
                raise RetriesExhaustedError(
                    f"{host_of(self.service)}: {network_problem(failure)}, {too_slow} times "
                    "in a row", detail=f"Bluesky {reason}",
                ) from failure  # fmt: skip
            if attempt >= self.pacer.policy.attempts:
                raise RetriesExhaustedError(
                    f"{host_of(self.service)}: {_short(failure)}",
                    detail=f"Bluesky {nsid}: gave up after {attempt} tries ({reason})",
                ) from failure
            if isinstance(failure, ax.RateLimitExceededError):
                self.pacer.rate_limited(_reset_at(failure), f"{nsid} answered 429")
            else:
                self.pacer.backoff(attempt, reason)
