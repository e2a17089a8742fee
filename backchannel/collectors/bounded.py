"""Responses read within a deadline and a size cap, whatever a server sends.

A client library's timeout is per read: a server that sends a byte a second, or an
endless body, keeps a request going for ever and fills memory. Every response body a
collector reads goes through :func:`read_bounded`: once the request has run
``deadline`` seconds (counted from its start, so connecting and the headers count
too), or the body passes ``cap`` bytes, the connection is dropped and the request
fails with :class:`~backchannel.collectors.failures.TooSlow` or
:class:`~backchannel.collectors.failures.TooLarge` behind the library's own error.

* Mastodon.py reads through our ``requests`` session (``mastodon.client``), which
  streams and calls :func:`read_bounded`.
* atproto and the home-server lookups use httpx: :class:`BoundedTransport` is an
  ordinary httpx transport (passed to the client, which atproto lets us do) that
  reads each body the same way.

Memory stays within ``cap`` plus one chunk. A server that is slow before its headers
arrive is held to the same deadline by :mod:`backchannel.collectors.deadline`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import httpx

from backchannel.collectors.deadline import deadline_of, hold_deadlines
from backchannel.collectors.failures import TooLarge, TooSlow
from backchannel.collectors.retry import Bounds
from backchannel.sanitize import repair_json

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


def read_bounded(chunks: Iterable[bytes], started: float, deadline: float, cap: int) -> bytes:
    """Join ``chunks``, refusing to wait past ``started + deadline`` or to hold ``cap``."""
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > cap:
            raise TooLarge(f"the answer was larger than {_size(cap)}")
        if time.monotonic() - started > deadline:
            raise TooSlow(f"no complete answer within {deadline:g} s (the server is too slow)")
    if time.monotonic() - started > deadline:
        raise TooSlow(f"no complete answer within {deadline:g} s (the server is too slow)")
    return bytes(body)


def readable_json(body: bytes, content_type: str, url: str) -> bytes:
    """``body`` as the client libraries can parse it: a JSON answer that a strict parser
    refuses for one character (an escaped lone surrogate, a raw control byte) is
    rewritten with U+FFFD in its place (:func:`~backchannel.sanitize.repair_json`), so
    that one bad item never costs the page; the items it touched are named in the log.
    Anything else is returned as it came."""
    if "json" not in content_type.lower():
        return body
    repaired = repair_json(body)
    if repaired is None:
        return body
    body, named = repaired
    log.warning("%s: text no strict JSON parser accepts (a lone surrogate or a raw control "
                "character) in %s; read with U+FFFD in its place", url.split("?", 1)[0],
                ", ".join(named[:10]) + (f" and {len(named) - 10} more" if len(named) > 10 else ""))  # fmt: skip
    return body


def _size(count: int) -> str:
    return f"{count / 1_000_000:g} MB" if count >= 1_000_000 else f"{count:,} bytes"


class BoundedTransport(httpx.BaseTransport):
    """An httpx transport that reads every body whole within a deadline and a cap."""

    def __init__(self, bounds: Bounds, **transport: object) -> None:
        self.deadline = bounds.deadline
        self.cap = bounds.max_bytes
        self._inner = httpx.HTTPTransport(**transport)  # type: ignore[arg-type]
        hold_deadlines(self._inner._pool)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        with deadline_of(started, self.deadline):
            return self._handle(request, started)

    def _handle(self, request: httpx.Request, started: float) -> httpx.Response:
        raw = self._inner.handle_request(request)
        # Decoded here (gzip and friends), so that the cap holds for what is kept.
        decoding = httpx.Response(raw.status_code, headers=raw.headers, stream=raw.stream,
                                  request=request)  # fmt: skip
        try:
            # No chunk size: each piece as it arrives (a size would wait to fill it).
            content = read_bounded(decoding.iter_bytes(), started, self.deadline, self.cap)
        except TooSlow as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except TooLarge as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        finally:
            decoding.close()
        content = readable_json(content, raw.headers.get("content-type", ""), str(request.url))
        headers = [(k, v) for k, v in raw.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length")]  # fmt: skip
        return httpx.Response(
            raw.status_code,
            headers=headers,
            content=content,
            extensions=raw.extensions,
            request=request,
        )

    def close(self) -> None:
        self._inner.close()
