"""Serving the studio on this machine: uvicorn on 127.0.0.1, opened with a secret link."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

from backchannel.store import Database
from backchannel.studio import security
from backchannel.studio.app import create_app


def studio_url(port: int, token: str, host: str = "127.0.0.1") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/login?token={token}"


def run_studio(
    db: Database, port: int, open_browser: bool, say: Callable[[str], None] = print,
    host: str = "127.0.0.1", config: Any = None,
) -> None:  # fmt: skip
    """Serve the studio until interrupted (Ctrl+C). On an address other than loopback
    only when accounts exist (the command checks); the secret link works on this
    machine either way."""
    import uvicorn

    token = security.new_secret()
    url = studio_url(port, token, host)
    where = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else host
    say(f"The studio is at {url}\n(listening on {where}; Ctrl+C stops it)")
    if open_browser:
        webbrowser.open(url)
    shown = f"[{host}]" if ":" in host else host
    hosts = security.allowed_hosts(port) | {f"{shown}:{port}".lower()}
    uvicorn.run(create_app(db, token, port, hosts, config), host=host, port=port, log_level="warning",
                server_header=False)  # fmt: skip
