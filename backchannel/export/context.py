"""Queries -> plain, immutable view objects that templates receive.

Templates never see a database row: they get the dataclasses below (documented for
theme authors in ``docs/themes.md``). Every ``Markup`` field is HTML that the
sanitiser produced (or text this module escaped); every other string is plain text
that Jinja2's autoescape will escape. URLs to files of the site are relative, built
from ``prefix`` (``"../"`` on event pages, which all sit one folder deep).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from backchannel.export.content import (
    emoji_map,
    image_urls,
    name_html,
    name_image_urls,
    post_html,
)
from backchannel.export.dates import TimeView
from backchannel.export.excerpts import first_line
from backchannel.export.media import PLACEHOLDER_AVATAR, PLACEHOLDER_IMAGE, MediaResolver
from backchannel.export.page_files import person_file
from backchannel.export.selection import EventIndex, IndexedPost, MediaRow, chunks
from backchannel.export.threads import ThreadLink, thread_links
from backchannel.sanitize import safe_url
from backchannel.store import Post

PLATFORMS = {"mastodon": "Mastodon", "bluesky": "Bluesky"}
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def platform_label(platform: str) -> str:
    return PLATFORMS.get(platform, platform.capitalize())


@dataclass(frozen=True, slots=True)
class AuthorView:
    id: int
    handle: str
    display_name: str  # plain text ("" if none)
    name_html: Markup  # the display name (or handle), custom emoji as local images
    avatar: str  # relative URL of a local image (a placeholder until media is stored)
    profile_url: str | None  # the author's profile on their server (http(s) only)
    platform: str
    platform_label: str
    bot: bool
    indexable: bool
    page: str = ""  # "person-<name>.html": their page in the event, relative to an event page


@dataclass(frozen=True, slots=True)
class MediaView:
    kind: str  # image gifv video audio unknown
    src: str  # relative URL of the local copy, or of a placeholder image
    local: bool  # False: the file is not stored (yet); src is the placeholder
    alt: str  # the author's description, or a note that there is none
    described: bool
    width: int | None
    height: int | None


@dataclass(frozen=True, slots=True)
class ReplyView:
    archived: bool  # the parent is in this archive
    href: str | None  # "<page>.html#<anchor>" of the parent when archived
    author: str | None  # the parent's author's handle, when archived
    excerpt: str = ""  # the parent's first line (plain text, shortened), when archived


@dataclass(frozen=True, slots=True)
class CardView:
    url: str
    title: str
    description: str
    provider: str


@dataclass(frozen=True, slots=True)
class PollOptionView:
    title: str
    votes: int | None


@dataclass(frozen=True, slots=True)
class QuoteView:
    archived: bool  # False: only a link to the original (nothing of its content)
    href: str | None
    original_url: str | None
    post: PostView | None  # the quoted post when archived (its quote is not nested)


@dataclass(frozen=True, slots=True)
class PostView:
    anchor: str  # stable id of the post on its page: "p-<16 hex>"
    uri: str
    href: str  # "<day page>.html#<anchor>", relative to an event page
    url: str | None  # the original on its server (http(s) only)
    platform: str
    platform_label: str
    author: AuthorView
    time: TimeView
    edited: TimeView | None
    html: Markup  # sanitised content, custom emoji local
    text: str  # plain text of the content
    lang: str | None
    content_warning: str | None  # shown only as the summary of a collapsed <details>
    sensitive: bool  # media blurred until revealed
    media: tuple[MediaView, ...]
    tags: tuple[str, ...]
    reply: ReplyView | None
    quote: QuoteView | None
    card: CardView | None
    poll: tuple[PollOptionView, ...]
    featured: bool
    indexable: bool  # False: kept out of search, data files and feeds
    thread: ThreadLink | None = None  # the conversation it is part of, when there is one


class Views:
    """Builds view objects for one event; caches authors, loads posts in chunks."""

    def __init__(
        self, session: Session, index: EventIndex, resolver: MediaResolver, prefix: str = "../"
    ) -> None:
        self.session = session
        self.index = index
        self.resolver = resolver
        self.prefix = prefix
        self._authors: dict[int, AuthorView] = {}

    # -- authors ------------------------------------------------------------------

    def author(self, author_id: int) -> AuthorView:
        view = self._authors.get(author_id)
        if view is None:
            view = self._authors[author_id] = self._author(author_id)
        return view

    def _author(self, author_id: int) -> AuthorView:
        row = self.index.authors[author_id]
        emojis = emoji_map(row.emojis)
        paths = self.resolver.emoji_paths(
            self.session, name_image_urls(row.display_name, emojis)
        ) if emojis else {}  # fmt: skip
        label = row.display_name.strip() or row.handle
        avatar = self.index.avatars.get(author_id)
        local = self._local(avatar) if avatar else None
        return AuthorView(
            id=row.id,
            handle=row.handle,
            display_name=row.display_name,
            name_html=name_html(label, emojis, paths, self.prefix),
            avatar=self.prefix + (local or PLACEHOLDER_AVATAR),
            profile_url=safe_url(row.profile_url),
            platform=row.platform,
            platform_label=platform_label(row.platform),
            bot=row.bot,
            indexable=row.indexable,
            page=person_file(row.handle, row.uri),
        )

    # -- media --------------------------------------------------------------------

    def _local(self, media: MediaRow) -> str | None:
        return self.resolver.site_path(
            media.sha256, media.local_path, media.content_type, media.fetch_state
        )

    def media(self, media: MediaRow) -> MediaView:
        local = self._local(media)
        alt = (media.alt or "").strip()
        kind = media.kind
        if local and kind in ("video", "gifv", "audio") and _is_image(media.content_type):
            kind = "image"  # the still (poster, thumbnail) kept in place of the file
        # The stored file's own pixels, never the server's figures (see resolver.size).
        size = self.resolver.size(media.sha256) if local and kind == "image" else None
        return MediaView(
            kind=kind,
            src=self.prefix + (local or PLACEHOLDER_IMAGE),
            local=local is not None,
            alt=alt or f"{media.kind.capitalize()} without a description",
            described=bool(alt),
            width=size[0] if size else None,
            height=size[1] if size else None,
        )

    # -- posts --------------------------------------------------------------------

    def posts(self, posts: list[IndexedPost]) -> list[PostView]:
        """Views of ``posts`` (in that order), with their archived quotes."""
        wanted = {p.id: p for p in posts}
        quoted = {
            self.index.by_uri[p.quote_uri].id: self.index.by_uri[p.quote_uri]
            for p in posts
            if p.quote_uri and p.quote_uri in self.index.by_uri and p.quote_uri != p.uri
        }
        rows = self._load(sorted(wanted.keys() | quoted.keys()))
        parents = {
            parent.id
            for p in posts
            if p.reply_to_uri and (parent := self.index.by_uri.get(p.reply_to_uri)) is not None
        }
        excerpts = self._excerpts(sorted(parents), rows)
        urls: set[str] = set()
        for row in rows.values():
            if "<img" in row["html"]:
                urls |= image_urls(row["html"])
        paths = self.resolver.emoji_paths(self.session, urls) if urls else {}
        inner = {pid: self._post(quoted[pid], rows[pid], paths, None) for pid in quoted}
        views = []
        for post in posts:
            quote = None
            if post.quote_uri:
                target = self.index.by_uri.get(post.quote_uri)
                if target is not None and target.id in inner:
                    quote = QuoteView(True, target.href, None, inner[target.id])
                else:
                    quote = QuoteView(False, None, _snapshot_url(rows[post.id]["quote"]), None)
            views.append(self._post(post, rows[post.id], paths, quote, excerpts))
        return views

    def _excerpts(self, ids: list[int], rows: dict[int, dict[str, Any]]) -> dict[int, str]:
        """The first line of each post of ``ids`` (those loaded already are not read)."""
        texts = {pid: rows[pid]["text"] for pid in ids if pid in rows}
        for chunk in chunks([pid for pid in ids if pid not in texts]):
            query = select(Post.id, Post.text).where(Post.id.in_(chunk))
            texts.update((pid, text or "") for pid, text in self.session.execute(query))
        return {pid: first_line(text) for pid, text in texts.items()}

    def _load(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        for chunk in chunks(ids):
            for row in self.session.connection().execute(
                select(
                    Post.id, Post.url, Post.text, Post.html, Post.content_warning,
                    *(type_coerce(c, String()) for c in _JSON_COLUMNS),
                ).where(Post.id.in_(chunk))
            ).all():  # fmt: skip
                rows[row[0]] = {
                    "url": row[1], "text": row[2] or "", "html": row[3] or "",
                    "cw": (row[4] or "").strip() or None, "emojis": _json(row[5]),
                    "card": _json(row[6]), "poll": _json(row[7]), "quote": _json(row[8]),
                }  # fmt: skip
        return rows

    def _post(
        self,
        post: IndexedPost,
        row: dict[str, Any],
        paths: dict[str, str | None],
        quote: QuoteView | None,
        excerpts: dict[int, str] | None = None,
    ) -> PostView:
        dates = self.index.dates
        reply = None
        if post.reply_to_uri:
            parent = self.index.by_uri.get(post.reply_to_uri)
            if parent is not None:
                handle = self.index.authors[parent.author_id].handle
                excerpt = (excerpts or {}).get(parent.id, "") if not parent.has_cw else ""
                reply = ReplyView(True, parent.href, handle, excerpt)
            else:
                reply = ReplyView(False, None, None)
        edited = None
        if post.edited_at is not None and post.edited_at > post.created_at:
            edited = dates.time(post.edited_at)
        return PostView(
            anchor=post.anchor,
            uri=post.uri,
            href=post.href,
            url=safe_url(row["url"]) or safe_url(post.uri),
            platform=post.platform,
            platform_label=platform_label(post.platform),
            author=self.author(post.author_id),
            time=dates.time(post.created_at),
            edited=edited,
            html=post_html(row["html"], emoji_map(row["emojis"]), paths, self.prefix),
            text=row["text"],
            lang=post.language if post.language and _LANG.match(post.language) else None,
            content_warning=row["cw"],
            sensitive=post.sensitive,
            media=tuple(self.media(m) for m in post.media),
            tags=post.tags,
            reply=reply,
            quote=quote,
            card=_card(row["card"]),
            poll=_poll(row["poll"]),
            featured=post.featured,
            indexable=post.indexable,
            thread=thread_links(self.index).get(post.id),
        )


# Most posts have no emoji, card, poll nor quote: their JSON is decoded only when there
# is something in it (on PostgreSQL the driver gives it decoded already).
_JSON_COLUMNS = (Post.emojis, Post.card, Post.poll, Post.quote_snapshot)
_EMPTY_JSON = frozenset(("null", "[]", "{}"))


def _json(value: object) -> Any:
    if isinstance(value, str):
        return None if value in _EMPTY_JSON else json.loads(value)
    return value


def _snapshot_url(snapshot: object) -> str | None:
    if isinstance(snapshot, dict):
        return safe_url(snapshot.get("url")) or safe_url(snapshot.get("uri"))
    return None


def _card(card: object) -> CardView | None:
    if not isinstance(card, dict):
        return None
    url = safe_url(card.get("url"))
    if not url:
        return None
    return CardView(
        url=url,
        title=str(card.get("title") or ""),
        description=str(card.get("description") or ""),
        provider=str(card.get("provider_name") or ""),
    )


def _poll(poll: object) -> tuple[PollOptionView, ...]:
    if not isinstance(poll, dict):
        return ()
    options = []
    for option in poll.get("options") or ():
        if isinstance(option, dict):
            votes = option.get("votes_count")
            options.append(
                PollOptionView(
                    str(option.get("title") or ""), votes if isinstance(votes, int) else None
                )
            )
    return tuple(options)


def _is_image(content_type: str | None) -> bool:
    return (content_type or "").lower().startswith("image/")
