"""Who may open what: every route declares the role it needs where it is routed.

Deny by default: :func:`route` and :func:`mount` have no default role, and a test walks
the application's routes and fails on one whose endpoint does not carry its ``role``.

* ``ANYONE``: the sign-in and sign-out pages and the studio's own static files.
* ``CURATOR``: browse, hide and feature posts, edit stories, preview.
* ``ORGANISER``: everything else, publishing the archive included, because the
  organiser answers for consent.

A route may need one role for reading and another for a change: ``{"GET": CURATOR,
"POST": ORGANISER}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

ANYONE = "anyone"
CURATOR = "curator"
ORGANISER = "organiser"
_RANK = {ANYONE: 0, CURATOR: 1, ORGANISER: 2}

Endpoint = Callable[[Request], Awaitable[Response]]
Needed = str | Mapping[str, str]
# (the request's session data, the role needed) -> None when allowed, else the refusal
Check = Callable[[Request | None, dict[str, Any], str], Response | None]


def allows(held: str | None, needed: str) -> bool:
    """Whether someone signed in as ``held`` (None: no one) may do what needs ``needed``."""
    if needed == ANYONE:
        return True
    return held in _RANK and _RANK[held] >= _RANK[needed]


def needed_for(needed: Needed, method: str) -> str:
    """The role a request of ``method`` needs; a method the mapping does not name needs
    the organiser (HEAD is read as GET)."""
    if isinstance(needed, str):
        return needed
    return needed.get(method, needed.get("GET", ORGANISER) if method == "HEAD" else ORGANISER)


def route(path: str, endpoint: Endpoint, role: Needed, check: Check,
          methods: tuple[str, ...] = ("GET",)) -> Route:  # fmt: skip
    """A route whose endpoint runs only for a session ``check`` lets through."""
    for value in [role] if isinstance(role, str) else role.values():
        if value not in _RANK:
            raise ValueError(f"{path}: {value!r} is not a role")

    async def guarded(request: Request) -> Response:
        refusal = check(request, request.scope.get("session") or {},
                        needed_for(role, request.method))  # fmt: skip
        return refusal if refusal is not None else await endpoint(request)

    guarded.role = role  # type: ignore[attr-defined]  # read by the route walk
    guarded.__name__ = getattr(endpoint, "__name__", "endpoint")
    return Route(path, guarded, methods=list(methods))


class Needs:
    """ASGI wrapper: the wrapped application (the preview, the site, static files) only
    for a session that has ``role``."""

    def __init__(self, app: Any, role: str, check: Check) -> None:
        self.app = app
        self.role = role
        self.check = check

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refusal = self.check(None, scope.get("session") or {}, self.role)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def mount(path: str, app: Any, role: str, check: Check, name: str | None = None) -> Mount:
    return Mount(path, Needs(app, role, check), name=name)


def declared(app: Any) -> list[tuple[str, frozenset[str], Needed | None]]:
    """Each route of ``app``, the methods it answers (GET for a mount) and the role it
    declares (None: it declares none)."""
    found: list[tuple[str, frozenset[str], Needed | None]] = []
    for item in app.routes:
        if isinstance(item, Route):
            methods = frozenset(item.methods or ()) - {"HEAD"}
            found.append((item.path, methods, getattr(item.endpoint, "role", None)))
        elif isinstance(item, Mount):
            found.append((item.path, frozenset({"GET"}), getattr(item.app, "role", None)))
        else:
            found.append((repr(item), frozenset(), None))
    return found
