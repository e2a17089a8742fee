"""Which servers contributed which posts, and which servers are missing.

A Mastodon server only sees part of the fediverse. After a collection the organiser
wants to know what each source added (and what only it saw), and which home servers
of the event's posters are not sources yet, ranked by posts, so they can be added
(``event add-source``, or automatically with ``discover`` on the event).
"""

from __future__ import annotations

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
    for (uri,) in rows:
        origin = _origin(uri)
        if origin and origin not in known:
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
