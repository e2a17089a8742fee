"""Which URLs may be published: absolute http(s) URLs with a host, nothing hidden.

Shared by the sanitiser (links, emoji and image sources), its text extraction (outbound
links), the collectors and the exporter.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["SCHEMES", "safe_url"]

SCHEMES = {"http", "https"}
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]")
# Common URLs that safe_url accepts without urlsplit: http(s), a plain host name.
_PLAIN_URL_RE = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][^\x00-\x20\x7f]*)?"
)


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None.

    Anything with whitespace or control characters inside is refused outright:
    browsers strip some of them (``java\\tscript:``), so they can only hide tricks.
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if _PLAIN_URL_RE.fullmatch(url):
        return url
    if not url or _CONTROL_RE.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return None
    return url
