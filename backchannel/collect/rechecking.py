"""Recheck: archived posts asked about again at their sources, for edits and deletions.

Run by ``backchannel recheck [EVENT] [--since DAYS]`` and by the scheduler (daily,
``schedule.recheck_every_hours``, for ``schedule.recheck_days`` after an event).

* **Mastodon**: each server that served a post is asked about its local id, in
  batches of 20 (``statuses?id[]=``; one by one where a server lacks the batch
  endpoint: :mod:`backchannel.collectors.mastodon.recheck`). A 404 speaks for one
  server only (platform-apis.md A5), so a post is *deleted* when its home server
  (the host of its URI) is among the servers that saw it and no longer serves it, or
  otherwise when every server that saw it no longer serves it. Only the home server
  is asked when it saw the post: one request per 20 posts there.
* **Bluesky**: ``getPosts`` in batches of 25; an omitted post is deleted only when
  ``getRecord`` says ``RecordNotFound`` (:mod:`backchannel.collectors.bluesky.recheck`).
* **Edits** (a newer ``edited_at``, a changed ``cid``) go through the collectors'
  normalisers and the store's update path, exactly like a collected edit.
* **Deletions** remove the post row (its media rows, sightings, tags and links go with
  it) and its local media files unless another row shares them by sha256, and leave a
  tombstone that holds only a hash of the URI: deleted at the source means deleted
  here, and a server the deletion never reached cannot bring it back. The next
  export drops the post (and its copied media).
* A server that fails or will not say (401, errors past the retries) changes nothing:
  its posts are checked again next time. ``Post.checked_at`` records each answer.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from backchannel.collect.sources import bounds, misskey_collector, retry_policy
from backchannel.collectors import MISSKEY_FAMILY, NormalizedPost, Pacer
from backchannel.config import Config
from backchannel.errors import BackchannelError, ConfigError, Interrupted
from backchannel.events import get_event
from backchannel.media import prune
from backchannel.store import (
    Database,
    Event,
    EventPost,
    EventSource,
    Post,
    PostSighting,
    apply_recheck,
    remove_post,
)

log = logging.getLogger(__name__)

_WRITE_CHUNK = 200


@dataclass
class RecheckResult:
    """What one :func:`recheck` run found (counts of posts, and the requests it cost)."""

    posts: int = 0  # posts asked about
    unchanged: int = 0
    edited: int = 0
    deleted: int = 0
    unknown: int = 0  # no server would say: left as they were
    requests: int = 0
    batches: int = 0
    media_files_removed: int = 0
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)  # one line per failed server


class _Checker(Protocol):
    requests: int

    def check(self, keys: list[str]) -> dict[str, dict[str, Any] | None]: ...

    def close(self) -> None: ...


@dataclass
class _Server:
    platform: str
    base_url: str
    software: str | None = None  # a Mastodon-API source's NodeInfo name: Misskey's differ
    keys: list[str] = field(default_factory=list)  # native ids (Mastodon) or URIs
    answers: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # The checker's own reading of an answer (Misskey's notes), else the platform's.
    normalize: Callable[[dict[str, Any]], NormalizedPost] | None = None


def pending_rechecks(
    session: Session,
    event_id: int | None = None,
    now: datetime | None = None,
    every_hours: float = 24.0,
    days: float = 30.0,
) -> int:
    """Posts due a recheck: of events that ended at most ``days`` ago (or not yet), not
    checked in the last ``every_hours``. Two small queries."""
    now = now or datetime.now(UTC)
    events = select(Event.id, Event.ends_at)
    if event_id is not None:
        events = events.where(Event.id == event_id)
    ids = [i for i, ends in session.execute(events) if now <= ends + timedelta(days=days)]
    if not ids:
        return 0
    stale = now - timedelta(hours=every_hours)
    query = (
        select(func.count(func.distinct(Post.id)))
        .join(EventPost, EventPost.post_id == Post.id)
        .where(EventPost.event_id.in_(ids), Post.deleted_at.is_(None))
        .where(or_(Post.checked_at.is_(None), Post.checked_at <= stale))
    )
    return int(session.scalar(query) or 0)


def recheck(
    db: Database,
    config: Config,
    event_slug: str | None = None,
    since_days: float | None = None,
    stop: threading.Event | None = None,
) -> RecheckResult:
    """Recheck the posts of one event (or all); ``since_days``: only posts created in
    the last that many days."""
    stop = stop or threading.Event()
    result = RecheckResult()
    db.check_integrity()  # a write pass: refuse a damaged file before reading it too
    with db.reading() as session:
        posts = _posts(session, event_slug, since_days)
        sightings = _sightings(session, list(posts))
        software = dict(
            session.execute(select(EventSource.base_url, EventSource.software)).tuples().all()
        )
    result.posts = len(posts)
    plan, servers = _plan(posts, sightings)
    for server in servers.values():
        server.software = software.get(server.base_url)
    if not servers:
        return result
    workers = max(1, min(config.collect.concurrency, len(servers)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recheck") as pool:
        counts = list(pool.map(lambda s: _ask(config, s, stop, result), servers.values()))
    result.requests = sum(r for r, _ in counts)
    result.batches = sum(b for _, b in counts)
    result.interrupted = stop.is_set()
    _apply(db, config, plan, servers, result)
    log.info(
        "recheck: %d posts, %d unchanged, %d edited, %d deleted, %d unknown, %d requests",
        result.posts, result.unchanged, result.edited, result.deleted, result.unknown,
        result.requests,
    )  # fmt: skip
    return result


# -- what to ask whom -------------------------------------------------------------------


def _posts(session: Session, slug: str | None, since_days: float | None) -> dict[int, Post]:
    query = select(Post).where(Post.deleted_at.is_(None)).order_by(Post.id)
    ids = select(EventPost.post_id)
    if slug:
        ids = ids.where(EventPost.event_id == get_event(session, slug).id)
    query = query.where(Post.id.in_(ids))
    if since_days is not None:
        query = query.where(Post.created_at >= datetime.now(UTC) - timedelta(days=since_days))
    return {p.id: p for p in session.scalars(query)}


def _sightings(session: Session, post_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for start in range(0, len(post_ids), 500):
        chunk = post_ids[start : start + 500]
        for post_id, server, native_id in session.execute(
            select(PostSighting.post_id, PostSighting.server, PostSighting.native_id)
            .where(PostSighting.post_id.in_(chunk))
            .order_by(PostSighting.id)
        ):
            found.setdefault(post_id, []).append((server, native_id))
    return found


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _plan(
    posts: dict[int, Post], sightings: dict[int, list[tuple[str, str]]]
) -> tuple[dict[int, list[tuple[str, str]]], dict[str, _Server]]:
    """Per post, the (server, key) pairs to ask; per server, what to ask it."""
    plan: dict[int, list[tuple[str, str]]] = {}
    servers: dict[str, _Server] = {}
    for post_id, post in posts.items():
        seen = sightings.get(post_id, [])
        if post.platform == "bluesky":
            asked = [(server, post.uri) for server, _ in seen[:1]]
        else:
            home = [(s, n) for s, n in seen if _netloc(s) == _netloc(post.uri)]
            asked = home or seen
        plan[post_id] = asked
        for server, key in asked:
            entry = servers.setdefault(server, _Server(post.platform, server))
            entry.keys.append(key)
    return plan, servers


# -- asking ---------------------------------------------------------------------------


def _ask(
    config: Config, server: _Server, stop: threading.Event, result: RecheckResult
) -> tuple[int, int]:
    """Fill ``server.answers``; (requests, batches). Failures are logged and noted."""
    checker: _Checker | None = None
    batches = 0
    try:
        checker = _checker(config, server, stop)
        server.normalize = getattr(checker, "normalize", None)
        size = 25 if server.platform == "bluesky" else 20
        keys = list(dict.fromkeys(server.keys))
        for start in range(0, len(keys), size):
            if stop.is_set():
                break
            server.answers.update(checker.check(keys[start : start + size]))
            batches += 1
    except Interrupted:
        log.info("recheck of %s stopped", server.base_url)
    except BackchannelError as exc:
        log.warning("recheck of %s failed: %s", server.base_url, exc)
        result.errors.append(f"{server.base_url}: {exc}")
    finally:
        requests = checker.requests if checker is not None else 0
        if checker is not None:
            checker.close()
    return requests, batches


def _checker(config: Config, server: _Server, stop: threading.Event) -> _Checker:
    pacer = Pacer(retry_policy(config), stop)
    if server.platform == "mastodon" and server.software in MISSKEY_FAMILY:
        from backchannel.collectors import MisskeyChecker

        return MisskeyChecker(misskey_collector(config, server.base_url, stop))  # type: ignore[arg-type]
    if server.platform == "mastodon":
        from backchannel.collectors import StatusChecker

        token = None
        match = config.mastodon_server(server.base_url)
        if match is not None and match[1].access_token_env:
            key = f"mastodon.{match[0]}.access_token_env"
            token = config.secret(key, match[1].access_token_env)
        return StatusChecker(
            server.base_url,
            token,
            config.user_agent_for(server.base_url),
            config.collect.timeout,
            pacer,
            bounds(config),
        )
    if server.platform == "bluesky":
        from backchannel.collectors import BlueskySession, PostChecker

        handle = config.bluesky.handle
        if not handle:
            raise ConfigError(config.path, "bluesky.handle", "expected the Bluesky handle")
        password = config.secret("bluesky.app_password_env", config.bluesky.app_password_env)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", handle)
        session = BlueskySession(
            server.base_url,
            handle,
            password,
            config.resolve(f".backchannel-bluesky-{safe}.session"),  # the collector's file
            config_key="bluesky.app_password_env",
            password_env=config.bluesky.app_password_env,
            user_agent=config.user_agent_for(server.base_url),
            timeout=config.collect.timeout,
            pacer=pacer,
            bounds=bounds(config),
        )
        return PostChecker(session)
    raise ConfigError(config.path, "", f"unknown platform {server.platform!r}")


# -- deciding and storing -------------------------------------------------------------------


_MISSING = object()


def _verdict(
    post: Post, asked: list[tuple[str, str]], servers: dict[str, _Server]
) -> tuple[str, NormalizedPost | None, str | None]:
    """("present", newest version, server) / ("deleted", ..) / ("unknown", ..)."""
    newest: tuple[NormalizedPost, str] | None = None
    absent = 0
    for server, key in asked:
        answer = servers[server].answers.get(key, _MISSING)
        if answer is _MISSING:
            continue
        if answer is None:
            absent += 1
            continue
        normalize = servers[server].normalize
        normalized = (
            _normalize_with(normalize, answer, server)  # type: ignore[arg-type]
            if normalize is not None
            else _normalize(post.platform, answer, server)  # type: ignore[arg-type]
        )
        if normalized is None:
            continue
        if newest is None or _later(normalized, newest[0]):
            newest = (normalized, server)
    if newest is not None:
        return "present", newest[0], newest[1]
    if asked and absent == len(asked):
        return "deleted", None, None
    return "unknown", None, None


def _later(a: NormalizedPost, b: NormalizedPost) -> bool:
    floor = datetime.min.replace(tzinfo=UTC)
    return (a.edited_at or floor) > (b.edited_at or floor)


def _normalize_with(
    normalize: Callable[[dict[str, Any]], NormalizedPost], raw: dict[str, Any], server: str
) -> NormalizedPost | None:
    try:
        return normalize(raw)
    except (BackchannelError, TypeError, ValueError, KeyError, AttributeError) as exc:
        log.warning("recheck: unreadable answer from %s (%s); left as it was", server, exc)
        return None


def _normalize(platform: str, raw: dict[str, Any], server: str) -> NormalizedPost | None:
    try:
        if platform == "bluesky":
            from backchannel.collectors import normalize_post_view

            return normalize_post_view(raw)
        from backchannel.collectors import normalize_status

        return normalize_status(raw, urlsplit(server).hostname or server)
    except (BackchannelError, TypeError, ValueError, KeyError, AttributeError) as exc:
        log.warning("recheck: unreadable answer from %s (%s); left as it was", server, exc)
        return None


def _apply(
    db: Database,
    config: Config,
    plan: dict[int, list[tuple[str, str]]],
    servers: dict[str, _Server],
    result: RecheckResult,
) -> None:
    ids = sorted(plan)
    released: set[str] = set()
    for start in range(0, len(ids), _WRITE_CHUNK):
        now = datetime.now(UTC)
        with db.writing() as session:
            chunk = ids[start : start + _WRITE_CHUNK]
            for post in list(session.scalars(select(Post).where(Post.id.in_(chunk)))):
                state, version, server = _verdict(post, plan[post.id], servers)
                if state == "deleted":
                    log.info("recheck: %s was deleted at its source; removing it", post.uri)
                    released |= remove_post(session, post)
                    result.deleted += 1
                elif state == "present" and version is not None and server is not None:
                    before = {m.sha256 for m in post.media if m.sha256}
                    if apply_recheck(session, post, version, server, now):
                        released |= before
                        result.edited += 1
                    else:
                        result.unchanged += 1
                else:
                    result.unknown += 1
    result.media_files_removed = prune(db, config.media_dir)
