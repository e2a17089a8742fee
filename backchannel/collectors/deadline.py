"""A request's deadline held on every read of its socket, headers included.

:mod:`backchannel.collectors.bounded` reads a body within the request's deadline, but
the libraries wait for the status line and headers themselves, with a timeout that
restarts at every byte: a server that sends its headers a byte every few seconds holds
a request for ever. Here each read of the socket waits at most what is left of the
deadline of the request this thread is making (:func:`deadline_of`), and one past it
fails with :class:`~backchannel.collectors.failures.TooSlow` behind the library's own
timeout error.

* ``requests`` (Mastodon.py): :func:`mount_deadline_adapters` gives a session adapters
  whose connections read through :class:`_DeadlineReader`.
* httpx (atproto, lookups, media): :func:`hold_deadlines` wraps the network backend of
  a transport's connection pool (httpcore's ``network_backend``).
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpcore
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from backchannel.collectors.budget import budget_end
from backchannel.collectors.failures import TooSlow, error_chain

_current = threading.local()


@contextlib.contextmanager
def deadline_of(started: float, seconds: float) -> Iterator[None]:
    """While the block runs, this thread's socket reads end at ``started + seconds``, or
    at the end of the thread's budget (:mod:`backchannel.collectors.budget`) if sooner."""
    outer = getattr(_current, "deadline", None)
    until = started + seconds
    budget = budget_end()
    if budget is not None and budget < until:
        until, seconds = budget, max(0.0, budget - started)
    _current.deadline = (until, seconds)
    try:
        yield
    finally:
        _current.deadline = outer


def _remaining() -> tuple[float, float, float] | None:
    """(seconds left, the deadline's length, its moment) of this thread's request, if
    it has one; :class:`TooSlow` if that moment has passed."""
    current = getattr(_current, "deadline", None)
    if current is None:
        return None
    until, seconds = current
    left = until - time.monotonic()
    if left <= 0:
        raise _too_slow(seconds)
    return left, seconds, until


def _too_slow(seconds: float) -> TooSlow:
    return TooSlow(f"no complete answer within {seconds:g} s (the server is too slow)")


def _past(current: tuple[float, float, float]) -> TooSlow | None:
    """The error to give for a read that timed out, if it did so at the deadline."""
    return _too_slow(current[1]) if time.monotonic() >= current[2] else None


# -- requests / urllib3 -----------------------------------------------------------------


class _DeadlineReader(socket.SocketIO):
    """What ``http.client`` reads a response from: the socket, each read within the
    deadline (the socket's own timeout still applies when it is shorter)."""

    def readinto(self, buffer: Any) -> int:
        current = _remaining()
        if current is None:
            return super().readinto(buffer)
        usual = self._sock.gettimeout()
        self._sock.settimeout(current[0] if usual is None else min(usual, current[0]))
        try:
            return super().readinto(buffer)
        except TimeoutError as exc:
            raise (_past(current) or exc) from exc
        finally:
            self._sock.settimeout(usual)


class _DeadlineSocket:
    """The connection's socket, but ``makefile("rb")`` reads through the deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)
        # As socket.makefile does: the file holds a reference, so that closing the
        # connection (http.client does, for "Connection: close") keeps the socket open
        # until the response is read.
        reader = _DeadlineReader(self._sock, "rb")
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        return io.BufferedReader(reader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)  # type: ignore[assignment]


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)  # type: ignore[assignment]


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPPool,
            "https": _DeadlineHTTPSPool,
        }


def mount_deadline_adapters(session: requests.Session) -> None:
    """Make every connection of ``session`` hold the deadline of :func:`deadline_of`."""
    session.mount("https://", _DeadlineAdapter())
    session.mount("http://", _DeadlineAdapter())


# -- httpx / httpcore -------------------------------------------------------------------


class _PastDeadline(httpcore.ReadTimeout):
    """httpcore's read timeout, holding the :class:`TooSlow` in its arguments: httpcore's
    pool re-raises ``from None``, which drops a cause, and the failure's words (see
    :func:`~backchannel.collectors.failures.network_problem`) come from the TooSlow."""

    def __init__(self, too_slow: TooSlow) -> None:
        super().__init__(str(too_slow), too_slow)

    def __str__(self) -> str:
        return str(self.args[0])


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            current = _remaining()
        except TooSlow as exc:  # as httpcore's own errors, which httpx knows
            raise _PastDeadline(exc) from exc
        if current is None:
            return self._inner.read(max_bytes, timeout)
        try:
            return self._inner.read(max_bytes, _shorter(timeout, current[0]))
        except httpcore.ReadTimeout:
            too_slow = _past(current)
            if too_slow is None:
                raise
            raise _PastDeadline(too_slow) from too_slow

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Any = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        try:
            current = _remaining()
        except TooSlow as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        if current is not None:
            timeout = _shorter(timeout, current[0])
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def hold_deadlines(pool: Any) -> None:
    """Make the connections of an httpcore ``ConnectionPool`` hold :func:`deadline_of`.

    httpx builds the pool without letting a caller choose its network backend, so the
    backend it made is wrapped in place (``test_bounded_network`` fails if httpcore
    ever renames the attribute)."""
    pool._network_backend = _DeadlineBackend(pool._network_backend)


def past_deadline(exc: BaseException) -> bool:
    """Whether ``exc`` (a library's timeout error) was this module's deadline."""
    return any(isinstance(error, TooSlow) for error in error_chain(exc))


def _shorter(timeout: float | None, left: float) -> float:
    return left if timeout is None else min(timeout, left)
