"""Rechecking archived statuses at one Mastodon server, over Mastodon.py (no database).

:meth:`StatusChecker.check` takes the server's local ids of archived statuses and
answers, per id, the status as the server now sends it (raw JSON), or ``None`` when
the server no longer serves it (platform-apis.md A5):

* ``GET /api/v1/statuses?id[]=...`` (Mastodon 4.3+), 20 ids a request: ids that
  are missing or inaccessible are simply absent from the answer. One request per
  batch of 20.
* A server without the batch endpoint answers 404, 422 or another 4xx (or a body
  that is not a list): the checker says so in the log and asks ``GET
  /api/v1/statuses/:id`` one at a time from then on, 404 or 410 meaning absent.
* 401 or 403 on a single status (authorized fetch, limited federation) is *unknown*,
  never absent; so are errors that outlast the retries: such ids are left out of the
  answer, and the caller leaves those posts as they are.

A 404 here speaks for this server only: :mod:`backchannel.collect.rechecking` decides what
counts as deleted. Retries, 429 waits and stops are those of the collectors.
"""

from __future__ import annotations

import logging
from typing import Any

from mastodon import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)

from backchannel.collectors.failures import host_of, network_problem
from backchannel.collectors.mastodon.client import CountingSession, RawMastodon, reset_at
from backchannel.collectors.retry import Bounds, Pacer
from backchannel.errors import RetriesExhaustedError
from backchannel.sanitize import parse_json

log = logging.getLogger(__name__)

BATCH = 20  # Api::V1::StatusesController#check_statuses_limit


class _CheckMastodon(RawMastodon):
    """Mastodon.py without its object casting for the two calls a recheck makes."""

    def statuses(self, *args: Any, **kwargs: Any) -> Any:
        return super().statuses(*args, **kwargs)

    def status(self, *args: Any, **kwargs: Any) -> Any:
        return super().status(*args, **kwargs)

    statuses.__annotations__["return"] = list
    status.__annotations__["return"] = dict


class _Unsupported(Exception):
    """The server has no batch endpoint."""


class StatusChecker:
    """Asks one server about archived statuses. Not shared between threads."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None,
        user_agent: str,
        timeout: float,
        pacer: Pacer,
        bounds: Bounds | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._pacer = pacer
        self._session = CountingSession(bounds)
        self._api = _CheckMastodon.polite(
            self.base_url, access_token, user_agent, timeout, self._session
        )
        self.batch_supported: bool | None = None  # None: not tried yet
        self.unknown = 0  # ids the server would not answer about

    @property
    def requests(self) -> int:
        return self._session.sent

    def close(self) -> None:
        self._session.close()

    def check(self, native_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """``{id: raw status or None (absent)}``; ids it could not learn are left out."""
        answers: dict[str, dict[str, Any] | None] = {}
        ids = list(dict.fromkeys(native_ids))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            if self.batch_supported is not False:
                try:
                    found = self._batch(chunk)
                except _Unsupported as exc:
                    log.info(
                        "%s has no batch status check (%s); asking one by one", self.base_url, exc
                    )
                    self.batch_supported = False
                else:
                    self.batch_supported = True
                    answers.update({i: found.get(i) for i in chunk})
                    continue
            for native_id in chunk:
                try:
                    answers[native_id] = self._single(native_id)
                except _Unknown as exc:
                    self.unknown += 1
                    log.info("%s: status %s unknown (%s)", self.base_url, native_id, exc)
        return answers

    # -- requests ---------------------------------------------------------------------

    def _batch(self, chunk: list[str]) -> dict[str, dict[str, Any]]:
        try:
            self._call(lambda: self._api.statuses(chunk))
        except MastodonAPIError as exc:  # 404, 422 and other 4xx: no batch endpoint
            raise _Unsupported(_status_text(exc)) from exc
        body = self._body()
        if not isinstance(body, list):
            raise _Unsupported("the answer is not a list")
        return {
            str(item["id"]): item
            for item in body
            if isinstance(item, dict) and isinstance(item.get("id"), str | int)
        }

    def _single(self, native_id: str) -> dict[str, Any] | None:
        try:
            self._call(lambda: self._api.status(native_id))
        except MastodonNotFoundError:
            return None
        except MastodonAPIError as exc:
            if _status(exc) == 410:
                return None
            raise _Unknown(_status_text(exc)) from exc
        except RetriesExhaustedError as exc:
            raise _Unknown(str(exc)) from exc
        body = self._body()
        if not isinstance(body, dict):
            raise _Unknown("the answer is not a status")
        return body

    def _call(self, request: Any) -> None:
        """One request with the collectors' waits: 429 and 5xx/network retried."""
        server_errors = rate_limits = 0
        while True:
            self._pacer.check()
            try:
                request()
                return
            except MastodonRatelimitError:
                rate_limits += 1
                if rate_limits > self._pacer.policy.attempts:
                    raise RetriesExhaustedError(
                        f"{host_of(self.base_url)}: rate limited (HTTP 429); try again later"
                    ) from None
                self._pacer.rate_limited(
                    reset_at(self._session.last_response, self.base_url),
                    f"{self.base_url} answered 429",
                )
            except (MastodonServerError, MastodonNetworkError) as exc:
                server_errors += 1
                if server_errors >= self._pacer.policy.attempts:
                    short = (
                        network_problem(exc)
                        if isinstance(exc, MastodonNetworkError)
                        else _status_text(exc)
                    )
                    raise RetriesExhaustedError(
                        f"{host_of(self.base_url)}: {short}",
                        detail=f"{self.base_url}: {exc}, {server_errors} tries in a row",
                    ) from exc
                self._pacer.backoff(server_errors, f"{self.base_url}: {_status_text(exc)}")

    def _body(self) -> Any:
        response = self._session.last_response
        if response is None:
            return None
        try:
            return parse_json(response.content)
        except ValueError:
            return None


class _Unknown(Exception):
    """The server would not say whether it still has the status."""


def _status(exc: Exception) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _status_text(exc: Exception) -> str:
    status = _status(exc)
    return f"HTTP {status}" if status is not None else str(exc) or type(exc).__name__
