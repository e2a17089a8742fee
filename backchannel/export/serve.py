"""``backchannel serve``: an exported archive over HTTP on this machine, as a static
host would serve it (search needs HTTP: Pagefind fetches its index).

Starlette's ``StaticFiles`` serves the folder read-only (GET and HEAD; no directory
listing; ``index.html`` for a folder; nothing outside it), with the content types
Pagefind's files need and, on every answer, the archive's own Content Security Policy
(the one its pages carry in a meta tag, here as a header too, with
``frame-ancestors``, which only a header can say), ``nosniff`` and no referrer.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backchannel.errors import InputError
from backchannel.export.robots import CSP

# Pagefind's index files and the export's data files, which mimetypes does not know.
CONTENT_TYPES = {
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pagefind": "application/octet-stream",
    ".wasm": "application/wasm",
    ".jsonl": "application/x-ndjson",
    ".atom": "application/atom+xml",
    ".bib": "text/plain",
}
HEADERS = {
    "Content-Security-Policy": f"{CSP}; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# A story's embed page is the one page other sites may frame.
EMBED_HEADERS = {**HEADERS, "Content-Security-Policy": f"{CSP}; frame-ancestors *"}


def site_app(root: Path) -> Any:
    """The ASGI application serving the archive in ``root``."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    for suffix, kind in CONTENT_TYPES.items():
        mimetypes.add_type(kind, suffix)
    if not (root / "index.html").is_file():
        raise InputError(f"{root} holds no exported archive (no index.html): run "
                         "`backchannel export` first, or name the folder")  # fmt: skip
    files = StaticFiles(directory=str(root), html=True)
    return Starlette(routes=[Mount("/", app=files)], middleware=[Middleware(_Headers)])


class _Headers:
    """Adds :data:`HEADERS` to every answer (a pure ASGI middleware: no buffering)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any],
                       send: Callable[..., Any]) -> None:  # fmt: skip
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        framed = str(scope.get("path", "")).endswith("-embed.html")

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                chosen = EMBED_HEADERS if framed else HEADERS
                headers += [(k.lower().encode(), v.encode()) for k, v in chosen.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def serve_site(root: Path, host: str, port: int, say: Callable[[str], None]) -> None:
    """Serve ``root`` on ``host:port`` until Ctrl-C."""
    import uvicorn

    app = site_app(root)
    say(f"serving {root} at http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
