"""``app.bsky.feed.searchPosts`` over a sandbox :class:`World`.

Behaves as the real AppView does where a collector can tell (platform-apis.md B1):
terms in ``q`` and every ``tag`` parameter are ANDed; ``#tag`` in ``q`` and ``tag``
match hashtags case-insensitively, whether written in the text, in a tag facet or
only in the record's ``tags[]``; ``since`` is inclusive and ``until`` exclusive, both
on sortAt; ``latest`` is newest first; the cursor is opaque and absent at the end;
and a query stops giving a cursor after ``cap`` results (about 10,000 for real).

The cursor carries the last key served, not an offset, so posts deleted or arriving
while someone pages do not shift the pages.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from backchannel.sandbox.bluesky_ids import micros, parse_datetime
from backchannel.sandbox.bluesky_model import Key, Post
from backchannel.sandbox.bluesky_world import World

_TERM = re.compile(r'"([^"]*)"|(\S+)')


class XrpcFailure(Exception):
    """An XRPC error answer (status, error name, message); the server sends it as JSON.

    Internal to the sandbox: it never leaves the request handler.
    """

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


@dataclass
class Query:
    tags: list[str] = field(default_factory=list)  # lower-cased, no '#'
    words: list[str] = field(default_factory=list)  # lower-cased
    author: str | None = None
    lang: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "latest"
    limit: int = 25
    below: Key | None = None  # from the cursor: serve keys below this one
    served: int = 0  # from the cursor: results already handed out for this query


def _when(value: str, name: str) -> datetime:
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise XrpcFailure(400, "BadQueryString", f"{name} must be a datetime: {value!r}") from exc


def parse_query(
    q: str | None,
    tags: list[str],
    *,
    since: str | None = None,
    until: str | None = None,
    sort: str | None = None,
    limit: str | None = None,
    cursor: str | None = None,
) -> Query:
    if q is None:
        raise XrpcFailure(400, "InvalidRequest", 'Error: Params must have the property "q"')
    query = Query(sort=sort or "latest")
    if query.sort not in ("latest", "top"):
        raise XrpcFailure(400, "InvalidRequest", "Error: sort must be one of (top|latest)")
    try:
        query.limit = int(limit) if limit is not None else 25
    except ValueError as exc:
        raise XrpcFailure(400, "InvalidRequest", "Error: limit must be an integer") from exc
    if not 1 <= query.limit <= 100:
        raise XrpcFailure(400, "InvalidRequest", "Error: limit must be between 1 and 100")
    for tag in tags:
        if tag.startswith("#") or not tag:
            raise XrpcFailure(
                400, "BadQueryString", f"tag must not be empty or start with #: {tag!r}"
            )
        query.tags.append(tag.lower())
    for match in _TERM.finditer(q):
        phrase, term = match.group(1), match.group(2)
        if phrase is not None:
            query.words.append(phrase.lower())
        elif term.startswith("#") and len(term) > 1:
            query.tags.append(term[1:].lower())
        elif term.startswith("from:"):
            query.author = term[5:]
        elif term.startswith("lang:"):
            query.lang = term[5:].lower()
        elif term.startswith(("since:", "until:")):
            name, value = term.split(":", 1)
            setattr(query, name, _when(value, name))
        else:
            query.words.append(term.lower())
    # Parameters win over the same operator inside q, as the AppView merges them.
    if since is not None:
        query.since = _when(since, "since")
    if until is not None:
        query.until = _when(until, "until")
    if cursor:
        query.below, query.served = decode_cursor(cursor)
    return query


def encode_cursor(key: Key, served: int) -> str:
    payload = json.dumps({"k": list(key), "n": served}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[Key, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return (int(data["k"][0]), str(data["k"][1])), int(data["n"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise XrpcFailure(400, "InvalidRequest", "malformed cursor") from exc


def _matches(world: World, post: Post, query: Query, author_did: str | None) -> bool:
    if not post.live:
        return False
    if query.since is not None and post.key[0] < micros(query.since):
        return False
    if any(tag not in post.search_tags for tag in query.tags):
        return False
    if any(word not in post.search_text for word in query.words):
        return False
    if author_did is not None and post.author.did != author_did:
        return False
    if query.lang is not None:
        langs = post.record.get("langs")
        if not isinstance(langs, list) or query.lang not in [str(x).lower() for x in langs]:
            return False
    return True


def search(world: World, query: Query, cap: int) -> tuple[list[Post], str | None]:
    """One page of results and the cursor for the next (None at the end or the cap).

    Hold ``world.lock`` while calling and while rendering the page.
    """
    author_did = None
    if query.author is not None:
        account = world.account(query.author)
        if account is None:
            return [], None
        author_did = account.did
    room = min(query.limit, cap - query.served)
    if room <= 0:
        return [], None
    index = world.index_for(query.tags)
    below = query.below
    if query.until is not None:
        until_key: Key = (micros(query.until), "")
        below = until_key if below is None else min(below, until_key)
    since_us = micros(query.since) if query.since is not None else None
    if query.sort == "top":
        return _top(world, query, index, author_did, room, cap)
    page: list[Post] = []
    more = False
    for post in world.walk_down(index, below):
        if since_us is not None and post.key[0] < since_us:
            break  # sorted: everything further down is older still
        if not _matches(world, post, query, author_did):
            continue
        if len(page) == room:
            more = True
            break
        page.append(post)
    served = query.served + len(page)
    if not more or served >= cap or not page:
        return page, None
    return page, encode_cursor(page[-1].key, served)


def _top(
    world: World,
    query: Query,
    index: list[Key],
    author_did: str | None,
    room: int,
    cap: int,
) -> tuple[list[Post], str | None]:
    """``sort=top``: most engagement first. Paged by offset (``served``); scans all."""
    found = [p for p in world.walk_down(index, None) if _matches(world, p, query, author_did)]
    if query.until is not None:
        found = [p for p in found if p.key[0] < micros(query.until)]
    found.sort(key=lambda p: (p.like_count + p.repost_count + p.quote_count, p.key), reverse=True)
    page = found[query.served : query.served + room]
    served = query.served + len(page)
    if served >= min(len(found), cap) or not page:
        return page, None
    return page, encode_cursor(page[-1].key, served)
