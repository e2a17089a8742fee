"""JSON entities (Status, Account, MediaAttachment, ...) as one instance serves them.

Shapes follow the recorded responses in ``shared/fixtures/mastodon`` (Mastodon 4.6)
and the entity docs. What depends on the *viewing* instance is computed here: local
ids, ``acct`` (bare for local accounts, ``user@host:port`` for remote ones),
``noindex`` (only for local accounts), media ``url`` (a local cached copy for remote
media, with ``remote_url`` pointing at the origin), tag URLs. Fields that real
Mastodon only sends to a logged-in user (``favourited``, ``reblogged``, ``muted``,
``bookmarked``, ``filtered``) appear only when the request carried a bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from backchannel.sandbox import mastodon_text as text
from backchannel.sandbox.mastodon_world import Account, Card, MastodonWorld, Media, Post, snowflake

JSON = dict[str, Any]
_B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def iso(when: datetime | None) -> str | None:
    """``2026-03-12T09:15:00.000Z``: how Mastodon writes times (milliseconds, Z)."""
    if when is None:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def blurhash(seed: str) -> str:
    """A valid one-component blurhash (a flat colour) matching ``images.png(seed)``."""
    import hashlib

    r, g, b = hashlib.sha256(seed.encode("utf-8")).digest()[:3]
    value, digits = (r << 16) | (g << 8) | b, ""
    for _ in range(4):
        value, rest = divmod(value, 83)
        digits = _B83[rest] + digits
    return "00" + digits


def media_path(kind: str, key: str, *, cached: bool, small: bool = False) -> str:
    prefix = "/system/cache/" if cached else "/system/"
    return f"{prefix}{kind}/{key}{'-small' if small else ''}.png"


class Renderer:
    """Renders world objects for one viewing instance at the world's current step."""

    def __init__(
        self, world: MastodonWorld, instance: str, *, authed: bool = False,
        ids: Callable[[Post], str] | None = None,
    ) -> None:  # fmt: skip
        """``ids``: a status's id as this server writes it (another software's scheme:
        :mod:`backchannel.sandbox.server_kinds`); Mastodon's Snowflake by default."""
        self.world = world
        self.instance = instance
        self.authed = authed
        self.status_id = ids or (lambda post: str(world.local_id(instance, post)))
        self.base = world.base_url(instance)

    # -- helpers ------------------------------------------------------------------

    def _url(self, owner: str, kind: str, key: str, small: bool = False) -> tuple[str, str | None]:
        """(url on this instance, remote_url) of a media file owned by instance ``owner``."""
        origin_url = self.world.base_url(owner) + media_path(kind, key, cached=False, small=small)
        if owner == self.instance:
            return origin_url, None
        return self.base + media_path(kind, key, cached=True, small=small), origin_url

    def _html(self, fragment: str) -> str:
        return text.resolve(fragment, self.world.base_urls)

    def emojis(self, home: str, *texts: str) -> list[JSON]:
        out = []
        for code in text.custom_emoji_codes(*texts):
            emoji = self.world.emojis.get((home, code))
            if emoji is None:
                continue
            url, _ = self._url(home, "custom_emojis/images", emoji.key)
            out.append(
                {"shortcode": code, "url": url, "static_url": url, "visible_in_picker": True}
            )
        return out

    # -- entities -----------------------------------------------------------------

    def account(self, account: Account) -> JSON:
        world, home_base = self.world, self.world.base_url(account.home)
        local = account.home == self.instance
        stats = _account_stats(world).get(account.key, (0, None))
        if account.avatar:
            avatar, _ = self._url(account.home, "accounts/avatars", account.avatar)
        else:
            avatar = f"{self.base}/avatars/original/missing.png"
        if account.header:
            header, _ = self._url(account.home, "accounts/headers", account.header)
        else:
            header = f"{self.base}/headers/original/missing.png"
        fields = [
            {"name": n, "value": self._html(v), "verified_at": None} for n, v in account.fields
        ]
        out: JSON = {
            "id": str(world.account_id(self.instance, account)),
            "username": account.username,
            "acct": account.username
            if local
            else f"{account.username}@{world.domain(account.home)}",
            "display_name": account.display_name,
            "locked": account.locked,
            "bot": account.bot,
            "discoverable": account.discoverable,
            "indexable": account.indexable,
            "group": account.group,
            "created_at": iso(
                account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            "note": self._html(account.note),
            "url": f"{home_base}/@{account.username}",
            "uri": f"{home_base}/users/{account.username}",
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": account.avatar_description,
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": 3 + len(account.username) * 7 % 90,
            "following_count": 5 + len(account.display_name) * 3 % 70,
            "statuses_count": stats[0],
            "last_status_at": stats[1],
            "hide_collections": None,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
        }
        if local:  # Mastodon only tells its own users' noindex
            out["noindex"] = account.noindex
        for flag in ("suspended", "limited"):  # extra attributes, present only when true
            if getattr(account, flag):
                out[flag] = True
        out["feature_approval"] = {"automatic": ["public"], "manual": [], "current_user": "denied"}
        out["emojis"] = self.emojis(
            account.home, account.display_name, account.note, *(v for _, v in account.fields)
        )
        out["roles"] = []
        out["fields"] = fields
        return out

    def media(self, post: Post, media: Media) -> JSON:
        owner = self.world.accounts[post.author].home
        url, remote_url = self._url(owner, "media_attachments/files", media.key)
        preview, preview_remote = self._url(owner, "media_attachments/files", media.key, small=True)
        small_w, small_h = _small(media.width, media.height)
        meta: JSON = {
            "original": _dims(media.width, media.height),
            "small": _dims(small_w, small_h),
        }
        if media.focus is not None:
            meta["focus"] = {"x": media.focus[0], "y": media.focus[1]}
        return {
            "id": str(snowflake(post.created_at, f"{self.instance}|{media.key}")),
            "type": media.type,
            "url": url,
            "preview_url": preview,
            "remote_url": remote_url,
            "preview_remote_url": preview_remote,
            "text_url": None,
            "meta": meta,
            "description": media.description,
            "blurhash": blurhash(media.key),
        }

    def card(self, card: Card) -> JSON:
        image = None
        if card.image:
            image = self.base + media_path("preview_cards/images", card.image, cached=True)
        provider_url = card.url.split("/", 3)
        return {
            "url": card.url,
            "title": card.title,
            "description": card.description,
            "language": card.language,
            "type": card.type,
            "author_name": card.author_name,
            "author_url": "",
            "provider_name": card.provider_name,
            "provider_url": "/".join(provider_url[:3]) + "/" if len(provider_url) >= 3 else "",
            "html": "",
            "width": 400 if image else 0,
            "height": 210 if image else 0,
            "image": image,
            "image_description": "",
            "embed_url": "",
            "blurhash": blurhash(card.image) if card.image else None,
            "published_at": None,
            "authors": [],
        }

    def status(self, post: Post, *, nested: bool = False) -> JSON:
        world, instance = self.world, self.instance
        author = world.accounts[post.author]
        local_id = world.local_id(instance, post)
        content, spoiler, edited_at = world.current(post)
        origin_id = world.local_id(author.home, post)
        origin_base = world.base_url(author.home)
        reblog = world.posts[post.reblog_of] if post.reblog_of else None
        if reblog is not None:
            url = f"{origin_base}/users/{author.username}/statuses/{origin_id}/activity"
        else:
            url = f"{origin_base}/@{author.username}/{origin_id}"
        parent = world.posts.get(post.in_reply_to or "")
        parent_known = parent is not None and world.visible_on(parent, instance)
        out: JSON = {
            "id": self.status_id(post),
            "created_at": iso(post.created_at),
            "in_reply_to_id": self.status_id(parent) if parent_known else None,
            "in_reply_to_account_id": (
                str(world.account_id(instance, world.accounts[parent.author]))
                if parent_known
                else None
            ),
            "sensitive": post.sensitive,
            "spoiler_text": spoiler,
            "visibility": post.visibility,
            "language": post.language,
            "uri": world.uri(post),
            "url": url,
            "replies_count": world.replies_count(post),
            "reblogs_count": post.reblogs_count,
            "favourites_count": post.favourites_count,
            "quotes_count": _quotes_count(world).get(post.key, 0),
            "edited_at": iso(edited_at),
        }
        if self.authed:
            out.update(favourited=False, reblogged=False, muted=False, bookmarked=False)
        out["content"] = self._html(content)
        if self.authed:
            out["filtered"] = []
        out["reblog"] = self.status(reblog) if reblog is not None else None
        app = post.application if author.home == instance and post.application else None
        out["application"] = {"name": app, "website": None} if app else None
        out["account"] = self.account(author)
        out["media_attachments"] = [self.media(post, m) for m in post.media]
        out["mentions"] = [self._mention(world.accounts[k]) for k in post.mentions]
        out["tags"] = [self._tag(t) for t in _unique_lower(world.tags(post))]
        out["emojis"] = self.emojis(author.home, content, spoiler)
        out["tagged_collections"] = []
        out["quote"] = self._quote(post, nested)
        out["card"] = self.card(post.card) if post.card and reblog is None else None
        out["poll"] = self._poll(post, local_id) if post.poll else None
        out["quote_approval"] = {
            "automatic": ["public"],
            "manual": [],
            "current_user": "automatic" if self.authed else "denied",
        }
        if world.rewrite_status is not None:
            out = world.rewrite_status(post, out)
        return out

    def _mention(self, account: Account) -> JSON:
        local = account.home == self.instance
        return {
            "id": str(self.world.account_id(self.instance, account)),
            "username": account.username,
            "url": f"{self.world.base_url(account.home)}/@{account.username}",
            "acct": account.username
            if local
            else f"{account.username}@{self.world.domain(account.home)}",
        }

    def _tag(self, name: str) -> JSON:
        return {"name": name, "url": f"{self.base}/tags/{quote(name)}"}

    def _quote(self, post: Post, nested: bool) -> JSON | None:
        if not post.quote_of:
            return None
        quoted = self.world.posts[post.quote_of]
        if self.world.deleted(quoted):
            return {"state": "deleted", "quoted_status": None}
        if not self.world.visible_on(quoted, self.instance):
            return {"state": "unauthorized", "quoted_status": None}
        if nested:  # Mastodon sends a ShallowQuote below the first level
            return {
                "state": "accepted",
                "quoted_status_id": self.status_id(quoted),
            }
        return {"state": "accepted", "quoted_status": self.status(quoted, nested=True)}

    def _poll(self, post: Post, local_id: int) -> JSON:
        poll = post.poll
        assert poll is not None
        votes = sum(n for _, n in poll.options)
        out: JSON = {
            "id": str(local_id % 1_000_000 + 1_000),
            "expires_at": iso(poll.expires_at),
            "expired": True,  # the conference is over by the time anyone archives it
            "multiple": poll.multiple,
            "votes_count": votes,
            "voters_count": votes if not poll.multiple else max(1, votes * 2 // 3),
        }
        if self.authed:
            out.update(voted=False, own_votes=[])
        out["options"] = [{"title": t, "votes_count": n} for t, n in poll.options]
        out["emojis"] = []
        return out


def _dims(width: int, height: int) -> JSON:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def _small(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, 48 / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _unique_lower(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(text.normalize_tag(tag), None)
    return list(seen)


def _stats(world: MastodonWorld) -> tuple[dict[str, tuple[int, str | None]], dict[str, int]]:
    """Per-account (statuses_count, last_status_at) and per-post quote counts, cached
    until a post is added (accounts render on every status, so this must be cheap)."""
    cached = world.render_cache.get("stats")
    if cached is not None and cached[0] == len(world.posts):
        return cached[1], cached[2]
    accounts: dict[str, tuple[int, str | None]] = {}
    quotes: dict[str, int] = {}
    for post in world.posts.values():
        count, last = accounts.get(post.author, (0, None))
        day = post.created_at.date().isoformat()
        accounts[post.author] = (count + 1, max(last or day, day))
        if post.quote_of:
            quotes[post.quote_of] = quotes.get(post.quote_of, 0) + 1
    world.render_cache["stats"] = (len(world.posts), accounts, quotes)
    return accounts, quotes


def _account_stats(world: MastodonWorld) -> dict[str, tuple[int, str | None]]:
    return _stats(world)[0]


def _quotes_count(world: MastodonWorld) -> dict[str, int]:
    return _stats(world)[1]
