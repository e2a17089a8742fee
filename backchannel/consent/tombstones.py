"""Tombstones: what ``forget`` leaves behind, holding no content.

A tombstone keeps only the SHA-256 of an identifier: a post's canonical URI, or an
author's URI and (normalised) handle. The store checks every collected post against
them, so nothing forgotten comes back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.consent.rule import normalize_handle
from backchannel.store import Tombstone


def key_hash(identifier: str) -> str:
    """What a tombstone keeps of an identifier: a hash, never the identifier itself."""
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()


def handle_key(handle: str) -> str:
    return key_hash("handle:" + normalize_handle(handle))


def add(session: Session, kind: str, digests: Iterable[str], reason: str | None) -> int:
    """Tombstones of ``kind`` for ``digests`` not already buried; how many were added."""
    wanted = set(digests)
    have = set(
        session.scalars(
            select(Tombstone.key_sha256).where(
                Tombstone.kind == kind, Tombstone.key_sha256.in_(wanted)
            )
        )
    )
    for digest in sorted(wanted - have):
        session.add(Tombstone(kind=kind, key_sha256=digest, reason=reason))
    session.flush()
    return len(wanted - have)


def bury_posts(session: Session, uris: Iterable[str], reason: str | None) -> int:
    """Tombstones for posts by URI, stored or not (a deletion read from a file)."""
    return add(session, "post", [key_hash(uri) for uri in uris], reason)


def buried(session: Session, digests: Iterable[str]) -> set[str]:
    wanted = list(set(digests))
    if not wanted:
        return set()
    return set(
        session.scalars(select(Tombstone.key_sha256).where(Tombstone.key_sha256.in_(wanted)))
    )


def buried_reasons(session: Session, digests: Iterable[str]) -> dict[str, str | None]:
    """Each buried digest with the reason its tombstone gives."""
    wanted = list(set(digests))
    if not wanted:
        return {}
    rows = session.execute(
        select(Tombstone.key_sha256, Tombstone.reason).where(Tombstone.key_sha256.in_(wanted))
    )
    return dict(rows.all())
