"""Which software a server runs, from its NodeInfo (``/.well-known/nodeinfo``).

Servers that speak the Mastodon API page a hashtag differently (see
:mod:`backchannel.collectors.mastodon.collector`), and the Misskey family does not speak it at
all. NodeInfo (schema 2.0 or 2.1) names the software and its version; the collect
service reads it once per source and keeps it on the source (``event show`` shows it).
A server without NodeInfo is read as nothing is assumed of it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from backchannel.collectors.retry import Bounds
from backchannel.sanitize import safe_url

log = logging.getLogger(__name__)

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2."
# Their hashtag feed needs a logged-in user's token (read from each project's code: see
# the README's "Which servers"); ``init`` asks for one, ``doctor`` names the missing key.
TOKEN_SOFTWARE = frozenset({"gotosocial", "pixelfed", "friendica", "takahe", "hollo",
                            "iceshrimp.net"})  # fmt: skip
# No Mastodon API for hashtags: notes/search-by-tag of their own.
MISSKEY_FAMILY = frozenset({"misskey", "sharkey", "iceshrimp", "firefish", "cherrypick",
                            "foundkey", "calckey"})  # fmt: skip


def token_table(base_url: str) -> tuple[str, str]:
    """A config table name and an environment variable name for a server's token:
    ``social_example``, ``BACKCHANNEL_SOCIAL_EXAMPLE_TOKEN``."""
    host = urlsplit(base_url).hostname or base_url
    name = re.sub(r"[^a-z0-9]+", "_", host.lower()).strip("_") or "server"
    return name, f"BACKCHANNEL_{name.upper()}_TOKEN"


@dataclass(frozen=True)
class Software:
    name: str  # lower-case, as NodeInfo has it: "mastodon", "gotosocial"
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


def read_nodeinfo(
    base_url: str, user_agent: str, timeout: float = 10.0, bounds: Bounds | None = None
) -> Software | None:
    """The software ``base_url`` says it runs, or None when it does not say (no
    NodeInfo, an answer that is not one, a network error: logged, never raised)."""
    # Here, not at the top: the names above are read by commands that open no connection.
    import httpx

    from backchannel.collectors.bounded import BoundedTransport

    transport = BoundedTransport(bounds or Bounds(max_bytes=1_000_000))
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
                      headers={"User-Agent": user_agent, "Accept": "application/json"}) as client:  # fmt: skip
        try:
            links = client.get(f"{base_url.rstrip('/')}/.well-known/nodeinfo").json()["links"]
            hrefs = sorted((str(link["rel"]), str(link["href"])) for link in links
                           if str(link.get("rel", "")).startswith(SCHEMA))  # fmt: skip
            if not hrefs or safe_url(hrefs[-1][1]) is None:  # the newest schema offered
                return None
            software = client.get(hrefs[-1][1]).json()["software"]
            name = str(software["name"]).strip().lower()[:64]
            return Software(name, str(software.get("version") or "")[:64]) if name else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.info("%s: no NodeInfo (%s)", base_url, type(exc).__name__)
            return None
