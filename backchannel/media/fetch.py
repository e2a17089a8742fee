"""Media preservation: local copies of attachments, avatars and custom emoji.

:func:`fetch_media` is run by ``backchannel media fetch``, after ``backchannel
collect`` (unless ``--no-media``) and by the scheduler. It

1. makes sure avatars and custom emoji have ``Media`` rows
   (:func:`backchannel.store.upkeep.sync_profile_media`);
2. picks the rows that are due: ``pending`` ones, and ``failed`` ones whose last try
   (``fetched_at``) is older than a backoff that grows with ``fetch_attempts``
   (5 min, 20 min, 80 min, ... up to a day), until :data:`MAX_ATTEMPTS`;
3. downloads each distinct URL once, a few at a time
   (:class:`backchannel.media.download.Downloader`), into the content-addressed
   store (:mod:`backchannel.media.files`), so identical files are stored once;
4. records each outcome in its own transaction: ``done`` with sha256, path, size
   and type; ``failed`` with the error (retried later); ``gone`` after a 404 or 410
   on :data:`GONE_AFTER` separate runs. A refused file (type or size) is ``failed``
   with its attempts spent: only ``--retry`` (``retry_failed``) tries it again, say
   after raising ``media.max_bytes``.

What gets fetched for a row: images, avatars and emoji their file; video and gifv
their still image (poster or thumbnail), and the video file itself first when
``media.fetch_video`` is on (never an HLS playlist); audio only its preview image.
When the original is refused or gone, the smaller preview is kept instead.
A row never fetched keeps its alt text, and the exporter shows a placeholder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backchannel.collectors import RetryPolicy
from backchannel.config import Config
from backchannel.errors import Interrupted
from backchannel.events import get_event
from backchannel.media.download import Downloaded, Downloader, Gone, Limits, Refused, Unavailable
from backchannel.media.files import MediaStore, prune
from backchannel.store import Database, EventPost, Media, Post, sync_profile_media

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # runs that try a failing file before it waits for --retry
GONE_AFTER = 2  # runs that must see 404/410 before a file counts as gone for good
_FIRST_BACKOFF = timedelta(minutes=5)
_MAX_BACKOFF = timedelta(days=1)

Progress = Callable[[int, int], None]
Candidates = tuple[tuple[str, bool], ...]  # (url, video allowed), best first


@dataclass
class MediaResult:
    """What one :func:`fetch_media` run did (counts of ``Media`` rows)."""

    due: int = 0
    fetched: int = 0  # now stored locally (downloaded, or a file already stored)
    reused: int = 0  # of those, copied from a row with the same URL: no request
    failed: int = 0  # to be retried later
    refused: int = 0  # wrong type or too large: not retried without --retry
    gone: int = 0  # 404/410 for good: placeholder and alt text
    requests: int = 0
    bytes: int = 0
    interrupted: bool = False
    errors: dict[str, int] = field(default_factory=dict)  # error -> rows


@dataclass
class _Outcome:
    state: str  # done gone refused unavailable interrupted
    downloaded: Downloaded | None = None
    error: str | None = None


def media_backlog(session: Session, event_id: int | None = None) -> int:
    """Media rows still to fetch: pending, or failed with tries left. One query."""
    query = select(func.count(Media.id)).where(_waiting(retry_failed=False))
    if event_id is not None:
        query = query.where(_of_event(event_id))
    return int(session.scalar(query) or 0)


def fetch_media(
    db: Database,
    config: Config,
    event_slug: str | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    *,
    retry_failed: bool = False,
) -> MediaResult:
    """Fetch the media that are due, for one event or all (see the module docstring)."""
    stop = stop or threading.Event()
    db.check_integrity()  # a write pass: refuse a damaged file before reading it too
    store = MediaStore(config.media_dir)
    store.clear_stale()
    with db.writing() as session:
        event_id = get_event(session, event_slug).id if event_slug else None
        sync_profile_media(session, event_id)
    prune(db, store.root)
    now = datetime.now(UTC)
    with db.reading() as session:
        groups, reused = _due(session, event_id, now, retry_failed, config)
    result = MediaResult(due=sum(len(ids) for ids in groups.values()) + len(reused))
    done = 0
    for row_id, copy in reused.items():
        with db.writing() as session:
            _record(session, [row_id], _Outcome("done", copy), now, result)
        result.reused += 1
        done += 1
    if progress:
        progress(done, result.due)
    if not groups:
        return result
    limits = Limits(
        max_bytes=config.media.max_bytes,
        max_video_bytes=config.media.max_video_bytes,
        timeout=config.media.timeout,
        retries=config.media.retries,
        deadline=config.media.deadline,
    )
    policy = RetryPolicy(attempts=config.media.retries, backoff_cap=config.collect.backoff_cap)
    for candidates in groups:
        for url, _video in candidates:
            config.user_agent_for(url)  # the placeholder goes nowhere but this machine
    downloader = Downloader(store, limits, config.collect.user_agent, policy, stop)
    workers = max(1, min(config.media.concurrency, len(groups)))
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media") as pool:
            futures: dict[Future[_Outcome], list[int]] = {
                pool.submit(_download, downloader, candidates): ids
                for candidates, ids in groups.items()
            }
            for future in as_completed(futures):
                outcome = future.result()
                ids = futures[future]
                if outcome.state == "interrupted" or stop.is_set():
                    result.interrupted = True
                    for other in futures:
                        other.cancel()
                    if outcome.state == "interrupted":
                        continue
                with db.writing() as session:
                    _record(session, ids, outcome, datetime.now(UTC), result)
                done += len(ids)
                if progress:
                    progress(done, result.due)
    finally:
        result.requests = downloader.requests
        downloader.close()
    log.info(
        "media: %d due, %d stored, %d failed, %d refused, %d gone, %d requests",
        result.due, result.fetched, result.failed, result.refused, result.gone, result.requests,
    )  # fmt: skip
    return result


# -- choosing ---------------------------------------------------------------------------


def _waiting(retry_failed: bool) -> object:
    if retry_failed:
        return Media.fetch_state.in_(("pending", "failed"))
    return or_(
        Media.fetch_state == "pending",
        and_(Media.fetch_state == "failed", Media.fetch_attempts < MAX_ATTEMPTS),
    )


def _of_event(event_id: int) -> object:
    in_event = select(EventPost.post_id).where(EventPost.event_id == event_id)
    authors = (
        select(Post.author_id)
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id == event_id)
    )
    return or_(
        Media.post_id.in_(in_event),
        and_(Media.post_id.is_(None), Media.author_id.in_(authors)),
        Media.kind == "emoji",  # shared by URL between events; cheap to include
    )


def backoff(attempts: int) -> timedelta:
    """How long a file that failed ``attempts`` times waits before the next try."""
    return min(_MAX_BACKOFF, _FIRST_BACKOFF * 4 ** max(0, attempts - 1))


def candidates(
    kind: str,
    remote_url: str | None,
    preview_url: str | None,
    playlist_url: str | None,
    fetch_video: bool,
) -> Candidates:
    """The URLs that may give a row its local copy, best first (module docstring)."""
    found: list[tuple[str, bool]] = []
    if kind in ("video", "gifv") and fetch_video and playlist_url:
        if not playlist_url.split("?", 1)[0].endswith(".m3u8"):
            found.append((playlist_url, True))
    still = preview_url if kind == "audio" else remote_url or preview_url
    for url in (still, preview_url):
        if url and url.startswith(("https://", "http://")) and (url, False) not in found:
            found.append((url, False))
    return tuple(found)


def _due(
    session: Session, event_id: int | None, now: datetime, retry_failed: bool, config: Config
) -> tuple[dict[Candidates, list[int]], dict[int, Downloaded]]:
    """Rows to download, grouped by what to fetch; and rows an earlier copy serves."""
    deleted = select(Post.id).where(Post.deleted_at.is_not(None))
    query = select(
        Media.id, Media.kind, Media.remote_url, Media.preview_url, Media.playlist_url,
        Media.fetch_state, Media.fetch_attempts, Media.fetched_at,
    ).where(
        _waiting(retry_failed), or_(Media.post_id.is_(None), Media.post_id.not_in(deleted))
    ).order_by(Media.id)  # fmt: skip
    if event_id is not None:
        query = query.where(_of_event(event_id))
    groups: dict[Candidates, list[int]] = {}
    for row_id, kind, remote, preview, playlist, state, attempts, tried_at in session.execute(
        query
    ):
        if state == "failed" and not retry_failed and tried_at is not None:
            if now - tried_at < backoff(attempts):
                continue
        urls = candidates(kind, remote, preview, playlist, config.media.fetch_video)
        groups.setdefault(urls, []).append(row_id)
    copies = _stored_copies(session, {urls[0][0] for urls in groups if urls}, config)
    reused: dict[int, Downloaded] = {}
    for urls in list(groups):
        if urls and urls[0][0] in copies:
            for row_id in groups.pop(urls):
                reused[row_id] = copies[urls[0][0]]
    return groups, reused


def _stored_copies(session: Session, urls: set[str], config: Config) -> dict[str, Downloaded]:
    """Files already stored for these URLs by other rows (and still on disk)."""
    store = MediaStore(config.media_dir)
    found: dict[str, Downloaded] = {}
    ordered = sorted(urls)
    for start in range(0, len(ordered), 500):
        rows = session.execute(
            select(
                Media.remote_url, Media.sha256, Media.size, Media.content_type, Media.local_path
            ).where(
                Media.fetch_state == "done",
                Media.fetch_error.is_(None),  # the original itself, not a fallback preview
                Media.remote_url.in_(ordered[start : start + 500]),
            )
        )
        for url, sha, size, content_type, path in rows:
            if url not in found and sha and path and content_type and store.has(path):
                found[url] = Downloaded(sha, size or 0, content_type, path)
    return found


# -- fetching and recording -------------------------------------------------------------


def _shown(url: str, most: int = 200) -> str:
    """A URL as an error names it: a stranger's can be any length."""
    return url if len(url) <= most else f"{url[:most]}… ({len(url):,} characters)"


def _download(downloader: Downloader, urls: Candidates) -> _Outcome:
    """Try the candidates in order; a refusal or a 404 moves on to the next."""
    if not urls:
        return _Outcome("refused", error="no URL to fetch")
    first: _Outcome | None = None
    for url, allow_video in urls:
        try:
            got = downloader.fetch(url, allow_video)
        except Interrupted:
            return _Outcome("interrupted")
        except Unavailable as exc:
            return _Outcome("unavailable", error=f"{_shown(url)}: {exc}")
        except Gone as exc:
            first = first or _Outcome("gone", error=f"{_shown(url)}: {exc}")
            continue
        except Refused as exc:
            first = first or _Outcome("refused", error=f"{_shown(url)}: {exc}")
            continue
        note = f"kept a smaller copy: {first.error}" if first else None
        return _Outcome("done", got, note)
    assert first is not None
    return first


def _record(
    session: Session, ids: list[int], outcome: _Outcome, now: datetime, result: MediaResult
) -> None:
    for row in session.scalars(select(Media).where(Media.id.in_(ids))):
        row.fetched_at = now  # for failed rows: when it was last tried
        row.fetch_error = outcome.error
        if outcome.state == "done" and outcome.downloaded is not None:
            got = outcome.downloaded
            row.sha256, row.local_path, row.size = got.sha256, got.local_path, got.size
            row.content_type, row.fetch_state = got.content_type, "done"
            row.fetch_attempts += 1
            result.fetched += 1
            result.bytes += got.size
            continue
        row.sha256 = row.local_path = None
        if outcome.state == "refused":
            row.fetch_state, row.fetch_attempts = "failed", max(MAX_ATTEMPTS, row.fetch_attempts)
            result.refused += 1
        elif outcome.state == "gone":
            row.fetch_attempts += 1
            row.fetch_state = "gone" if row.fetch_attempts >= GONE_AFTER else "failed"
            if row.fetch_state == "gone":
                result.gone += 1
            else:
                result.failed += 1
        else:
            row.fetch_state = "failed"
            row.fetch_attempts += 1
            result.failed += 1
        key = (outcome.error or "").split(": ", 1)[-1]
        result.errors[key] = result.errors.get(key, 0) + 1
