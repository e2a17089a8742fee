"""A small threaded HTTP server for the sandbox, with fault injection.

Both sandbox platforms (Mastodon, Bluesky) build on :class:`SandboxServer`: they
register routes and format their own rate-limit headers and errors; this module does
the socket work, the request log and the faults that tests switch on:

* ``faults.latency``: seconds added to every request;
* ``faults.add(Fault(...))``: one-shot faults for the next N matching requests:
  a 5xx burst, a 429 with a reset time, a malformed JSON body, an auth-required
  answer, or a connection dropped half-way through the response.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from backchannel.errors import SandboxError

log = logging.getLogger(__name__)

FAULT_KINDS = ("status", "ratelimit", "malformed", "auth", "drop", "raw_controls")
# A JSON escape of a C0 control character (not one whose backslash is itself escaped).
_CONTROL_ESCAPE = re.compile(rb"(?<!\\)\\u00([01][0-9a-fA-F])")


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    target: str = ""  # path and query exactly as requested

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialised unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        # A lone surrogate (hostile-input tests put them in strings) cannot be UTF-8:
        # "backslashreplace" writes it as the JSON escape \udXXX, which is what a
        # server that sends one puts on the wire.
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def raw_controls(body: bytes) -> bytes:
    """``body`` with every escaped control character written as the raw byte."""
    return _CONTROL_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), body)


@dataclass
class Fault:
    """A one-shot fault for the next ``times`` requests whose path starts with ``path``.

    kind ``status``: answer ``status`` (default 503) with a JSON error body.
    kind ``ratelimit``: answer 429 and say the budget resets in ``reset_in`` seconds.
    kind ``malformed``: answer 200 with a body that is not valid JSON.
    kind ``auth``: answer as the platform does when it wants a token.
    kind ``drop``: send the headers and half the body, then close the connection.
    kind ``raw_controls``: the answer as usual, but each control character a string
    holds sent as the raw byte, not its escape (JSON forbids it; some servers do it).
    """

    kind: str
    times: int = 1
    path: str = "/"
    status: int = 503
    reset_in: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")


class Faults:
    """The fault switches of one server. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.latency: float = 0.0

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.latency = 0.0

    def take(self, path: str) -> Fault | None:
        """The fault that applies to this request, if any, spending one of its uses."""
        with self._lock:
            for fault in self._queue:
                if path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._queue.remove(fault)
                    return fault
        return None


class RateBudget:
    """A real request budget: ``limit`` requests per ``window`` seconds, then 429."""

    def __init__(self, limit: int = 300, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._reset_at = time.time() + window
        self.remaining = limit

    def spend(self) -> bool:
        """Count one request. False when the budget is spent (answer 429)."""
        with self._lock:
            now = time.time()
            if now >= self._reset_at:
                self._reset_at = now + self.window
                self.remaining = self.limit
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def exhaust_for(self, seconds: float) -> None:
        """Spend the whole budget now, to be refilled in ``seconds``."""
        with self._lock:
            self.remaining = 0
            self._reset_at = time.time() + seconds

    @property
    def reset_at(self) -> float:
        return self._reset_at


Handler = Callable[[Request], Response]


class SandboxServer:
    """Base of a sandbox platform server. Subclasses register routes in ``routes()``.

    A subclass overrides :meth:`fault_response` for the kinds whose shape is
    platform-specific (``ratelimit`` and ``auth``) and :meth:`decorate` to add its
    rate-limit headers to every answer.
    """

    name = "sandbox"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.faults = Faults()
        self.budget = RateBudget()
        self.request_log: list[tuple[str, str]] = []  # (method, path?query)
        self._log_lock = threading.Lock()
        self._routes: list[tuple[str, str, Handler, bool]] = []
        self._host = host
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.routes()

    # -- to override --------------------------------------------------------------

    def routes(self) -> None:
        """Register the routes with :meth:`route`."""

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "ratelimit":
            return Response(429, {"error": "Too many requests"})
        if fault.kind == "auth":
            return Response(401, {"error": "The access token is invalid"})
        return Response(fault.status, {"error": "Service Unavailable"})

    def decorate(self, request: Request, response: Response) -> None:
        """Add headers every answer carries (rate limits, for instance)."""

    def rate_limited(self, request: Request) -> Response:
        return Response(429, {"error": "Too many requests"})

    # -- routing ------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler, *, metered: bool = True) -> None:
        """Register ``handler`` for ``method`` and ``path``.

        ``path`` is matched exactly, or as a prefix when it ends in ``*``; the rest of
        the path is then in ``request.path``. ``metered=False`` keeps the route out of
        the rate budget: real servers hand media files to a web server or CDN that
        the API's rate limiter never sees.
        """
        self._routes.append((method, path, handler, metered))

    def _find(self, method: str, path: str) -> tuple[Handler, bool] | None:
        for route_method, pattern, handler, metered in self._routes:
            if route_method != method:
                continue
            if pattern.endswith("*") and path.startswith(pattern[:-1]):
                return handler, metered
            if path == pattern:
                return handler, metered
        return None

    def handle(self, request: Request) -> tuple[Response, Fault | None]:
        with self._log_lock:
            self.request_log.append((request.method, request.target or request.path))
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self.faults.take(request.path)
        if fault is not None and fault.kind in ("status", "ratelimit", "auth"):
            if fault.kind == "ratelimit":
                self.budget.exhaust_for(fault.reset_in)
            response = self.fault_response(fault, request)
            self.decorate(request, response)
            return response, None
        found = self._find(request.method, request.path)
        if found is None:
            response = Response(404, {"error": "Not Found"})
        elif found[1] and not self.budget.spend():
            response = self.rate_limited(request)
        else:
            response = found[0](request)
        self.decorate(request, response)
        return response, fault  # malformed / drop are applied while writing

    def requests_to(self, prefix: str) -> list[str]:
        """Logged request targets whose path starts with ``prefix``."""
        with self._log_lock:
            return [target for _, target in self.request_log if target.startswith(prefix)]

    # -- lifecycle ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise SandboxError(f"{self.name} server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without TCP_NODELAY, Nagle
                # plus delayed ACKs add ~40 ms to many keep-alive requests.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("%s: " + format, server.name, *args)

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    target=self.path,
                )
                response, fault = server.handle(request)
                body = response.encoded()
                if fault is not None and fault.kind == "malformed":
                    body = body[: max(1, len(body) // 2)] or b"{"
                    body = b'{"unterminated": ' + body
                if fault is not None and fault.kind == "raw_controls":
                    body = raw_controls(body)
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fault is not None and fault.kind == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        log.debug("connection already closed while dropping it")
                    return
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up first (a timeout test, say): nothing to answer.
                    self.close_connection = True
                    log.debug("%s: client closed the connection before the answer", server.name)

            do_GET = _serve
            do_POST = _serve

        httpd = self._httpd = ThreadingHTTPServer((self._host, self._port), _Handler)
        httpd.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval: stop() waits for the loop to notice, once per test.
            target=lambda: httpd.serve_forever(poll_interval=0.05),
            name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()
        log.debug("%s listening on %s", self.name, self.base_url)
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
