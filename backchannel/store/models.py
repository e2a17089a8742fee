"""The database schema, as SQLAlchemy 2.x typed models. No queries, no logic.

Every time is UTC and timezone-aware (:class:`~backchannel.store.base.UTCDateTime`
makes SQLite keep that promise). Every schema change is an Alembic revision in
``migrations/versions``; a test checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backchannel.store.base import Base, utcnow

# -- events -------------------------------------------------------------------------


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list[str]] = mapped_column(default=list)  # normalised, primary first
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    margin_before_minutes: Mapped[int] = mapped_column(Integer, default=60)
    margin_after_minutes: Mapped[int] = mapped_column(Integer, default=60)
    policy: Mapped[str] = mapped_column(String(16), default="opt-out")  # or "opt-in"
    # What of the posts imported from files may be published: "story-only" or "all".
    imported: Mapped[str] = mapped_column(String(16), default="story-only",
                                          server_default="story-only")  # fmt: skip
    discover: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[list[str]] = mapped_column(default=list)  # sessions, for stories
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sources: Mapped[list[EventSource]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSource.id"
    )


class EventSource(Base):
    """A server an event's hashtags are read from."""

    __tablename__ = "event_sources"
    __table_args__ = (UniqueConstraint("event_id", "platform", "base_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))  # "mastodon" or "bluesky"
    base_url: Mapped[str] = mapped_column(String(500))
    discovered: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the server says it runs (NodeInfo), read at its first collection: "" when it
    # does not say, None before it was asked (migration 0012).
    software: Mapped[str | None] = mapped_column(String(64))
    software_version: Mapped[str | None] = mapped_column(String(64))

    event: Mapped[Event] = relationship(back_populates="sources")

    @property
    def software_label(self) -> str:
        """What the source runs, in a few words (``event show``, ``status``, About)."""
        if self.platform == "bluesky":
            return "Bluesky (atproto)"
        if self.software is None:
            return "not asked yet (at the first collection)"
        return f"{self.software} {self.software_version or ''}".strip() or "does not say"


# -- collected data -------------------------------------------------------------------


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("platform", "uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    uri: Mapped[str] = mapped_column(String(500))  # actor URI or DID: stable
    handle: Mapped[str] = mapped_column(String(300), index=True)
    display_name: Mapped[str] = mapped_column(Text, default="")
    display_name_html: Mapped[str] = mapped_column(Text, default="")
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    profile_url: Mapped[str | None] = mapped_column(String(2000))
    home_server: Mapped[str | None] = mapped_column(String(300))
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    noindex: Mapped[bool | None] = mapped_column(Boolean)
    indexable: Mapped[bool | None] = mapped_column(Boolean)
    discoverable: Mapped[bool | None] = mapped_column(Boolean)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    limited: Mapped[bool] = mapped_column(Boolean, default=False)
    bio_text: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list[str]] = mapped_column(default=list)
    emojis: Mapped[list[str]] = mapped_column(default=list)  # [[shortcode, url], ...]
    opt_out_reason: Mapped[str | None] = mapped_column(String(200))
    last_checked_at: Mapped[datetime | None]  # last home-server lookup (noindex)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    posts: Mapped[list[Post]] = relationship(back_populates="author")


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    uri: Mapped[str] = mapped_column(String(500), unique=True)  # canonical: the merge key
    url: Mapped[str | None] = mapped_column(String(2000))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    indexed_at: Mapped[datetime | None]
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")  # sanitised at collection
    language: Mapped[str | None] = mapped_column(String(16))
    content_warning: Mapped[str | None] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    reply_to_uri: Mapped[str | None] = mapped_column(String(500), index=True)
    reply_root_uri: Mapped[str | None] = mapped_column(String(500))
    quote_uri: Mapped[str | None] = mapped_column(String(500))
    quote_snapshot: Mapped[dict[str, Any] | None]
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    repost_count: Mapped[int] = mapped_column(Integer, default=0)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    quote_count: Mapped[int] = mapped_column(Integer, default=0)
    emojis: Mapped[list[str]] = mapped_column(default=list)  # [[shortcode, url], ...]
    mentions: Mapped[list[str]] = mapped_column(default=list)  # [[handle, url], ...]
    poll: Mapped[dict[str, Any] | None]
    card: Mapped[dict[str, Any] | None]
    labels: Mapped[list[str]] = mapped_column(default=list)
    cid: Mapped[str | None] = mapped_column(String(200))
    raw: Mapped[dict[str, Any]]  # the JSON exactly as the server sent it
    fetched_at: Mapped[datetime]
    fetched_from: Mapped[str] = mapped_column(String(500))  # base URL of the source
    deleted_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]  # last recheck at the source (issue 8, recheck)

    author: Mapped[Author] = relationship(back_populates="posts")
    sightings: Mapped[list[PostSighting]] = relationship(
        back_populates="post", cascade="all, delete-orphan"
    )
    media: Mapped[list[Media]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Media.position"
    )
    tags: Mapped[list[Tag]] = relationship(secondary="post_tags", order_by="Tag.name")
    links: Mapped[list[Link]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Link.position"
    )


class PostSighting(Base):
    """A server that served a post, and the local id it has there."""

    __tablename__ = "post_sightings"
    __table_args__ = (
        UniqueConstraint("post_id", "server"),
        # The store resolves Mastodon reply parents by (server, local id) on every page.
        Index("ix_post_sightings_server_native_id", "server", "native_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    server: Mapped[str] = mapped_column(String(500))  # base URL of the source
    native_id: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship(back_populates="sightings")


class Media(Base):
    """An attachment of a post, or an author's avatar, and its local copy."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("authors.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))  # image gifv video audio unknown avatar emoji
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    preview_url: Mapped[str | None] = mapped_column(String(2000))
    playlist_url: Mapped[str | None] = mapped_column(String(2000))
    alt: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    focus_x: Mapped[float | None]
    focus_y: Mapped[float | None]
    blurhash: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    local_path: Mapped[str | None] = mapped_column(String(500))
    fetch_state: Mapped[str] = mapped_column(String(16), default="pending")  # done failed gone
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    fetch_error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None]

    post: Mapped[Post | None] = relationship(back_populates="media")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # normalize_hashtag() form


class PostTag(Base):
    __tablename__ = "post_tags"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("post_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    url: Mapped[str] = mapped_column(String(2000), index=True)

    post: Mapped[Post] = relationship(back_populates="links")


class EventPost(Base):
    """A post in an event: included, hidden or featured by a curator."""

    __tablename__ = "event_posts"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="included")  # hidden featured
    reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- collection bookkeeping -------------------------------------------------------------


class Cursor(Base):
    """Where collection of one hashtag from one source stands. Opaque to all but the
    collector that wrote it; committed in the same transaction as the page before it."""

    __tablename__ = "cursors"
    __table_args__ = (UniqueConstraint("source_id", "hashtag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("event_sources.id", ondelete="CASCADE"))
    hashtag: Mapped[str] = mapped_column(String(200))
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CollectionRun(Base):
    __tablename__ = "collection_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("event_sources.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # ok failed interrupted
    requests: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reason -> count
    error: Mapped[str | None] = mapped_column(Text)
    # The source's rate-limit headers as last seen: {"limit", "remaining", "reset"} (issue 8)
    rate_limit: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # "host:pid" of the process collecting: a run whose process died is closed later.
    owner: Mapped[str | None] = mapped_column(String(255))
    # Ids (never content) of posts the source sent that could not be read; at most 100.
    unreadable: Mapped[list[str] | None] = mapped_column(JSON)


class SchedulerLock(Base):
    """Who runs ``backchannel run`` on this database: one row per lock name, claimed in
    a transaction and kept alive by a heartbeat (see :mod:`backchannel.collect.runlock`)."""

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))  # a random id per process
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- curation and consent ---------------------------------------------------------------


class Story(Base):
    __tablename__ = "stories"
    __table_args__ = (UniqueConstraint("event_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    curator: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[StoryItem]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="StoryItem.position"
    )


class StoryItem(Base):
    __tablename__ = "story_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # heading text post removed
    level: Mapped[int | None] = mapped_column(Integer)  # heading level, 2 or 3
    text: Mapped[str | None] = mapped_column(Text)  # heading or curator's Markdown
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    post_ref: Mapped[str | None] = mapped_column(String(2000))  # the address as written
    annotation: Mapped[str | None] = mapped_column(Text)  # the curator's note on the post

    story: Mapped[Story] = relationship(back_populates="items")


class Tombstone(Base):
    """A forgotten post or author. Holds no content: only a hash of the identifier, so
    a later collection can recognise it and leave it out."""

    __tablename__ = "tombstones"
    __table_args__ = (UniqueConstraint("kind", "key_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # post or author
    key_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentOverride(Base):
    """An organiser's per-event decision about one author: allow or deny."""

    __tablename__ = "consent_overrides"
    __table_args__ = (UniqueConstraint("event_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(300))  # normalised: no leading @, lower case
    decision: Mapped[str] = mapped_column(String(8))  # allow or deny
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Exclusion(Base):
    """A post of an event left out at collection, and why (issue 9). Holds no content:
    a hash of the post's URI, the reason, and the author's handle only when the reason
    is the author's own (opted out, bot, denied, not on the opt-in list)."""

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("event_id", "post_key_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    post_key_sha256: Mapped[str] = mapped_column(String(64))
    author_handle: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class HomeCheck(Base):
    """When an author's home server was last asked about them, and what it said: keyed
    by a hash of the author's URI, so authors who opted out (and are never stored)
    also cost at most one lookup per ``consent.noindex_ttl_hours``."""

    __tablename__ = "home_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    noindex: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    limited: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime]


# Declared in their own module, registered on Base with the rest.
from backchannel.store.models_added import (  # noqa: E402, F401
    ChangeCounter,
    ImportRecord,
    PostChange,
    PostChangeLog,
    PostChangePruned,
    ReleasedFile,
    StoryRevision,
    StudioAction,
    StudioHistory,
    StudioLink,
    StudioSession,
    StudioUser,
)
