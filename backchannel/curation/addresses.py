"""Post addresses: the ways a person names a post, resolved to the archived post.

A post may be named by

* its canonical URI (an ActivityPub id, or an ``at://`` URI);
* its web URL on its home server (``https://home.example/@user/ID``);
* its web URL on any other server that saw it (``https://server.example/@user@home/ID``),
  found through the :class:`~backchannel.store.models.PostSighting` of that server;
* its ``bsky.app`` URL (``https://bsky.app/profile/<handle or DID>/post/<rkey>``);
* an ``at://`` URI whose authority is a handle rather than a DID.

Used by storyboards (:mod:`backchannel.curation.stories`) and by ``post`` commands; the
``forget`` command reuses it.
"""

from __future__ import annotations

import difflib
import re
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backchannel.consent import key_hash
from backchannel.store import Author, EventPost, Post, PostSighting, Tombstone

_BSKY_WEB = re.compile(
    r"^https?://(?:www\.)?bsky\.app/profile/([^/\s]+)/post/([A-Za-z0-9._:~-]+)/?$"
)
_AT_URI = re.compile(r"^at://([^/\s]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]+)$")
_MASTODON_PATH = re.compile(r"^/(?:@([^/@\s]+)(?:@([^/\s]+))?|users/([^/\s]+)/statuses)/(\d+)/?$")
_ADDRESS = re.compile(r"^(?:https?://[^\s<>]+|at://[^\s<>]+)$")
_CANDIDATES = 20_000  # how many archived addresses "did you mean" compares against


def is_address(line: str) -> bool:
    """True when ``line`` is nothing but a web address or an ``at://`` URI."""
    return bool(_ADDRESS.match(clean(line)))


def clean(address: str) -> str:
    """The address without surrounding space, ``<...>`` brackets or a ``#fragment``."""
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return text.split("#", 1)[0] if text.startswith("http") else text


def _did_for(session: Session, actor: str) -> str | None:
    if actor.startswith("did:"):
        return actor
    return session.scalar(
        select(Author.uri).where(Author.platform == "bluesky", Author.handle == actor.lower())
    )


def _at_uri(session: Session, address: str) -> str | None:
    """The ``at://did/...`` form of a bsky.app URL or a handle-based at:// URI."""
    match = _BSKY_WEB.match(address) or _AT_URI.match(address)
    if not match:
        return None
    did = _did_for(session, match.group(1))
    return f"at://{did}/app.bsky.feed.post/{match.group(2)}" if did else None


def resolve(session: Session, address: str) -> Post | None:
    """The archived post ``address`` names, or None."""
    address = clean(address)
    if not address:
        return None
    at_uri = _at_uri(session, address)
    if at_uri:
        return session.scalar(select(Post).where(Post.uri == at_uri))
    variants = {address, address.rstrip("/")}
    post = session.scalar(
        select(Post).where(or_(Post.uri.in_(variants), Post.url.in_(variants))).limit(1)
    )
    if post is not None:
        return post
    parts = urlsplit(address)
    match = _MASTODON_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or not match:
        return None
    server = f"{parts.scheme}://{parts.netloc.lower()}"
    return session.scalar(
        select(Post)
        .join(PostSighting, PostSighting.post_id == Post.id)
        .where(PostSighting.server == server, PostSighting.native_id == match.group(4))
    )


def forgotten(session: Session, address: str) -> bool:
    """True when a tombstone says the post at ``address`` was forgotten on request.

    Tombstones keep a hash of the post's canonical URI (see ``store.key_hash``); this
    checks the forms of the canonical URI that can be worked out from the address.
    """
    address = clean(address)
    keys = {address, address.rstrip("/")}
    at_uri = _at_uri(session, address)
    if at_uri:
        keys.add(at_uri)
    parts = urlsplit(address)
    match = _MASTODON_PATH.match(parts.path) if parts.scheme in ("http", "https") else None
    if match and match.group(1) and not match.group(2):  # home-server web URL
        keys.add(
            f"{parts.scheme}://{parts.netloc}/users/{match.group(1)}/statuses/{match.group(4)}"
        )
    hashes = [key_hash(k) for k in keys]
    found = session.scalar(
        select(Tombstone.id).where(Tombstone.kind == "post", Tombstone.key_sha256.in_(hashes))
    )
    return found is not None


def closest(session: Session, address: str, event_id: int | None = None) -> str | None:
    """The archived address most like ``address`` (for "did you mean"), or None."""
    query = select(Post.uri, Post.url).limit(_CANDIDATES)
    if event_id is not None:
        query = query.join(EventPost, EventPost.post_id == Post.id).where(
            EventPost.event_id == event_id
        )
    candidates: list[str] = []
    for uri, url in session.execute(query):
        candidates.append(uri)
        if url:
            candidates.append(url)
    target = clean(address)
    matches = difflib.get_close_matches(target, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None
