"""Ask an author's home server about them: the only place ``noindex`` is reliable.

Mastodon sends ``noindex`` only for a server's own (local) accounts, so a post seen
on another server says nothing about it. ``GET /api/v1/accounts/lookup?acct=`` on the
home server does. This module only speaks HTTP; the collect service decides when to
ask (at most once per author per period) and consent.py what the answer means.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from backchannel.collectors.bounded import BoundedTransport
from backchannel.collectors.retry import Bounds
from backchannel.sanitize import html_to_text, parse_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeProfile:
    """The consent signals of an account, as its home server states them."""

    noindex: bool
    bio_text: str
    bot: bool
    suspended: bool
    limited: bool
    indexable: bool | None
    discoverable: bool | None


def home_base_url(actor_uri: str) -> str | None:
    parts = urlsplit(actor_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class HomeServerLookup:
    """Looks accounts up on their home servers. One per collect run; thread-safe."""

    def __init__(
        self, user_agent: str, timeout: float = 10.0, bounds: Bounds | None = None
    ) -> None:
        self._client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=True,
            transport=BoundedTransport(bounds or Bounds(max_bytes=1_000_000)),
        )
        self.requests = 0

    def fetch(self, actor_uri: str, handle: str) -> HomeProfile | None:
        """The home server's view, or None when it cannot be had right now."""
        base = home_base_url(actor_uri)
        username = handle.split("@", 1)[0]
        if base is None or not username:
            return None
        self.requests += 1
        try:
            response = self._client.get(f"{base}/api/v1/accounts/lookup", params={"acct": username})
        except httpx.HTTPError as exc:
            log.info("could not ask %s about %s: %s", base, handle, exc)
            return None
        if response.status_code != 200:
            log.info("%s answered %s about %s", base, response.status_code, handle)
            return None
        try:
            account = parse_json(response.content)
        except ValueError:
            log.info("%s sent a malformed account for %s", base, handle)
            return None
        if not isinstance(account, dict):
            return None
        fields = account.get("fields") or []
        field_text = " ".join(
            f"{f.get('name', '')} {html_to_text(str(f.get('value', '')))}"
            for f in fields
            if isinstance(f, dict)
        )
        return HomeProfile(
            noindex=account.get("noindex") is True,
            bio_text=f"{html_to_text(str(account.get('note') or ''))} {field_text}".strip(),
            bot=account.get("bot") is True,
            suspended=account.get("suspended") is True,
            limited=account.get("limited") is True,
            indexable=account.get("indexable")
            if isinstance(account.get("indexable"), bool)
            else None,
            discoverable=account.get("discoverable")
            if isinstance(account.get("discoverable"), bool)
            else None,
        )

    def close(self) -> None:
        self._client.close()
