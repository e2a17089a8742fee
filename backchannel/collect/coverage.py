"""Which servers contributed which posts, and which servers are missing.

A Mastodon server only sees part of the fediverse. After a collection the organiser
wants to know what each source added (and what only it saw), and which home servers
of the event's posters are not sources yet, ranked by posts, so they can be added
(``event add-source``, or automatically with ``discover`` on the event).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.events import add_source
from backchannel.store import Author, Event, EventPost, EventSource, Post, PostSighting


@dataclass(frozen=True)
class SourceCoverage:
    server: str
    posts: int  # posts of the event this server served
    only_here: int  # of those, posts no other source served


@dataclass(frozen=True)
class Coverage:
    sources: list[SourceCoverage]
    missing: list[tuple[str, int]]  # (home server base URL, posts by its accounts), busiest first


def _origin(uri: str) -> str | None:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


# Servers that relay another network's posts into the fediverse (Bluesky, Nostr,
# Threads, the web): their accounts are not a community to read a hashtag from.
BRIDGES = ("brid.gy", "mostr.pub", "threads.net", "bird.makeup", "sky.makeup")


def _loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _suggestible(origin: str, local_ok: bool) -> bool:
    """A public fediverse server: not a bridge, not loopback (unless the event's own
    sources are: the sandbox)."""
    host = (urlsplit(origin).hostname or "").lower()
    if any(host == bridge or host.endswith("." + bridge) for bridge in BRIDGES):
        return False
    return local_ok or not _loopback(origin)


def event_coverage(session: Session, event: Event) -> Coverage:
    sightings = session.execute(
        select(PostSighting.post_id, PostSighting.server)
        .join(EventPost, EventPost.post_id == PostSighting.post_id)
        .where(EventPost.event_id == event.id)
    ).all()
    servers_of: dict[int, set[str]] = {}
    for post_id, server in sightings:
        servers_of.setdefault(post_id, set()).add(server)
    per_server: Counter[str] = Counter()
    only: Counter[str] = Counter()
    for servers in servers_of.values():
        per_server.update(servers)
        if len(servers) == 1:
            only.update(servers)
    sources = [
        SourceCoverage(s.base_url, per_server.get(s.base_url, 0), only.get(s.base_url, 0))
        for s in event.sources
    ]
    known = {s.base_url for s in event.sources if s.platform == "mastodon"}
    homes: Counter[str] = Counter()
    rows = session.execute(
        select(Author.uri)
        .join(Post, Post.author_id == Author.id)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event.id, Author.platform == "mastodon")
    )
    # Loopback servers are suggested only to an event that reads loopback servers (the
    # sandbox); bridges are never suggested: what they relay is read at its origin.
    local_ok = bool(known) and all(_loopback(url) for url in known)
    for (uri,) in rows:
        origin = _origin(uri)
        if origin and origin not in known and _suggestible(origin, local_ok):
            homes[origin] += 1
    missing = sorted(homes.items(), key=lambda item: (-item[1], item[0]))
    return Coverage(sources, missing)


def discover_sources(session: Session, event: Event, cap: int) -> list[EventSource]:
    """Add the busiest missing home servers as sources, up to ``cap`` discovered in all."""
    room = cap - sum(1 for s in event.sources if s.discovered)
    if room <= 0:
        return []
    missing = event_coverage(session, event).missing[:room]
    return [add_source(session, event, "mastodon", url, discovered=True) for url, _ in missing]
