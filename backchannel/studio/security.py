"""What keeps the studio to the person who started it.

* **Host check** (:class:`Guard`): a request whose ``Host`` header is not one the studio
  serves (``127.0.0.1:<port>``, ``localhost:<port>``) is refused, so a web page whose
  domain an attacker points at 127.0.0.1 (DNS rebinding) cannot read or drive it.
* **Headers** on every answer: a Content-Security-Policy with no inline script and
  nothing from elsewhere, no framing, no sniffing, no referrer.
* **Sessions** are rows on the server (:mod:`backchannel.studio.sessions`), opened by
  a sign-in link that works once (:mod:`backchannel.studio.links`) or a name and
  password (:mod:`backchannel.studio.accounts`); every route needs the role it
  declares (:mod:`backchannel.studio.roles`).
* **CSRF**: every state-changing request carries the session's CSRF token in its form,
  compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from backchannel import export

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
# The exported archive's policy (export/robots.py), for the preview and the site:
# its search runs Pagefind's WebAssembly.
ARCHIVE_CSP = f"{export.CSP}; frame-ancestors 'none'"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


class Guard:
    """ASGI middleware: the Host check, then the security headers on every answer."""

    def __init__(self, app: Any, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            response = PlainTextResponse(
                "This address is not the studio's: open the one `backchannel studio` printed.",
                status_code=421,
                headers=HEADERS,
            )
            await response(scope, receive, send)
            return

        wanted = HEADERS
        if scope["path"].startswith(("/preview/", "/site/")):  # the archive's own pages
            wanted = {**HEADERS, "content-security-policy": ARCHIVE_CSP}

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in wanted]  # fmt: skip
                headers += [(k.encode(), v.encode()) for k, v in wanted.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two secrets; False when either is missing."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def who(request: Request) -> str | None:
    value = request.session.get("who")
    return value if isinstance(value, str) else None


def role(request: Request) -> str | None:
    value = request.session.get("role")
    return value if value in ("organiser", "curator") else None


def csrf_token(request: Request) -> str:
    return str(request.session.get("csrf", ""))


def refused(message: str, status: int = 403) -> Response:
    return PlainTextResponse(message, status_code=status)
