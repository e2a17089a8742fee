"""Media files released by a transaction, removed only after it commits.

The writers that drop media rows (:func:`~backchannel.store.upkeep.remove_post`,
:func:`~backchannel.store.upkeep.erase_posts`, an edit's
:func:`~backchannel.store.rows.replace_post`, the avatar sync) call :func:`release`
in the same transaction. :func:`backchannel.media.prune` then reads
:func:`releases`, removes the files no row uses, and calls :func:`forget_releases`.
A crash anywhere leaves either the rows or nothing to do: never a file no one will
remove.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backchannel.store.models import Media, ReleasedFile, utcnow


def release(session: Session, shas: Iterable[str]) -> None:
    """Note that the files of ``shas`` may be unused once this transaction commits."""
    wanted = {sha for sha in shas if sha}
    if not wanted:
        return
    known = set(session.scalars(select(ReleasedFile.sha256).where(ReleasedFile.sha256.in_(wanted))))
    now = utcnow()
    for sha in sorted(wanted - known):
        session.add(ReleasedFile(sha256=sha, released_at=now))
    for row in session.scalars(select(ReleasedFile).where(ReleasedFile.sha256.in_(known))):
        row.released_at = now  # released again: keep it past a prune that began before
    session.flush()


def releases(session: Session) -> tuple[set[str], set[str], datetime | None]:
    """(released, of those the ones no ``Media`` row uses, the latest release time)."""
    rows = session.execute(select(ReleasedFile.sha256, ReleasedFile.released_at)).all()
    released = {sha for sha, _ in rows}
    if not released:
        return set(), set(), None
    used: set[str] = set()
    ordered = sorted(released)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        used |= set(session.scalars(select(Media.sha256).where(Media.sha256.in_(chunk))))
    return released, released - used, max(when for _, when in rows)


def forget_releases(session: Session, shas: set[str], up_to: datetime) -> None:
    """Drop the rows of ``shas`` released no later than ``up_to`` (their files are dealt
    with); a row released again since stays for the next prune."""
    ordered = sorted(shas)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        session.execute(
            delete(ReleasedFile).where(
                ReleasedFile.sha256.in_(chunk), ReleasedFile.released_at <= up_to
            )
        )
