"""Misskey's own API over plain HTTP (no client library exists for it in Python that
the project would trust): ``POST /api/<endpoint>`` with a JSON body.

Every answer is read within the request's deadline and size cap
(:class:`~backchannel.collectors.bounded.BoundedTransport`) and parsed as a stranger's
JSON (:func:`~backchannel.sanitize.parse_json`). A 429 waits (Misskey says
``info.resetMs``), a 5xx or a network failure is retried with backoff, as the other
collectors do; a 4xx is an error of its own, named with Misskey's error code.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from backchannel.collectors.bounded import BoundedTransport
from backchannel.collectors.deadline import past_deadline
from backchannel.collectors.failures import host_of, network_problem
from backchannel.collectors.retry import Bounds, Pacer
from backchannel.errors import MalformedResponseError, RetriesExhaustedError, SourceError
from backchannel.sanitize import parse_json

log = logging.getLogger(__name__)

DEADLINE_TRIES = 2  # a request that runs out its deadline is tried once more at most


class MisskeyAPIError(SourceError):
    """A 4xx answer: ``code`` is Misskey's (``NO_SUCH_NOTE``, ``INVALID_PARAM``...)."""

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class MisskeyClient:
    """``POST /api/...`` to one Misskey server. Not shared between threads."""

    def __init__(
        self, base_url: str, user_agent: str, timeout: float, pacer: Pacer,
        bounds: Bounds | None = None, access_token: str | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.host = host_of(self.base_url)
        self._pacer = pacer
        self._token = access_token
        self._http = httpx.Client(
            transport=BoundedTransport(bounds or Bounds()), timeout=timeout,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )  # fmt: skip
        self.requests_sent = 0

    def close(self) -> None:
        self._http.close()

    def call(self, endpoint: str, body: dict[str, Any]) -> Any:
        """The parsed answer of ``endpoint`` (``notes/search-by-tag``) to ``body``."""
        if self._token:  # Misskey takes its token in the body (``i``)
            body = {**body, "i": self._token}
        url = f"{self.base_url}/api/{endpoint}"
        failures = rate_limits = too_slow = 0
        while True:
            self._pacer.check()
            self.requests_sent += 1
            try:
                response = self._http.post(url, json=body)
            except httpx.HTTPError as exc:
                failures += 1
                too_slow += past_deadline(exc)
                reason = network_problem(exc)
                if failures >= self._pacer.policy.attempts or too_slow >= DEADLINE_TRIES:
                    raise RetriesExhaustedError(f"{self.host}: {reason}",
                                                detail=f"{url}: {exc}") from exc  # fmt: skip
                self._pacer.backoff(failures, f"{self.host}: {reason}")
                continue
            if response.status_code == 429:
                rate_limits += 1
                if rate_limits > self._pacer.policy.attempts:
                    raise RetriesExhaustedError(f"{self.host}: rate limited (HTTP 429) "
                                                f"{rate_limits} times in a row; try again later")  # fmt: skip
                self._pacer.rate_limited(_reset_at(response), f"{self.host} answered 429")
                continue
            if response.status_code >= 500:
                failures += 1
                reason = f"HTTP {response.status_code} for /api/{endpoint}"
                if failures >= self._pacer.policy.attempts:
                    raise RetriesExhaustedError(f"{self.host}: {reason}")
                self._pacer.backoff(failures, f"{self.host}: {reason}")
                continue
            return self._answer(endpoint, response)

    def _answer(self, endpoint: str, response: httpx.Response) -> Any:
        try:
            body = parse_json(response.content)
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            code = str(error.get("code")) if isinstance(error, dict) else ""
            status = response.status_code
            hint = {401: " (the hashtag feed needs a login here)",
                    403: " (the hashtag feed needs a login here)",
                    404: " (no Misskey API here, although its NodeInfo names a Misskey)"}.get(status, "")  # fmt: skip
            raise MisskeyAPIError(f"{self.host}: /api/{endpoint} answered HTTP {status}"
                                  f"{f' {code}' if code else ''}{hint}", status, code)  # fmt: skip
        if body is None:
            raise MalformedResponseError(f"{self.host}: /api/{endpoint} did not answer JSON")
        return body


def _reset_at(response: httpx.Response) -> float | None:
    """When Misskey says the limit resets: ``error.info.resetMs`` (ms from now)."""
    try:
        body = parse_json(response.content)
        return time.time() + float(body["error"]["info"]["resetMs"]) / 1000
    except (ValueError, KeyError, TypeError):
        retry_after = response.headers.get("retry-after", "")
        return time.time() + int(retry_after) if retry_after.isdigit() else None
