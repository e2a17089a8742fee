"""Serving the studio: uvicorn on 127.0.0.1 (or ``--host``), opened with a sign-in link."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from backchannel.store import Database
from backchannel.studio import security
from backchannel.studio.app import create_app

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def studio_url(port: int, token: str, host: str = "127.0.0.1", public_url: str = "") -> str:
    """The sign-in link: at the public address behind a proxy, else where uvicorn listens."""
    if public_url:
        return f"{public_url.rstrip('/')}/login?token={token}"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/login?token={token}"


def studio_hosts(port: int, host: str, public_url: str = "") -> frozenset[str]:
    """The Host headers the studio answers to (the rest are refused: DNS rebinding)."""
    shown = f"[{host}]" if ":" in host else host
    hosts = security.allowed_hosts(port) | {f"{shown}:{port}".lower()}
    if public_url:  # a reverse proxy passes the name people typed
        hosts |= {urlsplit(public_url).netloc.lower()}
    return hosts


def run_studio(
    db: Database, port: int, open_browser: bool, say: Callable[[str], None] = print,
    host: str = "127.0.0.1", config: Any = None, forwarded_allow_ips: str | None = None,
) -> None:  # fmt: skip
    """Serve the studio until interrupted (Ctrl+C). On an address other than loopback,
    or behind a proxy (``[studio] public_url``), only when accounts exist (the command
    checks). ``forwarded_allow_ips``: the proxies whose X-Forwarded-Proto and -For are
    believed (uvicorn's default: 127.0.0.1)."""
    import uvicorn

    token = security.new_secret()
    public = config.studio.public_url if config is not None else ""
    url = studio_url(port, token, host, public)
    where = "this machine only" if host in LOOPBACK and not public else public or host
    say(f"The studio is at {url}\n(the link signs one browser in, once; listening on {where}; "
        "Ctrl+C stops it; `backchannel studio link` makes another link)")  # fmt: skip
    if open_browser:
        webbrowser.open(url)
    app = create_app(db, token, port, studio_hosts(port, host, public), config)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False,
                proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips)  # fmt: skip
