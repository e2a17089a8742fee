"""Sign-in links: ``/login?token=...`` signs one browser in as an organiser, once.

`backchannel studio` makes one when it starts, and `backchannel studio link` makes
another while it runs (the link lives in the database, so the running studio knows it).
Only the SHA-256 of the secret is stored. A link works once, and only for a day: a copy
of it found later in a terminal's scrollback or a browser's history opens nothing. The
session it opens is named after it ("link made at <time>"), so the action log tells
two people who signed in with links apart.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backchannel.store import StudioLink
from backchannel.studio.sessions import digest

LIFETIME = timedelta(days=1)  # an unused link stops working this long after it was made


def make_link(session: Session, now: datetime, token: str | None = None) -> str:
    """A new link's secret (``token``, when the caller made it)."""
    token = token or secrets.token_urlsafe(32)
    if session.scalar(select(StudioLink.id).where(StudioLink.token_sha256 == digest(token))):
        return token  # already known (the same secret given twice)
    session.add(StudioLink(token_sha256=digest(token), created_at=now))
    session.flush()
    return token


def use_link(session: Session, token: str, now: datetime) -> str | None:
    """The name of the session the link ``token`` opens, once; None when it is unknown,
    used already or too old. Two browsers racing with one link: one gets in."""
    used = session.execute(
        update(StudioLink)
        .where(StudioLink.token_sha256 == digest(token), StudioLink.used_at.is_(None),
               StudioLink.created_at > now - LIFETIME)
        .values(used_at=now)
    )  # fmt: skip
    if used.rowcount != 1:
        return None
    link = session.scalars(select(StudioLink).where(StudioLink.token_sha256 == digest(token))).one()
    return link_name(link)


def link_name(link: StudioLink) -> str:
    """How the log names whoever signed in with ``link`` (its number tells apart two
    links made in one second)."""
    return f"link made at {link.created_at:%Y-%m-%d %H:%M:%S} UTC (#{link.id})"
