"""Rechecking archived Bluesky posts with a logged-in session (no database).

:meth:`PostChecker.check` takes post URIs and answers, per URI, the post view as the
AppView now sends it, or ``None`` when the post is *deleted* (platform-apis.md B5):

* ``app.bsky.feed.getPosts``, 25 URIs a request, in request order, omitting what it
  cannot hydrate: deleted, but also taken down, deactivated or blocked. So
* each omitted URI is confirmed with ``com.atproto.repo.getRecord``: ``RecordNotFound``
  (or a repository that no longer exists) is the definitive "deleted". A record
  that still exists but is not shown is *unavailable*: left out of the answer, and
  the post is kept as it is. The session's service answers getRecord for any repo
  (a PDS hands reads of other repos to the AppView).

Cost: one request per 25 posts, plus one per post that went missing. The session
(:class:`~backchannel.collectors.bluesky.session.BlueskySession`) is the collector's:
stored tokens are reused, 429s and server errors wait and retry.
"""

from __future__ import annotations

import logging
from typing import Any

from atproto_client import exceptions as ax
from atproto_client import models

from backchannel.collectors.bluesky.session import BlueskySession, _error_name
from backchannel.errors import SourceError

log = logging.getLogger(__name__)

BATCH = 25
# getRecord error names that mean the record is gone for good.
_DELETED = frozenset({"RecordNotFound", "RepoNotFound"})


class PostChecker:
    """Asks Bluesky about archived posts."""

    def __init__(self, session: BlueskySession) -> None:
        self.session = session
        self.unavailable = 0  # omitted by getPosts, but the record still exists

    @property
    def requests(self) -> int:
        return self.session.requests

    def close(self) -> None:
        self.session.close()

    def check(self, uris: list[str]) -> dict[str, dict[str, Any] | None]:
        """``{uri: post view, or None if deleted}``; unavailable URIs are left out."""
        answers: dict[str, dict[str, Any] | None] = {}
        ordered = list(dict.fromkeys(uris))
        for start in range(0, len(ordered), BATCH):
            chunk = ordered[start : start + BATCH]
            body = self.session.query(
                "app.bsky.feed.getPosts", models.AppBskyFeedGetPosts.Params(uris=chunk)
            )
            views = {
                view["uri"]: view
                for view in body.get("posts") or []
                if isinstance(view, dict) and isinstance(view.get("uri"), str)
            }
            for uri in chunk:
                if uri in views:
                    answers[uri] = views[uri]
                elif self._record_gone(uri):
                    answers[uri] = None
                else:
                    self.unavailable += 1
                    log.info("Bluesky: %s is not shown but its record exists; kept", uri)
        return answers

    def _record_gone(self, uri: str) -> bool:
        repo, collection, rkey = _parts(uri)
        params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)
        try:
            self.session.query("com.atproto.repo.getRecord", params)
        except SourceError as exc:
            cause = exc.__cause__
            if isinstance(cause, ax.RequestErrorBase) and cause.response is not None:
                name = _error_name(cause)
                message = str(getattr(cause.response.content, "message", "") or "")
                if name in _DELETED or "Could not find repo" in message:
                    return True
            raise
        return False


def _parts(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` -> its three parts."""
    rest = uri.removeprefix("at://")
    repo, _, tail = rest.partition("/")
    collection, _, rkey = tail.partition("/")
    if not (repo and collection and rkey):
        raise SourceError(f"not a record URI: {uri!r}")
    return repo, collection, rkey
