"""What was left out of each event, and why: recorded without content.

The store records every post of an event it declines to keep (by a hash of its URI,
the reason, and the author's handle only for the author's own reasons); the export
adds what the consent rule leaves out of the stored posts *today*. The archive's
About page and ``backchannel consent report`` count both, by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.consent.rule import is_author_reason, normalize_handle
from backchannel.consent.tombstones import key_hash
from backchannel.store import Exclusion, upsert


def record(
    session: Session, event_id: int, left_out: Iterable[tuple[str, str, str]], now: datetime
) -> None:
    """Record ``(post uri, author handle, reason)`` triples for an event (idempotent)."""
    # Concurrent sources meet the same opted-out post: an atomic upsert, not read-then-add.
    upsert(
        session,
        Exclusion,
        rows(event_id, left_out, now),
        keys=["event_id", "post_key_sha256"],
        update=["author_handle", "reason", "last_seen_at"],
    )


def rows(
    event_id: int, left_out: Iterable[tuple[str, str, str]], now: datetime
) -> list[dict[str, Any]]:
    """The rows :func:`record` upserts, in one lock order (also used by the store)."""
    wanted = {key_hash(uri): (handle, reason) for uri, handle, reason in left_out}
    return [
        {
            "event_id": event_id,
            "post_key_sha256": digest,
            "author_handle": normalize_handle(handle)
            if is_author_reason(reason) and handle
            else None,
            "reason": reason,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for digest, (handle, reason) in sorted(wanted.items())
    ]


def clear(session: Session, event_id: int, uris: Iterable[str]) -> None:
    """Posts now kept (an allow entry, a signal withdrawn) are no longer left out."""
    digests = [key_hash(uri) for uri in uris]
    if digests:
        session.execute(
            delete(Exclusion).where(
                Exclusion.event_id == event_id, Exclusion.post_key_sha256.in_(digests)
            )
        )


def counts(session: Session, event_id: int) -> Counter[str]:
    """Posts left out at collection, by reason."""
    rows = session.execute(select(Exclusion.reason).where(Exclusion.event_id == event_id))
    return Counter(reason for (reason,) in rows)


def excluded_handles(session: Session, event_id: int) -> dict[str, Counter[str]]:
    """Handle -> reason -> posts, for the organiser's eyes only (never published)."""
    out: dict[str, Counter[str]] = {}
    rows = session.execute(
        select(Exclusion.author_handle, Exclusion.reason).where(
            Exclusion.event_id == event_id, Exclusion.author_handle.is_not(None)
        )
    )
    for handle, reason in rows:
        out.setdefault(handle, Counter())[reason] += 1
    return out


def forget_handle(session: Session, handle: str) -> None:
    """A forgotten author's name leaves the records; the counts stay."""
    rows = session.scalars(
        select(Exclusion).where(Exclusion.author_handle == normalize_handle(handle))
    )
    for row in rows:
        row.author_handle = None
