"""Each Mastodon author's home-server signals, filled in before a page is stored.

A tag timeline only carries ``noindex`` for the queried server's own accounts, so a
post first met on another server would slip past an author's opt-out. Before each
page is stored, authors whose ``noindex`` is unknown are looked up on their home
server, at most once per author per ``ttl``: remembered in memory for the run (shared
by the concurrent sources) and in the database across runs (:class:`HomeCheck`, by a
hash of the author's URI, for every author looked up, so one who opted out, and is
therefore never stored, is not asked again and again). A lookup that fails is tried
again on the next page that needs it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backchannel.collectors import HomeProfile, HomeServerLookup, NormalizedAuthor, NormalizedPost
from backchannel.consent.tombstones import key_hash
from backchannel.store import Database, HomeCheck, upsert

Cached = tuple[bool, bool, bool]  # noindex, suspended, limited


class HomeSignals:
    def __init__(self, db: Database, lookup: HomeServerLookup, ttl: timedelta) -> None:
        self._db = db
        self._lookup = lookup
        self._ttl = ttl
        self._memo: dict[str, tuple[HomeProfile, datetime]] = {}
        self._unsaved: dict[str, tuple[HomeProfile, datetime]] = {}
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
        self._save_checks()
        return [
            replace(p, author=merged[p.author.uri]) if p.author.uri in merged else p for p in posts
        ]

    def _fresh_in_database(self, uris: list[str], now: datetime) -> dict[str, Cached]:
        by_key = {key_hash(uri): uri for uri in uris}
        with self._db.reading() as session:
            checks = session.execute(
                select(
                    HomeCheck.author_key_sha256, HomeCheck.noindex, HomeCheck.suspended,
                    HomeCheck.limited, HomeCheck.checked_at,
                ).where(HomeCheck.author_key_sha256.in_(list(by_key)))
            )  # fmt: skip
            return {
                by_key[key]: (noindex, suspended, limited)
                for key, noindex, suspended, limited, checked in checks
                if now - checked < self._ttl
            }

    def _merged(
        self, author: NormalizedAuthor, cached: Cached | None, now: datetime
    ) -> NormalizedAuthor:
        if cached is not None:
            noindex, suspended, limited = cached
            return replace(
                author,
                noindex=noindex,
                suspended=author.suspended or suspended,
                limited=author.limited or limited,
            )
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
            with self._guard:
                self._unsaved[author.uri] = (profile, now)
            return self._memo[author.uri]

    def _save_checks(self) -> None:
        """Remember this run's lookups across runs (one small write per page at most)."""
        with self._guard:
            unsaved, self._unsaved = self._unsaved, {}
        if not unsaved:
            return
        by_key = {key_hash(uri): value for uri, value in unsaved.items()}
        rows = [
            {
                "author_key_sha256": key,
                "noindex": home.noindex,
                "suspended": home.suspended,
                "limited": home.limited,
                "checked_at": checked_at,
            }
            for key, (home, checked_at) in sorted(by_key.items())  # one lock order for all
        ]
        with self._db.writing() as session:  # `run` and `collect` may race on one author
            upsert(
                session,
                HomeCheck,
                rows,
                keys=["author_key_sha256"],
                update=["noindex", "suspended", "limited", "checked_at"],
            )

    def close(self) -> None:
        self._lookup.close()
