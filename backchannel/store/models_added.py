"""Rows added beside the core schema: story revisions, the studio's accounts, sessions,
sign-in links and log, media files waiting to be removed, and imported files.

Declared on the same ``Base`` as :mod:`backchannel.store.models` (imported by it), in
their own module to keep that one readable. Migrations 0006, 0007, 0009, 0010, 0011,
0013, 0014 and 0016.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from backchannel.store.base import Base, utcnow


class StoryRevision(Base):
    """One saved version of a storyboard, as its Markdown file: the studio and
    ``story import`` both add one, and the studio refuses a save made on an older one.
    The newest holds its ``markdown``; an older one, the ``delta`` that turns the next
    revision into it (migration 0011; see ``curation.deltas``)."""

    __tablename__ = "story_revisions"
    __table_args__ = (UniqueConstraint("event_id", "slug", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    number: Mapped[int] = mapped_column(Integer)
    markdown: Mapped[str | None] = mapped_column(Text)
    delta: Mapped[str | None] = mapped_column(Text)
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
    """Who did what in the studio, when and from which address (never a post's
    content)."""

    __tablename__ = "studio_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(100), default="")


class StudioSession(Base):
    """A signed-in browser. Its cookie holds only a random key, of which the row keeps
    the SHA-256: deleting the row ends the session everywhere (sign-out, an account
    removed or its role changed, expiry, `studio sessions end`)."""

    __tablename__ = "studio_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    who: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    account: Mapped[str | None] = mapped_column(String(100))  # studio.sessions.account_key
    csrf: Mapped[str] = mapped_column(String(100))
    flash: Mapped[str | None] = mapped_column(Text)  # said once by the next page
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class StudioHistory(Base):
    """One person's undo and redo of one story in the studio: revision numbers (the
    revisions themselves are the story's), so nothing of it rides in the cookie."""

    __tablename__ = "studio_history"
    __table_args__ = (UniqueConstraint("who", "event_id", "story"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    who: Mapped[str] = mapped_column(String(300))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    story: Mapped[str] = mapped_column(String(100))
    undo: Mapped[list[int]] = mapped_column(JSON, default=list)
    redo: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudioLink(Base):
    """A sign-in link (``/login?token=...``): the SHA-256 of its secret; it works once."""

    __tablename__ = "studio_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class ReleasedFile(Base):
    """A media file no row may need any more, written in the transaction that let it go
    and removed (with the file, if still unused) after that commits: a crash between
    the two leaves the row, so the next prune removes the file (migration 0006)."""

    __tablename__ = "released_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    released_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeCounter(Base):
    """One row whose ``value`` goes up with every change to what an archive shows
    (posts, authors, media, events, stories, consent ...): database triggers made by
    migration 0013 count them, so no write path can forget to. An export that finds the
    value it recorded last time knows that nothing it is made from changed (see
    ``backchannel.store.changes``)."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ImportRecord(Base):
    """One file imported into an event (migration 0014): where the posts came from, as
    their provenance. Posts it brought are sighted at :attr:`server`; importing the same
    file again (the same digest) finds this row and changes no post."""

    __tablename__ = "imports"
    __table_args__ = (UniqueConstraint("event_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(32))  # "twarc" ...
    file_name: Mapped[str] = mapped_column(String(500))  # as given, without its folder
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    # The tool that made the file ("twarc 2.0.13", "TAGS") and when it captured its
    # posts, where the file says (migration 0016).
    tool: Mapped[str] = mapped_column(String(100), default="", server_default="")
    captured_at: Mapped[datetime | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]  # None: stopped part-way (run it again)
    read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)  # new posts
    already: Mapped[int] = mapped_column(Integer, default=0)  # there before this run
    skipped: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # reason -> items
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)  # the first few

    @property
    def server(self) -> str:
        """What the posts' sightings name as where they were seen: from the file's
        digest, not the row's id, so that the same file gives the same provenance in any
        database (a killed import can leave a gap in PostgreSQL's sequence)."""
        return f"import:{self.sha256[:16]}"


class PostChange(Base):
    """When a post's published form last may have changed (migration 0017): triggers on
    the post, its event rows, author, media, tags, links and sightings write the
    ``stamp`` (the change count), so that an export reads only the posts changed since
    the last (``backchannel.store.changes``). SQLite's; PostgreSQL logs instead
    (:class:`PostChangeLog`).
    A deleted post keeps its row here: the next export learns it is gone."""

    __tablename__ = "post_changes"

    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(BigInteger, index=True)


class PostChangeLog(Base):
    """PostgreSQL's stamps (migration 0018): a row per post and transaction that
    changed it, added by triggers (no row is ever updated: writers never wait on each
    other); an export reads the posts whose transaction its last snapshot did not see.
    Empty on SQLite, which stamps ``post_changes``."""

    __tablename__ = "post_change_log"

    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False,
                                     index=True)  # fmt: skip
    logged_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class PostChangePruned(Base):
    """The newest transaction whose log rows were pruned (one row): an export whose
    snapshot is not past it reads every post."""

    __tablename__ = "post_change_pruned"

    id: Mapped[int] = mapped_column(primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger, default=0)
