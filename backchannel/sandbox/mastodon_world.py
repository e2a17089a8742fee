"""The Mastodon sandbox's world: instances, accounts, posts, and how they federate.

The world refers to instances by *name* ("kea.example"); the running sandbox binds
each name to a loopback base URL (:meth:`MastodonWorld.bind`). Until then URIs and
links use ``bc-instance://NAME`` placeholders, so two worlds built from one seed
compare equal.

Federation, simplified but true to what a collector sees:

* an account lives on its ``home`` instance; other instances see it when some local
  user follows it (``seen_by``), and then receive its posts;
* a post therefore appears on its home and on every instance that sees its author;
  it has the same ``uri`` everywhere and a different local ``id`` on each, a
  Snowflake derived from ``created_at`` (ms << 16 | per-instance bits);
* ``arrives={instance: step}`` makes a post reach an instance only at a later
  :meth:`~MastodonWorld.advance` step (late federation: its id is backdated, below
  a collector's ``min_id`` cursor); ``NEVER`` keeps it away;
* deletions and edits can be scheduled for a step or applied now (thread-safe).

A tiny world for a focused test::

    world = MastodonWorld()
    world.add_instance("a.example"); world.add_instance("b.example")
    ana = world.add_account("ana", "a.example", seen_by=["b.example"])
    post = world.add_post(ana, "Kia ora #SWRS26", created_at=datetime(2026, 3, 12, 0, 0, tzinfo=UTC))

Answer keys live in :mod:`backchannel.sandbox.mastodon_answers`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.errors import SandboxError
from backchannel.sandbox import mastodon_text as text
from backchannel.sandbox.mastodon_model import (
    NEVER,
    VISIBILITIES,
    Account,
    Card,
    CustomEmoji,
    Edit,
    Instance,
    Media,
    Poll,
    Post,
    snowflake,
)

__all__ = [
    "NEVER", "Account", "Card", "CustomEmoji", "Edit", "Instance", "MastodonWorld", "Media",
    "Poll", "Post", "snowflake",
]  # fmt: skip


class MastodonWorld:
    """All instances, accounts and posts of one sandbox. Mutations take a lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.instances: dict[str, Instance] = {}
        self.accounts: dict[str, Account] = {}
        self.posts: dict[str, Post] = {}
        self.emojis: dict[tuple[str, str], CustomEmoji] = {}
        self.sources: list[str] = []  # instances a collector is configured with
        self.step = 0
        self.base_urls: dict[str, str] = {}
        self._ids: dict[str, dict[int, str]] = {}  # instance -> local id -> post key
        self._post_ids: dict[tuple[str, str], int] = {}
        self._account_ids: dict[tuple[str, str], int] = {}
        self._replies: dict[str, int] = {}
        self.render_cache: dict[str, Any] = {}  # the renderer's derived counts
        # What a hostile server does to a status after rendering it (the hostile-input
        # tests put payloads in fields the model has no place for: URLs, tags, emoji).
        self.rewrite_status: Callable[[Post, dict[str, Any]], dict[str, Any]] | None = None
        # Tag timelines as last computed, valid while ``_version`` stands: a collector
        # walking 2,500 pages of a 100,000-post world must not rescan it per page.
        self._version = 0
        self._timelines: dict[tuple[Any, ...], list[tuple[int, Post]]] = {}
        self._timelines_version = -1

    def changed(self) -> None:
        """Forget derived state (tag timelines); every mutation calls this. Code that
        changes a :class:`Post` or :class:`Instance` directly must call it too."""
        with self.lock:
            self._version += 1

    # -- building -----------------------------------------------------------------

    def add_instance(self, name: str, title: str = "") -> Instance:
        with self.lock:
            self.changed()
            if name in self.instances:
                raise SandboxError(f"instance {name!r} exists already")
            instance = Instance(name, title or name.split(".")[0].capitalize())
            self.instances[name] = instance
            self._ids[name] = {}
            for post in self.posts.values():
                self._assign_id(name, post)
            return instance

    def add_emoji(self, instance: str, shortcode: str) -> CustomEmoji:
        emoji = CustomEmoji(shortcode, instance, f"emoji-{instance}-{shortcode}")
        self.emojis[(instance, shortcode)] = emoji
        return emoji

    def add_account(
        self, username: str, home: str, *, seen_by: Iterable[str] = (), note: str = "",
        fields: Sequence[tuple[str, str]] = (), **attrs: object,
    ) -> Account:  # fmt: skip
        """Add an account; ``note`` and field values are plain text (#tags become links)."""
        with self.lock:
            self.changed()
            self._need_instance(home)
            key = f"{username}@{home}"
            if key in self.accounts:
                raise SandboxError(f"account {key!r} exists already")
            note_html = text.to_html(note, home, self.instances.__contains__).html if note else ""
            field_html = [(n, text.to_html(v, home).html[3:-4]) for n, v in fields]
            account = Account(key, username, home, note=note_html, fields=field_html, **attrs)  # type: ignore[arg-type]
            self.accounts[key] = account
            for name in seen_by:
                self._need_instance(name).sees.add(key)
            return account

    def add_post(
        self, author: Account | str, body: str | None = None, *, html: str | None = None,
        created_at: datetime, key: str | None = None, **attrs: object,
    ) -> Post:  # fmt: skip
        """Add a post written as plain ``body`` (rendered like Mastodon) or as ``html``.

        Other keyword arguments are :class:`Post` fields (visibility, media, card,
        in_reply_to, arrives, ...). Tags and mentions come from the text.
        """
        with self.lock:
            self.changed()
            account = self.account(author)
            mentions: list[str] = []
            if html is None:
                rendered = text.to_html(body or "", account.home, self.instances.__contains__)
                html = rendered.html
                for user, instance in rendered.mentions:
                    mentioned = self.accounts.get(f"{user}@{instance}")
                    if mentioned is not None and mentioned.key not in mentions:
                        mentions.append(mentioned.key)
            key = key or f"p{len(self.posts) + 1}"
            if key in self.posts:
                raise SandboxError(f"post {key!r} exists already")
            if created_at.tzinfo is None:
                raise SandboxError("created_at must be timezone-aware")
            attrs.setdefault("mentions", mentions)
            post = Post(key, account.key, created_at.astimezone(UTC), html, **attrs)  # type: ignore[arg-type]
            if post.visibility not in VISIBILITIES:
                raise SandboxError(f"unknown visibility {post.visibility!r}")
            self.posts[key] = post
            for name in self.instances:
                self._assign_id(name, post)
            if post.in_reply_to:
                self._replies[post.in_reply_to] = self._replies.get(post.in_reply_to, 0) + 1
            return post

    def add_boost(
        self, booster: Account | str, post: Post | str, created_at: datetime, key: str | None = None
    ) -> Post:
        """A boost wrapper: never in tag timelines, but served by ``statuses/:id``."""
        original = self.post(post)
        return self.add_post(
            booster, html="", created_at=created_at, key=key, reblog_of=original.key, language=None
        )

    def schedule_delete(self, post: Post | str, step: int) -> None:
        with self.lock:
            self.changed()
            self.post(post).deleted_at = step

    def schedule_edit(
        self, post: Post | str, step: int, body: str, edited_at: datetime | None = None
    ) -> None:
        with self.lock:
            self.changed()
            target = self.post(post)
            account = self.accounts[target.author]
            new_html = text.to_html(body, account.home, self.instances.__contains__).html
            when = edited_at or target.created_at + timedelta(minutes=7 + len(target.edits))
            target.edits.append(Edit(step, new_html, when.astimezone(UTC)))

    # -- mutations while a collection runs -------------------------------------------

    def advance(self) -> int:
        """Move to the next step: late posts arrive, scheduled deletes and edits happen."""
        with self.lock:
            self.changed()
            self.step += 1
            return self.step

    def delete(self, post: Post | str) -> Post:
        """Delete a post now (by key, uri or object): 404 everywhere from now on."""
        with self.lock:
            self.changed()
            target = self.post(post)
            target.deleted_at = self.step
            return target

    def edit(
        self, post: Post | str, content_html: str | None = None, *, body: str | None = None,
        edited_at: datetime | None = None,
    ) -> Post:  # fmt: skip
        """Edit a post now, with new HTML or new plain text."""
        with self.lock:
            self.changed()
            target = self.post(post)
            if content_html is None:
                account = self.accounts[target.author]
                content_html = text.to_html(
                    body or "", account.home, self.instances.__contains__
                ).html
            when = edited_at or target.created_at + timedelta(minutes=11 + len(target.edits))
            target.edits.append(Edit(self.step, content_html, when.astimezone(UTC)))
            return target

    # -- lookups ------------------------------------------------------------------

    def bind(self, base_urls: dict[str, str]) -> None:
        """Tie instance names to running base URLs (done by the sandbox)."""
        with self.lock:
            self.base_urls = dict(base_urls)

    def account(self, ref: Account | str) -> Account:
        key = ref.key if isinstance(ref, Account) else ref
        try:
            return self.accounts[key]
        except KeyError:
            raise SandboxError(f"no account {key!r}") from None

    def post(self, ref: Post | str) -> Post:
        if isinstance(ref, Post):
            return ref
        with self.lock:
            if ref in self.posts:
                return self.posts[ref]
            for post in self.posts.values():
                if self.uri(post) == ref:
                    return post
        raise SandboxError(f"no post {ref!r}")

    def base_url(self, instance: str) -> str:
        return self.base_urls.get(instance) or text.origin(instance)

    def domain(self, instance: str) -> str:
        """The acct domain: ``host:port`` once bound, else the name."""
        base = self.base_urls.get(instance)
        return base.split("://", 1)[1] if base else instance

    def local_id(self, instance: str, post: Post) -> int:
        return self._post_ids[(instance, post.key)]

    def account_id(self, instance: str, account: Account) -> int:
        ident = self._account_ids.get((instance, account.key))
        if ident is None:
            ident = snowflake(account.created_at, f"{instance}|{account.key}")
            self._account_ids[(instance, account.key)] = ident
        return ident

    def uri(self, post: Post) -> str:
        author = self.accounts[post.author]
        origin_id = self.local_id(author.home, post)
        suffix = "/activity" if post.reblog_of else ""
        return f"{self.base_url(author.home)}/users/{author.username}/statuses/{origin_id}{suffix}"

    def post_by_id(self, instance: str, local_id: int) -> Post | None:
        key = self._ids.get(instance, {}).get(local_id)
        return self.posts.get(key) if key else None

    def replies_count(self, post: Post) -> int:
        return self._replies.get(post.key, 0)

    # -- state at a step ------------------------------------------------------------

    def arrival(self, post: Post, instance: str) -> int:
        """The step at which ``post`` appears on ``instance`` (``NEVER`` if it does not)."""
        if instance in post.arrives:
            return post.arrives[instance]
        author = self.accounts[post.author]
        if author.home == instance or author.key in self.instances[instance].sees:
            return 0
        return NEVER

    def deleted(self, post: Post, step: int | None = None) -> bool:
        step = self.step if step is None else step
        return post.deleted_at is not None and post.deleted_at <= step

    def visible_on(self, post: Post, instance: str, step: int | None = None) -> bool:
        step = self.step if step is None else step
        return not self.deleted(post, step) and self.arrival(post, instance) <= step

    def current(self, post: Post, step: int | None = None) -> tuple[str, str, datetime | None]:
        """(content, spoiler_text, edited_at) of ``post`` at ``step``."""
        step = self.step if step is None else step
        content, spoiler, edited_at = post.content, post.spoiler_text, None
        for edit in post.edits:
            if edit.step <= step:
                content, edited_at = edit.content, edit.edited_at
                if edit.spoiler_text is not None:
                    spoiler = edit.spoiler_text
        return content, spoiler, edited_at

    def tags(self, post: Post, step: int | None = None) -> list[str]:
        return list(text.tags_in_html(self.current(post, step)[0]))

    def tag_timeline(
        self, instance: str, tag: str, *, local: bool = False, remote: bool = False,
        only_media: bool = False, step: int | None = None,
    ) -> list[tuple[int, Post]]:  # fmt: skip
        """Public, non-boost posts with ``tag`` on ``instance``, newest first.

        The list is shared (cached until the world changes): do not modify it."""
        wanted = text.normalize_tag(tag)
        with self.lock:
            step = self.step if step is None else step
            if self._timelines_version != self._version:
                self._timelines, self._timelines_version = {}, self._version
            key = (instance, wanted, local, remote, only_media, step)
            cached = self._timelines.get(key)
            if cached is None:
                cached = self._timelines[key] = self._scan_timeline(
                    instance, wanted, local, remote, only_media, step
                )
            return cached

    def _scan_timeline(
        self, instance: str, wanted: str, local: bool, remote: bool, only_media: bool, step: int
    ) -> list[tuple[int, Post]]:
        out = []
        for post in self.posts.values():
            if (
                post.visibility != "public"
                or post.reblog_of
                or not self.visible_on(post, instance, step)
            ):
                continue
            is_local = self.accounts[post.author].home == instance
            if (local and not is_local) or (remote and is_local) or (only_media and not post.media):
                continue
            if wanted in {text.normalize_tag(t) for t in self.tags(post, step)}:
                out.append((self.local_id(instance, post), post))
        out.sort(key=lambda pair: pair[0], reverse=True)
        return out

    def knows_account(self, instance: str, account: Account) -> bool:
        if account.home == instance or account.key in self.instances[instance].sees:
            return True
        return any(
            p.author == account.key and self.arrival(p, instance) <= self.step
            for p in self.posts.values()
        )

    def last_step(self) -> int:
        """The step after which nothing scheduled changes any more."""
        steps = [0]
        for post in self.posts.values():
            steps += [s for s in post.arrives.values() if s < NEVER]
            steps += [e.step for e in post.edits]
            if post.deleted_at is not None:
                steps.append(post.deleted_at)
        return max(max(steps), self.step)

    # -- internals ----------------------------------------------------------------

    def _need_instance(self, name: str) -> Instance:
        try:
            return self.instances[name]
        except KeyError:
            raise SandboxError(f"no instance {name!r}; add_instance() it first") from None

    def _assign_id(self, instance: str, post: Post) -> None:
        ident = snowflake(post.created_at, f"{instance}|{post.key}")
        taken = self._ids[instance]
        while ident in taken:  # two posts in one millisecond: bump like a sequence
            ident += 1
        taken[ident] = post.key
        self._post_ids[(instance, post.key)] = ident
