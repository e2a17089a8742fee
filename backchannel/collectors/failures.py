"""Network failures in words a person can act on, whichever client library raised them.

Mastodon.py wraps requests, which wraps urllib3, which wraps the socket error; atproto
wraps httpx, which wraps httpcore. The cause that matters (a name that does not
resolve, a refused connection, a certificate) sits at the bottom of that chain, and the
top's message is hundreds of characters of URLs and object reprs. :func:`network_problem`
walks the chain and names the cause in a few words; the long text stays available as
the error's ``detail`` (shown by ``collect -v``).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

# Phrases, most specific first. Each is checked against the exception types in the
# chain, then (for libraries that only keep the text) against the messages.
DNS = "cannot resolve the host name (no network?)"
TLS = "the TLS connection failed (certificate or protocol)"
TIMEOUT = "timed out (the server is slow or unreachable)"
REFUSED = "the connection was refused (is the URL right?)"
DROPPED = "the connection was dropped"
NETWORK = "network error"

_TEXT_CLUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        DNS,
        (
            "name or service not known",
            "temporary failure in name resolution",
            "nodename nor servname",
            "getaddrinfo failed",
            "failed to resolve",
            "no address associated",
            "nameresolutionerror",
        ),
    ),
    (TLS, ("certificate verify failed", "ssl", "tls")),
    (TIMEOUT, ("timed out", "timeout")),
    (REFUSED, ("connection refused",)),
    (DROPPED, ("connection reset", "connection aborted", "remote end closed", "disconnected")),
)


class TooSlow(TimeoutError):
    """No complete answer within the request's deadline (see ``collectors.bounded``)."""


class TooLarge(OSError):
    """An answer larger than the cap (see ``collectors.bounded``)."""


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, ``reason`` and exception args."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))


def network_problem(exc: BaseException) -> str:
    """A few words for what went wrong on the network, e.g. :data:`DNS`."""
    chain = list(error_chain(exc))
    for error in chain:
        if isinstance(error, TooSlow | TooLarge):
            return str(error)  # our own words, with the deadline or the cap
    for error in chain:
        if isinstance(error, socket.gaierror):
            return DNS
    for error in chain:
        if isinstance(error, ssl.SSLError | ssl.CertificateError):
            return TLS
    for error in chain:
        if isinstance(error, TimeoutError | socket.timeout):
            return TIMEOUT
        if isinstance(error, ConnectionRefusedError):
            return REFUSED
        if isinstance(error, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return DROPPED
    text = " ".join(f"{type(error).__name__} {error}" for error in chain).lower()
    for phrase, clues in _TEXT_CLUES:
        if any(clue in text for clue in clues):
            return phrase
    return NETWORK


def host_of(base_url: str) -> str:
    """``mastodon.social`` for ``https://mastodon.social``: how a source is named in a line."""
    return urlsplit(base_url).netloc or base_url
