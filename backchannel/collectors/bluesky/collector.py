"""The Bluesky collector: ``app.bsky.feed.searchPosts`` per hashtag, resumable.

How a tag is walked
-------------------
A run covers one *span* of sortAt time, ``[since, until)``: the event window on the
first run; afterwards from the tag's watermark minus ``overlap`` (late-indexed posts)
to now (or the window's end). A span is read newest first with ``q="#tag"``,
``tag=[tag]``, ``sort=latest``, ``limit=100``, following the cursor. A search query
stops giving a cursor after about 10,000 results, so when a query ends having found
new posts, the next query of the span moves ``until`` to the oldest sortAt seen plus
``SLACK`` and continues. ``until`` is exclusive and several posts can share the same
millisecond (and ``latest`` is not strictly ordered), so the slack re-reads the edge
of the previous query on purpose; the URIs seen at that edge are remembered and
dropped. The span is complete when a query ends with fewer results than one page or
with nothing new; only then does the watermark move (to the span's ``until``).

The cursor
----------
Each :class:`Page` carries the state after its posts, a JSON dict::

    {"v": 1, "tag": "swrs26",
     "watermark": ISO | None,       # [covered_since, watermark) is complete
     "covered_since": ISO | None,
     "span": None | {               # the span being walked, if a run was cut short
         "since": ISO, "until": ISO,
         "query_until": ISO,        # until of the current query (exclusive)
         "cursor": str | None,      # searchPosts cursor within that query
         "count": int, "fresh": int,  # results so far in the query, and new ones
         "oldest": ISO | None,      # oldest sortAt the query has returned
         "edge": [[uri, ISO], ...], # its results within SLACK of ``oldest``
         "prev_edge": [uri, ...],   # the previous query's edge: repeats to drop
         "prev_oldest": ISO | None, # the previous query's oldest sortAt
         "strict": bool}}           # this query's until has no slack

Pass the cursor of the last committed page back and the walk resumes exactly there.
An idle incremental run re-reads only the overlap: one request per tag when the
overlap holds fewer than 100 posts, two at most otherwise in practice.

Skipped (``Page.skipped``) reasons: ``"unreadable"`` (logged with the URI), ``"not a
post"``, ``"tag not in post"`` (a search hit that does not carry the tag anywhere).
Posts of authors labelled ``!no-unauthenticated`` (who asked not to be shown to
logged-out viewers) are yielded with ``author.labels``: consent.py decides, in the
store, so that an organiser's allow entry (explicit consent) can bring them back.

atproto is imported only when a collector is built (it costs about a second).
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backchannel.collectors.base import NormalizedPost, Page, Window, normalize_hashtag
from backchannel.collectors.bluesky.normalize import (
    UnreadablePost,
    normalize_post_view,
    parse_timestamp,
    sort_at,
)
from backchannel.collectors.retry import Bounds, Pacer, RetryPolicy
from backchannel.errors import MalformedResponseError, SourceError

if TYPE_CHECKING:
    from backchannel.collectors.bluesky.session import BlueskySession

log = logging.getLogger(__name__)

SEARCH = "app.bsky.feed.searchPosts"
CURSOR_VERSION = 1
SLACK = timedelta(seconds=1)
MAX_EMPTY_PAGES = 3  # pages with a cursor but no posts, in a row, before a query is over
DEFAULT_USER_AGENT = "backchannel (+https://backchannel.example/about)"


def _iso(value: datetime) -> str:
    """The form searchPosts takes: UTC, millisecond precision (what the index keeps)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _when(value: object) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _carries_tag(post: NormalizedPost, tag: str) -> bool:
    if tag in post.tags:
        return True
    text = unicodedata.normalize("NFC", post.text).casefold()
    return re.search(rf"(?<![\w#])[#\uff03]{re.escape(tag)}(?!\w)", text) is not None


class BlueskyCollector:
    """Collects hashtags from Bluesky search. See the module docstring."""

    platform = "bluesky"

    def __init__(
        self,
        service: str,
        handle: str,
        password: str | None,
        session_path: Path | None = None,
        *,
        config_key: str = "bluesky.app_password_env",
        password_env: str | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        overlap: timedelta = timedelta(minutes=10),
        page_limit: int = 100,
        clock: Callable[[], datetime] | None = None,
        bounds: Bounds | None = None,
    ) -> None:
        from backchannel.collectors.bluesky.session import BlueskySession

        self.base_url = service
        self.pacer = Pacer(policy, stop)
        self.overlap = overlap
        self.page_limit = max(1, min(100, page_limit))
        self._clock = clock or (lambda: datetime.now(UTC))
        self._unreadable: list[str] = []  # ids skipped since the last yielded Page
        self.session: BlueskySession = BlueskySession(
            service,
            handle,
            password,
            session_path,
            config_key=config_key,
            password_env=password_env,
            user_agent=user_agent,
            timeout=timeout,
            pacer=self.pacer,
            bounds=bounds,
        )

    def close(self) -> None:
        self.session.close()

    @property
    def rate_limit(self) -> dict[str, str] | None:
        """The service's rate-limit headers as last seen (for ``backchannel status``)."""
        return self.session.rate_limit

    def __enter__(self) -> BlueskyCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def login(self) -> None:
        """Log in now (reusing a stored session) rather than at the first request."""
        self.session.ensure_login()

    def probe(self, hashtag: str) -> str:
        """Log in (reusing a stored session) and search the hashtag for one post."""
        from atproto import models

        tag = hashtag.strip().lstrip("#")
        self.session.ensure_login()
        params = models.AppBskyFeedSearchPosts.Params(q=f"#{tag}", tag=[tag], limit=1)
        found = self.session.query(SEARCH, params)
        posts = found.get("posts") or []
        return f"logged in as {self.session.handle}; #{tag} searchable" + (
            "" if posts else " (no posts yet)"
        )

    # -- the walk ----------------------------------------------------------------------

    def _new_span(self, tag: str, window: Window, cursor: dict[str, Any]) -> dict[str, Any] | None:
        until = min(window.end, self._clock())
        watermark = _when(cursor.get("watermark"))
        covered = _when(cursor.get("covered_since"))
        if watermark and covered and covered <= window.start:
            since = max(window.start, watermark - self.overlap)
        else:
            since = window.start  # first run, or the window now starts earlier
            cursor["covered_since"] = _iso(window.start)
            cursor["watermark"] = None
        if since >= until:
            return None
        return {
            "since": _iso(since),
            "until": _iso(until),
            "query_until": _iso(until),
            "cursor": None,
            "count": 0,
            "fresh": 0,
            "oldest": None,
            "edge": [],
            "prev_edge": [],
            "prev_oldest": None,
            "strict": False,
        }

    def collect(
        self, hashtag: str, window: Window, cursor: dict[str, Any] | None
    ) -> Iterator[Page]:
        """Yield pages for ``hashtag`` within ``window``, resuming after ``cursor``."""
        tag = normalize_hashtag(hashtag)
        if not tag:
            raise SourceError(f"Bluesky: {hashtag!r} is not a hashtag")
        state: dict[str, Any] = {"v": CURSOR_VERSION, "tag": tag, "watermark": None}
        state["covered_since"] = None
        state["span"] = None
        if cursor and cursor.get("v") == CURSOR_VERSION and cursor.get("tag") == tag:
            # A deep copy: the walk mutates its state, never the caller's cursor.
            state.update(
                copy.deepcopy({k: cursor.get(k) for k in ("watermark", "covered_since", "span")})
            )
        elif cursor:
            log.warning("Bluesky #%s: ignoring a cursor this collector did not make", tag)
        if not state["span"]:
            state["span"] = self._new_span(tag, window, state)
            if state["span"] is None:
                log.info("Bluesky #%s: nothing to collect before %s", tag, window.end)
                return
        seen: set[str] = set()  # URIs yielded in this run, so a run never repeats itself
        resumed_cursor = state["span"]["cursor"] is not None
        empty_pages = 0
        while True:
            span = state["span"]
            before = self.session.requests
            params = self._params(tag, span)
            try:
                body = self.session.query(SEARCH, params)
            except SourceError as exc:
                # Only a plain refusal (400) of a cursor from an earlier run is retried;
                # retries, logins and malformed bodies have their own errors.
                if not resumed_cursor or type(exc) is not SourceError:
                    raise
                # A stored search cursor the server no longer accepts: redo the query.
                log.warning("Bluesky #%s: cursor refused (%s); restarting the query", tag, exc)
                span.update(cursor=None, count=0, fresh=0, oldest=None, edge=[])
                resumed_cursor = False
                continue
            resumed_cursor = False
            views = body.get("posts")
            next_cursor = body.get("cursor")
            if not isinstance(views, list) or not (
                next_cursor is None or isinstance(next_cursor, str)
            ):
                raise MalformedResponseError(f"Bluesky {SEARCH}: no posts list in the answer")
            posts, skipped = self._read(views, tag, span, seen)
            empty_pages = empty_pages + 1 if not views else 0
            if next_cursor and next_cursor != span["cursor"] and empty_pages < MAX_EMPTY_PAGES:
                span["cursor"] = next_cursor
            else:
                self._end_query(tag, state)
            unreadable, self._unreadable = self._unreadable, []
            yield Page(
                posts=posts,
                cursor=_copy(state),
                skipped=skipped,
                requests=self.session.requests - before,
                unreadable=unreadable,
            )
            if state["span"] is None:
                return
            self.pacer.check()

    def _params(self, tag: str, span: dict[str, Any]) -> Any:
        from atproto import models

        return models.AppBskyFeedSearchPosts.Params(
            q=f"#{tag}",
            tag=[tag],
            sort="latest",
            since=span["since"],
            until=span["query_until"],
            limit=self.page_limit,
            cursor=span["cursor"],
        )

    def _read(
        self, views: list[Any], tag: str, span: dict[str, Any], seen: set[str]
    ) -> tuple[list[NormalizedPost], Counter[str]]:
        """Normalise one page; update the query's count, oldest and edge."""
        posts: list[NormalizedPost] = []
        skipped: Counter[str] = Counter()
        prev_edge = set(span["prev_edge"])
        edge = {uri: when for uri, when in span["edge"]}
        oldest = _when(span["oldest"])
        for view in views:
            uri = view.get("uri") if isinstance(view, dict) else None
            when = sort_at(view) if isinstance(view, dict) else None
            span["count"] += 1
            if isinstance(uri, str) and uri in prev_edge:
                continue  # the slack re-read this on purpose; it was handled last query
            if isinstance(uri, str) and when is not None:
                if oldest is None or when < oldest:
                    oldest = when
                edge[uri] = _precise(when)
            if isinstance(uri, str) and uri in seen:
                continue
            span["fresh"] += 1
            if isinstance(uri, str):
                seen.add(uri)
            try:
                post = normalize_post_view(view)
            except UnreadablePost as exc:
                log.warning("Bluesky #%s: skipping a post: %s", tag, exc)
                skipped[exc.reason] += 1
                self._unreadable.append(str(uri))
                continue
            except (TypeError, ValueError, KeyError, AttributeError, IndexError):
                # A shape nobody foresaw: lose this post, never its page.
                log.warning("Bluesky #%s: skipping unreadable post %s", tag, uri, exc_info=True)
                skipped["unreadable"] += 1
                self._unreadable.append(str(uri))
                continue
            # Authors labelled !no-unauthenticated are yielded with their labels: the
            # store's consent rule leaves them out (and records why) unless the
            # organiser holds their explicit consent, the one place that decides.
            if not _carries_tag(post, tag):
                log.info("Bluesky #%s: %s does not carry the tag", tag, post.uri)
                skipped["tag not in post"] += 1
            else:
                posts.append(post)
        if oldest is not None:
            limit = oldest + SLACK
            span["edge"] = sorted(
                ([u, w] for u, w in edge.items() if (_when(w) or oldest) < limit),
                key=lambda item: (item[1], item[0]),
            )
            span["oldest"] = _precise(oldest)
        return posts, skipped

    def _end_query(self, tag: str, state: dict[str, Any]) -> None:
        """A query gave no further cursor: finish the span, or start the next query.

        * fewer results than one page: nothing was cut off, the span is complete;
        * new posts: continue below the oldest, re-reading ``SLACK`` above it;
        * only repeats of the previous edge (a cap spent inside ``SLACK``, or simply
          nothing older): one more query strictly below the previous oldest, without
          slack; if that too brings nothing new, the span is complete.
        """
        span = state["span"]
        oldest = _when(span["oldest"])
        query_until = _when(span["query_until"])
        prev_oldest = _when(span.get("prev_oldest"))
        if span["count"] < self.page_limit:
            next_until = None
        elif span["fresh"] and oldest is not None:
            next_until = oldest + SLACK
            if query_until is not None and next_until >= query_until:
                next_until = oldest  # the slack would not move us: step below instead
        elif prev_oldest is not None and not span.get("strict"):
            next_until = prev_oldest
            oldest = prev_oldest
            log.warning(
                "Bluesky #%s: a whole query of repeats; stepping below %s without slack "
                "(posts within that millisecond beyond the cap cannot be reached)",
                tag,
                _precise(prev_oldest),
            )
        else:
            next_until = None
        if next_until is None:
            log.info("Bluesky #%s: complete up to %s", tag, span["until"])
            state["watermark"] = span["until"]
            state["span"] = None
            return
        log.info(
            "Bluesky #%s: query ended after %d results; continuing below %s",
            tag,
            span["count"],
            _iso(next_until),
        )
        span.update(
            query_until=_iso(next_until),
            strict=next_until == oldest,
            cursor=None,
            count=0,
            fresh=0,
            oldest=None,
            prev_oldest=_precise(oldest) if oldest else None,
            prev_edge=[uri for uri, _ in span["edge"]] or span["prev_edge"],
            edge=[],
        )


def _precise(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _copy(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of the state: the page keeps it while the walk goes on."""
    span = state["span"]
    copied = dict(state)
    if span is not None:
        copied["span"] = {
            **span,
            "edge": [list(item) for item in span["edge"]],
            "prev_edge": list(span["prev_edge"]),
        }
    return copied
