"""Serving the studio on this machine: uvicorn on 127.0.0.1, opened with a secret link."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable

from backchannel.store import Database
from backchannel.studio import security
from backchannel.studio.app import create_app


def studio_url(port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}/login?token={token}"


def run_studio(
    db: Database, port: int, open_browser: bool, say: Callable[[str], None] = print
) -> None:
    """Serve the studio until interrupted (Ctrl+C). Loopback only: no accounts yet."""
    import uvicorn

    token = security.new_secret()
    url = studio_url(port, token)
    say(f"The studio is at {url}\n(only this machine can reach it; Ctrl+C stops it)")
    if open_browser:
        webbrowser.open(url)
    uvicorn.run(create_app(db, token, port), host="127.0.0.1", port=port, log_level="warning",
                server_header=False)  # fmt: skip
