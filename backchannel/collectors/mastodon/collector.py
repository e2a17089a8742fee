"""The Mastodon collector: one server, one hashtag at a time, walked forward in time.

How a run reads ``#tag`` from one server (``collect``):

1. **Forward walk.** ``min_id`` pages ("the 40 statuses just above this id") from the
   cursor, or on a first run from the first id of ``window.start`` in the server's id
   scheme (:mod:`~backchannel.collectors.id_schemes`: Mastodon's Snowflakes,
   GoToSocial's ULIDs, Iceshrimp.NET's base36; not known: Snowflakes, checked). Each
   response becomes one :class:`Page` whose cursor is the highest id in it, so the
   store commits a page and the position after it together.
2. **Re-scan.** A server gives a post it *fetched* late (a reply it resolved, a
   remote post it met through a boost) an id made from the post's ``created_at``,
   so it can land below a cursor already past it. Each run therefore also walks
   backwards (``max_id`` from the run's starting cursor, ``since_id`` as the floor)
   over the trailing ``rescan`` span (default 6 h) before the newest post seen,
   clipped to the window. Repeats are harmless (the store upserts on uri) and posts
   already yielded in the same run are not yielded twice. The re-scan re-reads every
   post in its span, so it runs at most once per ``rescan_every`` (default 1 h): a
   scheduler collecting every few minutes would otherwise re-read hours of posts each
   time and spend the server's rate budget on them. A re-scan owed by a stopped run
   is always done. A completed walk from the window's start (a first run) counts as
   a re-scan: it has just read the whole span.

3. **Servers that page otherwise.** A page this run has read already is never asked
   for again: a server that ignores ``min_id`` (Mitra, snac) serves its newest page
   for any, and is then walked down from its newest post with ``max_id`` (the one
   parameter every server honours) until a whole page is older than where the walk
   must reach, or holds the newest post the last complete walk met (``top_id``,
   matched exactly: no id is compared); later runs do the same (``top_down``). A first
   run that finds nothing above the window's first Snowflake while the newest page
   holds posts of the window does the same: that server's ids do not carry the time
   as Mastodon's do (GoToSocial's ULIDs compare as text).

Cursor (JSON): ``{"v": 1, "start_id", "min_id", "newest_at", "rescan_since",
"rescan_done_until", "rescan_done_at", "top_down", "top_id", "top_at"}``: ``min_id``
is the forward position (highest id read); ``top_id`` and ``top_at`` the newest post
of the last *complete* walk down and its time (until a walk down has once completed,
each run walks down to the window's start: a stopped walk read only the newest
posts); ``newest_at`` the creation
time of the newest in-window post seen; ``rescan_since`` the floor id of the re-scan
this run owes (set on every page until the re-scan is done, so a run stopped early
hands it on to the next run, whose re-scan then reaches at least as low);
``rescan_done_until`` the ceiling id of the last completed re-scan and
``rescan_done_at`` when (wall-clock UTC) it finished; ``start_id``
notices a window moved earlier, which restarts the walk.

Skipped reasons in ``Page.skipped``: ``"not public"``, ``"outside window"``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from backchannel import __version__
from backchannel.collectors.base import NormalizedPost, Page, Window
from backchannel.collectors.id_schemes import FLOORS, SINCE_IS_MIN, floor_for
from backchannel.collectors.mastodon.client import TimelineClient
from backchannel.collectors.mastodon.cursor import (
    Cursor,
    highest_id,
    id_key,
    lowest_id,
    recent_within,
)
from backchannel.collectors.mastodon.normalize import normalize_status, parse_datetime, unwrap
from backchannel.collectors.retry import Bounds, Pacer, RetryPolicy
from backchannel.errors import MalformedResponseError

log = logging.getLogger(__name__)

PAGE_LIMIT = 40  # the most Mastodon serves per page
RECENT = timedelta(minutes=10)  # a top-down walk re-reads this much below the newest post


def default_user_agent(contact_url: str | None = None) -> str:
    """A User-Agent that says who is asking and where to complain."""
    contact = f"; +{contact_url}" if contact_url else ""
    return f"backchannel/{__version__} (conference backchannel archiver{contact})"


class MastodonCollector:
    """Collects hashtags from one Mastodon server. Not shared between threads."""

    platform = "mastodon"

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
        config_key: str = "mastodon.<name>.access_token_env",
        limit: int = PAGE_LIMIT,
        bounds: Bounds | None = None,
        software: str | None = None,
    ) -> None:
        """``software``: what the server's NodeInfo says it runs; a first run starts at
        the window's start only on software whose ids carry the post's time
        (:data:`~backchannel.collectors.id_schemes.FLOORS`; when nothing is known, at a
        Snowflake, checked by ``_newest_in_window``), elsewhere at the newest post."""
        base_url = base_url.strip().rstrip("/")
        self.software = software
        self._floor_of = floor_for(software)  # None: this server's ids carry no usable time
        self._floor = self._floor_of or FLOORS["mastodon"]
        if "://" not in base_url:
            base_url = f"https://{base_url}"
        self.base_url = base_url
        self.rescan = rescan
        self.rescan_every = rescan_every
        self.limit = limit
        self.domain = urlsplit(base_url).hostname or base_url
        self._pacer = Pacer(policy, stop)
        self._client = TimelineClient(
            base_url,
            access_token,
            user_agent or default_user_agent(),
            timeout,
            self._pacer,
            config_key,
            bounds,
        )
        self._counted = 0  # requests already reported in a yielded Page
        self._unreadable: list[str] = []  # ids skipped since the last yielded Page

    @property
    def request_count(self) -> int:
        """Every HTTP request this collector made (retries and failures included)."""
        return self._client.requests_sent

    @property
    def slept(self) -> float:
        """Seconds spent waiting (rate limits, backoff)."""
        return self._pacer.slept

    @property
    def rate_limit(self) -> dict[str, str] | None:
        """The server's rate-limit headers as last seen (for ``backchannel status``)."""
        return self._client.rate_limit

    def close(self) -> None:
        self._client.close()

    def probe(self, hashtag: str) -> str:
        """Two requests that show this source usable: the instance answers, and the
        hashtag's feed reads (without a token, or with the configured one)."""
        tag = hashtag.strip().lstrip("#")
        version = self._client.server_version()
        posts = self._client.page(tag, 1)
        return f"Mastodon {version}; #{tag} readable" + ("" if posts else " (no posts yet)")

    def collect(
        self, hashtag: str, window: Window, cursor: dict[str, Any] | None
    ) -> Iterator[Page]:
        tag = hashtag.strip().lstrip("#")
        if not tag:
            raise ValueError("an empty hashtag")
        state = Cursor.load(cursor, window, self._floor_of)
        run = _Run(window)
        # The re-scan covers what earlier runs walked: below this run's starting
        # position, down to ``rescan`` before the newest post they saw. It is decided
        # now and written into every cursor of this run (``rescan_since``), so that a
        # run stopped before finishing it leaves it owed to the next one.
        ceiling = min(state.min_id, self._floor(window.end + timedelta(milliseconds=1)), key=id_key)
        floor = self._rescan_floor(state.newest_at, state.rescan_since, window)
        if state.rescan_since is None and recent_within(state.rescan_done_at, self.rescan_every):
            floor = None  # re-scanned lately; nothing is owed
        if floor is not None and id_key(floor) >= id_key(ceiling):
            floor = None
        state.rescan_since = floor

        if state.top_down:  # a server that ignores min_id, as an earlier run found
            yield from self._walk_down(tag, state, run, floor is not None)
            return

        # A walk from the window's start reads everything a re-scan would: when it
        # completes, it counts as one (the next runs within ``rescan_every`` are idle).
        from_start = state.min_id == state.start_id and floor is None
        walk_started = datetime.now(UTC)

        # 1. Forward, oldest first.
        while True:
            statuses = self._client.page(tag, self.limit, min_id=state.min_id)
            ids = [str(s["id"]) for s in statuses]
            if ids and all(i in run.ids for i in ids):
                # The page this run has read already: the server ignores min_id (Mitra
                # serves its newest page for any). Asking again would flood it; walk
                # down from its top instead, from below this page.
                log.warning("%s ignores min_id: walking #%s down from its newest post",
                            self.domain, tag)  # fmt: skip
                state.top_down = True
                yield from self._walk_down(tag, state, run, True, below=statuses)
                return
            newest = self._newest_in_window(tag, run) if not ids and from_start else None
            if newest:
                # Nothing above the window's first Snowflake, yet the newest page holds
                # posts of the window: this server's ids do not carry the time as
                # Mastodon's do (GoToSocial's ULIDs compare as text). Walk down instead,
                # from below that page (never asked for twice).
                log.warning("%s: its ids are not Mastodon's; walking #%s down from its "
                            "newest post", self.domain, tag)  # fmt: skip
                state.top_down = True
                run.ids.update(str(s["id"]) for s in newest)
                posts, skipped = self._normalize(newest, run)
                state.newest_at = _latest(state.newest_at, posts)
                yield self._page(posts, state, skipped)
                yield from self._walk_down(tag, state, run, True, below=newest)
                return
            run.ids.update(ids)
            posts, skipped = self._normalize(statuses, run)
            if statuses:
                state.min_id = highest_id(ids)
            state.newest_at = _latest(state.newest_at, posts)
            # A short page means nothing newer existed when the server answered: stop
            # here rather than spend a request on the empty page after it. Nothing is
            # lost, as the cursor is the highest id returned and the next run starts
            # there; a post that arrives later with a backdated id is the re-scan's.
            # A page wholly after the window: ids have moved past its end. (A post made
            # just before the end but delivered later could still follow; the
            # window's after-margin is there for those.)
            last = len(statuses) < self.limit or all(_created(s) > window.end for s in statuses)
            if last and from_start:
                state.rescan_done_until, state.rescan_done_at = state.min_id, walk_started
            yield self._page(posts, state, skipped)
            if last:
                break

        # 2. Backwards (newest first) over the trailing span; ``since_id`` is the floor,
        # so a short page means the span is done. Where ``since_id`` pages as ``min_id``
        # does (GoToSocial), up from the floor instead: a walk down would stop after
        # the span's lowest page.
        if floor is None:
            return
        up = (self.software or "") in SINCE_IS_MIN
        bound = floor if up else ceiling
        while True:
            if up:
                statuses = self._client.page(tag, self.limit, min_id=bound, max_id=ceiling)
            else:
                statuses = self._client.page(tag, self.limit, max_id=bound, since_id=floor)
            ids = [str(s["id"]) for s in statuses]
            repeated = bool(ids) and all(i in run.ids for i in ids)  # never ask twice
            run.ids.update(ids)
            posts, skipped = self._normalize(statuses, run)
            state.newest_at = _latest(state.newest_at, posts)
            done = len(statuses) < self.limit or repeated
            if done:
                state.rescan_since, state.rescan_done_until = None, ceiling
                state.rescan_done_at = datetime.now(UTC)
            yield self._page(posts, state, skipped)
            if done:
                break
            bound = highest_id(ids) if up else lowest_id(ids)

    def _newest_in_window(self, tag: str, run: _Run) -> list[dict[str, Any]]:
        """The newest page of ``tag`` if it holds a post of the window (one request),
        else nothing."""
        if run.ids:
            return []
        newest = self._client.page(tag, self.limit)
        return (
            newest if any(run.window.start <= _created(s) <= run.window.end for s in newest) else []
        )

    def _walk_down(
        self, tag: str, state: Cursor, run: _Run, rescan: bool,
        below: list[dict[str, Any]] | None = None,
    ) -> Iterator[Page]:  # fmt: skip
        """Newest first with ``max_id`` (the one paging every server honours), down to
        the newest post an earlier complete walk met (``top_id``, matched exactly: no id
        is compared), or until a whole page is older than where the walk must reach:
        the window's start until a walk has once been completed (a walk stopped half-way
        has read only the newest posts), then that walk's top post (``top_at``), or
        ``rescan`` before the newest post seen when a re-scan is due. One old post on a
        page is no reason to stop: some servers page in storage order. ``below``: the
        newest page, read already."""
        reach = run.window.start
        known = None
        if state.top_id is not None and state.top_at is not None:  # a walk was completed
            reach = max(reach, state.top_at - RECENT)
            known = None if rescan else state.top_id
            if rescan and state.newest_at is not None:
                reach = max(run.window.start, min(reach, state.newest_at - self.rescan))
        top = (str(below[0]["id"]), _created(below[0])) if below else None
        max_id = str(below[-1]["id"]) if below else None
        while True:
            statuses = self._client.page(tag, self.limit, **({"max_id": max_id} if max_id else {}))
            ids = [str(s["id"]) for s in statuses]
            fresh = [i for i in ids if i not in run.ids]
            run.ids.update(ids)
            top = top or ((ids[0], _created(statuses[0])) if statuses else None)
            posts, skipped = self._normalize(statuses, run)
            state.newest_at = _latest(state.newest_at, posts)
            done = (
                not fresh  # the end, or a server that repeats itself: never ask twice
                or (known is not None and known in ids)
                or all(_created(s) < reach for s in statuses)
            )
            if done:  # only a complete walk moves the mark: a stopped one is walked again
                if top is not None:
                    state.top_id, state.top_at = top
                state.rescan_since = None
                if rescan or state.rescan_done_at is None:
                    state.rescan_done_at = datetime.now(UTC)
            yield self._page(posts, state, skipped)
            if done:
                return
            max_id = ids[-1]

    # -- internals ------------------------------------------------------------------

    def _rescan_floor(
        self, newest: datetime | None, owed: str | None, window: Window
    ) -> str | None:
        floors = []
        if newest is not None:
            since = max(newest - self.rescan, window.start)
            floors.append(self._floor(since))
        if owed:
            floors.append(owed)
        return min(floors, key=id_key) if floors else None

    def _normalize(
        self, statuses: list[dict[str, Any]], run: _Run
    ) -> tuple[list[NormalizedPost], Counter[str]]:
        """Every status normalised, then filtered. A status that cannot be normalised is
        skipped as ``unreadable`` (logged by id, never content): the page goes on, so
        one stranger's post cannot stop a source."""
        normalized: list[NormalizedPost] = []
        skipped: Counter[str] = Counter()
        for raw in statuses:
            try:
                normalized.append(normalize_status(raw, self.domain))
            except MalformedResponseError as exc:
                skipped["unreadable"] += 1
                self._unreadable.append(str(raw.get("id")))
                cause = type(exc.__cause__ or exc).__name__  # its type: the text may quote content
                log.warning(
                    "%s: skipping unreadable status %s (%s)", self.domain, raw.get("id"), cause
                )
        posts: list[NormalizedPost] = []
        for post in normalized:
            run.uris[post.native_id] = post.uri
        for post in normalized:
            if post.visibility != "public":
                skipped["not public"] += 1
            elif not run.window.start <= post.created_at <= run.window.end:
                skipped["outside window"] += 1
            elif post.native_id in run.seen and run.seen[post.native_id] == post.edited_at:
                continue  # already yielded by this run (re-scan overlap)
            else:
                run.seen[post.native_id] = post.edited_at
                if post.reply_to_native_id and not post.reply_to_uri:
                    post.reply_to_uri = run.uris.get(post.reply_to_native_id)
                posts.append(post)
        return posts, skipped

    def _page(self, posts: list[NormalizedPost], state: Cursor, skipped: Counter[str]) -> Page:
        sent = self._client.requests_sent
        requests, self._counted = sent - self._counted, sent
        unreadable, self._unreadable = self._unreadable, []
        return Page(posts=posts, cursor=state.dump(), skipped=skipped, requests=requests,
                    unreadable=unreadable)  # fmt: skip


@dataclass
class _Run:
    """What one ``collect`` call remembers: local, so parallel sources share nothing."""

    window: Window
    seen: dict[str, datetime | None] = field(default_factory=dict)  # id -> edited_at yielded
    ids: set[str] = field(default_factory=set)  # every id a page of this run held
    uris: dict[str, str] = field(default_factory=dict)  # id -> uri, to resolve reply parents


def _created(raw: dict[str, Any]) -> datetime:
    return parse_datetime(unwrap(raw)["created_at"])


def _latest(current: datetime | None, posts: list[NormalizedPost]) -> datetime | None:
    times = [p.created_at for p in posts]
    if current is not None:
        times.append(current)
    return max(times) if times else None
