"""The Misskey collector: Misskey, Sharkey, Iceshrimp, Firefish and CherryPick read
through their own API, ``POST /api/notes/search-by-tag`` (public, 100 notes a page).

Misskey has no Mastodon API (Sharkey's is a proxy whose ids do not sort), so a source
whose NodeInfo names one of these is read here. How a run reads ``#tag``:

1. **Forward.** ``sinceId`` pages come oldest first (``makePaginationQuery`` orders
   ascending when only ``sinceId`` is given), from the cursor, or on a first run from
   the first aid/aidx id of the window's start: Misskey makes a note's id from its own
   ``createdAt`` (remote notes too), 8 base36 characters of time first, and compares
   ids as text. A page this run has read already is never asked for again. A first
   run that finds nothing there while the newest page holds notes of the window (a
   server set to another id scheme) walks down from the newest note with ``untilId``.
2. **Re-scan.** A note that reaches the server late has an id below the cursor; at
   most once per ``rescan_every``, the run walks down (``untilId`` from where it
   started, ``sinceId`` the floor) over the ``rescan`` span before the newest note
   seen.
3. **Authors.** A note's user is a light one; ``users/show`` is asked once per run for
   the detailed users of a page's new authors (their actor ``uri``, bio, ``noindex``,
   ``isExplorable``: see :mod:`backchannel.collectors.misskey.normalize`).

Cursor (JSON): ``{"v": 1, "since", "start", "newest_at", "rescan_since",
"rescan_done_at"}``. Skipped reasons: ``"not public"``, ``"outside window"``,
``"boost"`` (a renote with nothing of its own).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.collectors.base import NormalizedPost, Page, Window
from backchannel.collectors.id_schemes import base36_floor
from backchannel.collectors.mastodon.collector import default_user_agent
from backchannel.collectors.mastodon.cursor import recent_within
from backchannel.collectors.mastodon.normalize import parse_datetime
from backchannel.collectors.misskey.client import MisskeyClient
from backchannel.collectors.misskey.normalize import is_pure_renote, normalize_note
from backchannel.collectors.retry import Bounds, Pacer, RetryPolicy
from backchannel.errors import MalformedResponseError

log = logging.getLogger(__name__)

PAGE_LIMIT = 100  # the most notes/search-by-tag serves
CURSOR_VERSION = 1


class MisskeyCollector:
    """Collects hashtags from one Misskey-family server. Not shared between threads."""

    platform = "mastodon"  # a fediverse source, as a Mastodon-API one is

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        user_agent: str | None = None,
        timeout: float = 30.0,
        rescan: timedelta = timedelta(hours=6),
        rescan_every: timedelta = timedelta(hours=1),
        policy: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        bounds: Bounds | None = None,
        limit: int = PAGE_LIMIT,
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        self.base_url = base_url if "://" in base_url else f"https://{base_url}"
        self.rescan, self.rescan_every, self.limit = rescan, rescan_every, limit
        self._pacer = Pacer(policy, stop)
        self._client = MisskeyClient(self.base_url, user_agent or default_user_agent(),
                                     timeout, self._pacer, bounds, access_token)  # fmt: skip
        self._profiles: dict[str, dict[str, Any]] = {}  # user id -> detailed user
        self._counted = 0

    @property
    def request_count(self) -> int:
        return self._client.requests_sent

    @property
    def slept(self) -> float:
        return self._pacer.slept

    @property
    def rate_limit(self) -> dict[str, str] | None:
        return None  # Misskey sends no rate-limit headers

    def close(self) -> None:
        self._client.close()

    def probe(self, hashtag: str) -> str:
        tag = hashtag.strip().lstrip("#")
        meta = self._client.call("meta", {"detail": False})
        version = meta.get("version") if isinstance(meta, dict) else None
        notes = self._search(tag, limit=1)
        return f"Misskey {version or 'API'}; #{tag} readable" + ("" if notes else " (no posts yet)")

    def collect(
        self, hashtag: str, window: Window, cursor: dict[str, Any] | None
    ) -> Iterator[Page]:
        tag = hashtag.strip().lstrip("#")
        if not tag:
            raise ValueError("an empty hashtag")
        state = _Cursor.load(cursor, window)
        run = _Run(window)
        ceiling = state.since  # the re-scan covers what earlier runs walked, below here
        floor = self._rescan_floor(state, window)
        state.rescan_since = floor
        from_start = state.since == state.start and floor is None
        started = datetime.now(UTC)
        while True:  # 1. forward, oldest first
            notes = self._search(tag, since=state.since)
            ids = [str(n.get("id")) for n in notes]
            if ids and all(i in run.ids for i in ids):
                log.warning("%s repeats its page for sinceId: stopping this walk", self.base_url)
                break
            if not ids and from_start and not run.ids:
                yield from self._walk_down_from_newest(tag, state, run)
                return
            run.ids.update(ids)
            if ids:
                state.since = max(ids)
            last = len(notes) < self.limit or all(_created(n) > window.end for n in notes)
            if last and from_start:
                state.rescan_done_at = started
            yield self._page(notes, state, run)
            if last:
                break
        if floor is None:
            return
        until = ceiling  # 2. the re-scan, newest first down to its floor
        while True:
            notes = self._search(tag, since=floor, until=until)
            ids = [str(n.get("id")) for n in notes]
            repeated = bool(ids) and all(i in run.ids for i in ids)
            run.ids.update(ids)
            done = len(notes) < self.limit or repeated
            if done:
                state.rescan_since, state.rescan_done_at = None, datetime.now(UTC)
            yield self._page(notes, state, run)
            if done:
                return
            until = min(ids)

    def _walk_down_from_newest(self, tag: str, state: _Cursor, run: _Run) -> Iterator[Page]:
        """Nothing above the window's first aidx id: if the newest page holds notes of
        the window, this server's ids are of another scheme; walk down with ``untilId``
        until a whole page is older than the window."""
        until: str | None = None
        top: str | None = None
        while True:
            notes = self._search(tag, until=until)
            ids = [str(n.get("id")) for n in notes]
            fresh = [i for i in ids if i not in run.ids]
            run.ids.update(ids)
            if until is None and ids:
                top = max(ids)
                log.warning("%s: its ids are not aidx; walking #%s down from its newest note",
                            self.base_url, tag)  # fmt: skip
            done = not fresh or all(_created(n) < run.window.start for n in notes)
            if done:
                # Only a complete walk moves the position (later runs go forward from its
                # newest note, as text compares): a stopped one is walked again whole.
                state.since = top or state.since
                state.rescan_done_at = datetime.now(UTC)
            yield self._page(notes, state, run)
            if done:
                return
            until = min(ids)

    # -- internals ------------------------------------------------------------------

    def _search(self, tag: str, since: str | None = None, until: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
        body: dict[str, Any] = {"tag": tag, "limit": limit or self.limit}
        if since:
            body["sinceId"] = since
        if until:
            body["untilId"] = until
        notes = self._client.call("notes/search-by-tag", body)
        if not isinstance(notes, list):
            raise MalformedResponseError(f"{self._client.host}: notes/search-by-tag is not a list")
        return [n for n in notes if isinstance(n, dict)]

    def _rescan_floor(self, state: _Cursor, window: Window) -> str | None:
        if state.rescan_since:
            return state.rescan_since  # owed by a run that stopped
        if state.newest_at is None or recent_within(state.rescan_done_at, self.rescan_every):
            return None
        floor = base36_floor(max(state.newest_at - self.rescan, window.start))
        return floor if floor < state.since else None

    def profiles(self, notes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The detailed users of ``notes``' authors (one ``users/show`` for those not
        yet met in this run)."""
        wanted = list(dict.fromkeys(str(n["userId"]) for n in notes if n.get("userId")))
        missing = [u for u in wanted if u not in self._profiles]
        if missing:
            found = self._client.call("users/show", {"userIds": missing})
            for user in found if isinstance(found, list) else ():
                if isinstance(user, dict) and user.get("id"):
                    self._profiles[str(user["id"])] = user
        return self._profiles

    def _page(self, notes: list[dict[str, Any]], state: _Cursor, run: _Run) -> Page:
        posts: list[NormalizedPost] = []
        skipped: Counter[str] = Counter()
        unreadable: list[str] = []
        profiles = self.profiles([n for n in notes if not is_pure_renote(n)])
        for raw in notes:
            if is_pure_renote(raw):
                skipped["boost"] += 1
                continue
            try:
                post = normalize_note(raw, self.base_url, profiles.get(str(raw.get("userId"))))
            except MalformedResponseError as exc:
                skipped["unreadable"] += 1
                unreadable.append(str(raw.get("id")))
                log.warning("%s: skipping unreadable note %s (%s)", self.base_url, raw.get("id"),
                            type(exc.__cause__ or exc).__name__)  # fmt: skip
                continue
            if post.visibility != "public":
                skipped["not public"] += 1
            elif not run.window.start <= post.created_at <= run.window.end:
                skipped["outside window"] += 1
            elif post.native_id not in run.yielded:
                run.yielded.add(post.native_id)
                posts.append(post)
        if posts:
            state.newest_at = max([p.created_at for p in posts]
                                  + ([state.newest_at] if state.newest_at else []))  # fmt: skip
        sent = self._client.requests_sent
        requests, self._counted = sent - self._counted, sent
        return Page(posts=posts, cursor=state.dump(), skipped=skipped, requests=requests,
                    unreadable=unreadable)  # fmt: skip


@dataclass
class _Cursor:
    start: str
    since: str
    newest_at: datetime | None = None
    rescan_since: str | None = None
    rescan_done_at: datetime | None = None

    @classmethod
    def load(cls, raw: dict[str, Any] | None, window: Window) -> _Cursor:
        start = base36_floor(window.start)
        if not raw or raw.get("v") != CURSOR_VERSION or not raw.get("since"):
            return cls(start, start)
        if start < str(raw.get("start") or start):
            log.info("the window now starts earlier than the cursor's; walking from its start")
            return cls(start, start)
        newest, done = raw.get("newest_at"), raw.get("rescan_done_at")
        # Ids compare as text, as Misskey compares them. The position is kept as it is,
        # never compared with the window's aidx floor: a server set to another id
        # method has ids that sort below any such floor.
        return cls(start, str(raw["since"]),
                   parse_datetime(newest) if newest else None, raw.get("rescan_since") or None,
                   parse_datetime(done) if done else None)  # fmt: skip

    def dump(self) -> dict[str, Any]:
        return {"v": CURSOR_VERSION, "start": self.start, "since": self.since,
                "newest_at": self.newest_at.isoformat() if self.newest_at else None,
                "rescan_since": self.rescan_since,
                "rescan_done_at": self.rescan_done_at.isoformat() if self.rescan_done_at else None}  # fmt: skip


@dataclass
class _Run:
    window: Window
    ids: set[str] = field(default_factory=set)  # every id a page of this run held
    yielded: set[str] = field(default_factory=set)


def _created(raw: dict[str, Any]) -> datetime:
    return parse_datetime(raw.get("createdAt"))
