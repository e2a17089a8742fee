"""Rows added beside the core schema: story revisions, the studio's accounts and log,
and media files waiting to be removed.

Declared on the same ``Base`` as :mod:`backchannel.store.models` (imported by it), in
their own module to keep that one readable. Migrations 0006, 0007 and 0009.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backchannel.store.base import Base, utcnow


class StoryRevision(Base):
    """One saved version of a storyboard, as its Markdown file: the studio and
    ``story import`` both add one, and the studio refuses a save made on an older one."""

    __tablename__ = "story_revisions"
    __table_args__ = (UniqueConstraint("event_id", "slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    markdown: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudioUser(Base):
    """Someone who may sign in to the studio from another machine: a name, a role
    (``organiser`` or ``curator``) and an Argon2id hash of the password (never the
    password)."""

    __tablename__ = "studio_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudioAction(Base):
    """Who did what in the studio, and when (never a post's content)."""

    __tablename__ = "studio_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500), default="")


class ReleasedFile(Base):
    """A media file no row may need any more, written in the transaction that let it go
    and removed (with the file, if still unused) after that commits: a crash between
    the two leaves the row, so the next prune removes the file (migration 0006)."""

    __tablename__ = "released_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(default=utcnow)
