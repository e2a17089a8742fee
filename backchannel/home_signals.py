"""Each Mastodon author's home-server signals, filled in before a page is stored.

A tag timeline only carries ``noindex`` for the queried server's own accounts, so a
post first met on another server would slip past an author's opt-out. Before each
page is stored, authors whose ``noindex`` is unknown are looked up on their home
server, at most once per author per ``ttl``: remembered in memory for the run (shared
by the concurrent sources) and in the database (``Author.last_checked_at``) across
runs. A lookup that fails is tried again on the next page that needs it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backchannel.collectors.base import NormalizedAuthor, NormalizedPost
from backchannel.collectors.mastodon_lookup import HomeProfile, HomeServerLookup
from backchannel.db import Database
from backchannel.models import Author


class HomeSignals:
    def __init__(self, db: Database, lookup: HomeServerLookup, ttl: timedelta) -> None:
        self._db = db
        self._lookup = lookup
        self._ttl = ttl
        self._memo: dict[str, tuple[HomeProfile, datetime]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def requests(self) -> int:
        return self._lookup.requests

    def apply(self, posts: list[NormalizedPost]) -> list[NormalizedPost]:
        authors = {
            p.author.uri: p.author
            for p in posts
            if p.platform == "mastodon" and p.author.noindex is None
        }
        if not authors:
            return posts
        now = datetime.now(UTC)
        fresh = self._fresh_in_database(list(authors), now)
        merged = {uri: self._merged(author, fresh.get(uri), now) for uri, author in authors.items()}
        return [
            replace(p, author=merged[p.author.uri]) if p.author.uri in merged else p for p in posts
        ]

    def _fresh_in_database(self, uris: list[str], now: datetime) -> dict[str, bool | None]:
        with self._db.reading() as session:
            rows = session.execute(
                select(Author.uri, Author.noindex, Author.last_checked_at).where(
                    Author.platform == "mastodon", Author.uri.in_(uris)
                )
            )
            return {
                uri: noindex
                for uri, noindex, checked in rows
                if checked is not None and now - checked < self._ttl
            }

    def _merged(
        self, author: NormalizedAuthor, cached_noindex: bool | None, now: datetime
    ) -> NormalizedAuthor:
        if cached_noindex is not None:
            return replace(author, noindex=cached_noindex)
        profile = self._profile(author, now)
        if profile is None:
            return author
        home, checked_at = profile
        return replace(
            author,
            noindex=home.noindex,
            bio_text=home.bio_text or author.bio_text,
            bot=author.bot or home.bot,
            suspended=author.suspended or home.suspended,
            limited=author.limited or home.limited,
            indexable=home.indexable if home.indexable is not None else author.indexable,
            home_checked_at=checked_at,
        )

    def _profile(
        self, author: NormalizedAuthor, now: datetime
    ) -> tuple[HomeProfile, datetime] | None:
        with self._guard:
            lock = self._locks.setdefault(author.uri, threading.Lock())
        with lock:  # two sources meeting one author ask its server once
            if author.uri in self._memo:
                return self._memo[author.uri]
            profile = self._lookup.fetch(author.uri, author.handle)
            if profile is None:
                return None
            self._memo[author.uri] = (profile, now)
            return self._memo[author.uri]

    def close(self) -> None:
        self._lookup.close()
