"""The Bluesky sandbox's world: accounts, posts, blobs, and what happens to them.

A :class:`World` is plain data plus the indexes that make search fast: every post is
kept in lists sorted by ``(sortAt, uri)`` (one for all posts and one per lower-cased
hashtag), so a page of ``searchPosts`` is a bisect plus a short walk, even over tens
of thousands of posts. All reads and mutations take ``world.lock`` (re-entrant), so a
test can delete or edit posts from its own thread while a collector is paging.

Build posts with :meth:`World.post` (record built for you, facets detected) or
:meth:`World.add_post` (a raw record, for the odd shapes real data has), and many
plain posts at once with :meth:`World.add_bulk`. Mutations: :meth:`World.delete`,
:meth:`World.edit` (rewrites the record, new CID), :meth:`World.advance` (late posts
arrive), and ``delete_after_served`` / ``edit_after_served`` (applied the first time
a post is handed out). :meth:`World.answer_key` says what a correct collector ends with.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.sandbox import conference
from backchannel.sandbox.bluesky_ids import (
    format_datetime,
    make_cid,
    make_did,
    make_tid,
    micros,
    record_cid,
)
from backchannel.sandbox.bluesky_model import (
    POST_TYPE,
    SELF_LABELS,
    Account,
    AnswerKey,
    Blob,
    Key,
    Post,
    record_created_at,
)
from backchannel.sandbox.bluesky_text import detect_facets, hashtags
from backchannel.sandbox.images import png

MARGIN = timedelta(hours=1)


class World:
    """Everything the Bluesky sandbox knows. See the module docstring."""

    def __init__(
        self,
        *,
        seed: int = conference.SEED,
        hashtags: Sequence[str] = conference.HASHTAGS,
        window: tuple[datetime, datetime] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.hashtags = [tag.lower() for tag in hashtags]
        self.window = window or (conference.STARTS_AT - MARGIN, conference.ENDS_AT + MARGIN)
        self.accounts: dict[str, Account] = {}
        self.posts: dict[str, Post] = {}
        self.blobs: dict[str, Blob] = {}
        self.login: Account | None = None  # the demo's archivist account
        # The world's "now": nothing that has arrived sorts later. None means the real
        # clock. A collector under test should use now() as its clock, or a past event
        # looks finished to it and late posts (backdated, to its eyes) stay unseen.
        self.clock: datetime | None = None
        self._handles: dict[str, Account] = {}
        self._all: list[Key] = []
        self._by_tag: dict[str, list[Key]] = {}
        self._after_served: dict[str, str | None] = {}  # uri -> new text, None = delete
        self._deleted_for_key: set[str] = set()
        self._edited: dict[str, str] = {}
        self._tid_counter = 0
        # What a hostile AppView does to a post view after building it (the
        # hostile-input tests put payloads in view-only fields: avatar, embed views).
        self.rewrite_view: Callable[[Post, dict[str, Any]], dict[str, Any]] | None = None

    # -- building -----------------------------------------------------------------

    def add_account(
        self,
        handle: str,
        display_name: str,
        *,
        created_at: datetime | None = None,
        description: str = "",
        app_password: str | None = None,
        opted_out: bool = False,
        avatar: bool = True,
    ) -> Account:
        did = make_did(f"{self.seed}:{handle}")
        account = Account(
            did=did,
            handle=handle,
            display_name=display_name,
            created_at=created_at or datetime(2023, 5, 1, tzinfo=conference.STARTS_AT.tzinfo),
            description=description,
            app_password=app_password,
            opted_out=opted_out,
        )
        if avatar:
            account.avatar = self.add_blob(png(f"avatar:{did}", 48, 48), "image/png")["ref"][
                "$link"
            ]
        with self.lock:
            self.accounts[did] = account
            self._handles[handle.lower()] = account
        return account

    def add_blob(self, data: bytes, mime: str) -> dict[str, Any]:
        """Store bytes; returns the blob ref a record embeds."""
        cid = make_cid(data, raw=True)
        with self.lock:
            self.blobs[cid] = Blob(data, mime)
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}

    def account(self, actor: str) -> Account | None:
        """An account by DID or handle (case-insensitive, an optional leading @)."""
        with self.lock:
            return self.accounts.get(actor) or self._handles.get(actor.lstrip("@").lower())

    def _resolve(self, handle: str) -> str | None:
        account = self._handles.get(handle.lower())
        return account.did if account else None

    def add_post(
        self,
        author: Account,
        record: dict[str, Any],
        *,
        indexed_at: datetime | None = None,
        tags: Iterable[str] | None = None,
        late: bool = False,
        invalid: bool = False,
        counts: tuple[int, int, int] = (0, 0, 0),
        quote_view: str | None = None,
    ) -> Post:
        """Add a post with this exact record. ``counts`` is (replies, reposts, likes)."""
        created = record_created_at(record, indexed_at or conference.STARTS_AT)
        indexed = indexed_at or created + timedelta(seconds=2)
        with self.lock:
            self._tid_counter += 1
            uri = f"at://{author.did}/{POST_TYPE}/{make_tid(created, self._tid_counter)}"
            text = record.get("text") if isinstance(record.get("text"), str) else ""
            meant = {t.lower() for t in tags} if tags is not None else None
            if meant is None:
                meant = hashtags(text) | {t.lower() for t in record.get("tags") or []}
            post = Post(
                uri=uri,
                author=author,
                record=record,
                cid=record_cid(record),
                indexed_at=indexed,
                tags=frozenset(meant),
                reply_count=counts[0],
                repost_count=counts[1],
                like_count=counts[2],
                quote_view=quote_view,
                arrived=not late,
                late=late,
                invalid=invalid,
            )
            self.posts[uri] = post
            self._index(post)
        return post

    def post(
        self,
        author: Account,
        text: str,
        *,
        created_at: datetime,
        created_style: str = "ms",
        facets: list[dict[str, Any]] | None = None,
        embed: dict[str, Any] | None = None,
        reply_to: Post | None = None,
        langs: Sequence[str] = ("en",),
        self_labels: Sequence[str] = (),
        record_tags: Sequence[str] = (),
        **options: Any,
    ) -> Post:
        """Write a post as the app would; facets are detected when not given.

        ``options`` go to :meth:`add_post` (``indexed_at``, ``late``, ``counts`` ...).
        """
        record: dict[str, Any] = {
            "$type": POST_TYPE,
            "text": text,
            "createdAt": format_datetime(created_at, created_style),
            "langs": list(langs),
        }
        found = facets if facets is not None else detect_facets(text, self._resolve)
        if found:
            record["facets"] = found
        if reply_to is not None:
            root = reply_to.record.get("reply", {}).get("root") or reply_to.strong_ref()
            record["reply"] = {"root": root, "parent": reply_to.strong_ref()}
            reply_to.reply_count += 1
        if embed is not None:
            record["embed"] = embed
            quoted = embed.get("record", {})
            quoted_uri = quoted.get("record", {}).get("uri") or quoted.get("uri")
            if quoted_uri in self.posts:
                self.posts[quoted_uri].quote_count += 1
        if self_labels:
            record["labels"] = {
                "$type": SELF_LABELS,
                "values": [{"val": value} for value in self_labels],
            }
        if record_tags:
            record["tags"] = list(record_tags)
        return self.add_post(author, record, **options)

    def add_bulk(
        self, tag: str, n: int, start: datetime, end: datetime, authors: int = 50
    ) -> list[str]:
        """``n`` plain posts carrying ``#tag``, spread evenly over [start, end).

        Cheap on purpose (one sort at the end, not an insert per post), for the
        search-cap tests that need more than 10,000 hits.
        """
        pool = [
            self.add_account(f"bulk{i:03d}-{tag.lower()}.bsky.example", f"Bulk {i}", avatar=False)
            for i in range(authors)
        ]
        step = (end - start) / max(n, 1)
        uris: list[str] = []
        with self.lock:
            if tag.lower() not in self.hashtags:
                self.hashtags.append(tag.lower())
            meant = frozenset({tag.lower()})
            for i in range(n):
                created = start + step * i
                prefix = f"Bulk post {i} "
                record = {
                    "$type": POST_TYPE,
                    "text": f"{prefix}#{tag}",
                    "createdAt": format_datetime(created),
                    "langs": ["en"],
                    "facets": [
                        {
                            "$type": "app.bsky.richtext.facet",
                            "index": {
                                "byteStart": len(prefix),
                                "byteEnd": len(prefix) + 1 + len(tag.encode()),
                            },
                            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                        }
                    ],
                }
                self._tid_counter += 1
                author = pool[i % authors]
                uri = f"at://{author.did}/{POST_TYPE}/{make_tid(created, self._tid_counter)}"
                # The record differs from its neighbours only in text and time, so
                # hashing those (not the whole JSON) still gives each its own CID.
                cid = make_cid(f"{record['text']}|{record['createdAt']}".encode())
                post = Post(uri, author, record, cid, created + timedelta(seconds=1), meant)
                self.posts[uri] = post
                self._all.append(post.key)
                for found in post.search_tags:
                    self._by_tag.setdefault(found, []).append(post.key)
                uris.append(uri)
            self._all.sort()
            for keys in self._by_tag.values():
                keys.sort()
        return uris

    def _index(self, post: Post) -> None:
        bisect.insort(self._all, post.key)
        for tag in post.search_tags:
            bisect.insort(self._by_tag.setdefault(tag, []), post.key)

    def _unindex(self, post: Post) -> None:
        for tag in post.search_tags:
            keys = self._by_tag.get(tag, [])
            at = bisect.bisect_left(keys, post.key)
            if at < len(keys) and keys[at] == post.key:
                del keys[at]

    # -- reading ------------------------------------------------------------------

    def now(self) -> datetime:
        """The world's current time (see ``clock``)."""
        with self.lock:
            return self.clock if self.clock is not None else datetime.now(UTC)

    def get(self, uri: str) -> Post | None:
        """The post at ``uri`` if it can be shown (arrived and not deleted)."""
        with self.lock:
            post = self.posts.get(uri)
            return post if post is not None and post.live else None

    def index_for(self, tags: Sequence[str]) -> list[Key]:
        """The smallest sorted key list that holds every post carrying all ``tags``."""
        if not tags:
            return self._all
        lists = [self._by_tag.get(tag, []) for tag in tags]
        return min(lists, key=len)

    def walk_down(self, index: list[Key], below: Key | None) -> Iterator[Post]:
        """Posts in ``index`` with key < ``below``, newest sortAt first (hold the lock)."""
        at = len(index) if below is None else bisect.bisect_left(index, below)
        for i in range(at - 1, -1, -1):
            yield self.posts[index[i][1]]

    # -- mutations ------------------------------------------------------------------

    def delete(self, uri: str) -> None:
        """Delete a post, as its author would: gone from search, getPosts and getRecord."""
        with self.lock:
            post = self.posts[uri]
            post.deleted = True
            self._deleted_for_key.add(uri)
            self._after_served.pop(uri, None)

    def _rewritten(self, post: Post, new_text: str) -> dict[str, Any]:
        record = dict(post.record)
        record["text"] = new_text
        facets = detect_facets(new_text, self._resolve)
        if facets:
            record["facets"] = facets
        else:
            record.pop("facets", None)
        return record

    def edit(self, uri: str, new_text: str) -> str:
        """Rewrite a post's record (putRecord) with ``new_text``; returns the new CID."""
        with self.lock:
            post = self.posts[uri]
            self._unindex(post)
            post.record = self._rewritten(post, new_text)
            post.cid = record_cid(post.record)
            post.tags = frozenset(
                hashtags(new_text) | {t.lower() for t in post.record.get("tags") or []}
            )
            post.refresh()
            for tag in post.search_tags:
                bisect.insort(self._by_tag.setdefault(tag, []), post.key)
            self._edited[uri] = post.cid
            return post.cid

    def delete_after_served(self, uri: str) -> None:
        """Delete ``uri`` right after a response first hands it out."""
        with self.lock:
            self._after_served[uri] = None
            self._deleted_for_key.add(uri)

    def edit_after_served(self, uri: str, new_text: str) -> None:
        """Rewrite ``uri`` right after a response first hands it out."""
        with self.lock:
            self._after_served[uri] = new_text

    def served(self, uris: Iterable[str]) -> None:
        """Called by the server after a response: apply the after-served mutations."""
        with self.lock:
            for uri in uris:
                if uri not in self._after_served:
                    continue
                new_text = self._after_served.pop(uri)
                if new_text is None:
                    self.delete(uri)
                else:
                    self.edit(uri, new_text)

    def advance(self) -> list[str]:
        """Let the late posts arrive (and move ``clock`` past them); returns their URIs."""
        with self.lock:
            arrived = [post for post in self.posts.values() if not post.arrived]
            for post in arrived:
                post.arrived = True
            if self.clock is not None and arrived:
                latest = max(post.sort_at for post in arrived) + timedelta(seconds=1)
                self.clock = max(self.clock, latest)
            return [post.uri for post in arrived]

    # -- the answer key ---------------------------------------------------------------

    def answer_key(self) -> AnswerKey:
        since, until = self.window
        low, high = micros(since), micros(until)
        with self.lock:
            wanted = set(self.hashtags)
            tagged = [p for p in self.posts.values() if p.tags & wanted]
            inside = [p for p in tagged if low <= p.key[0] < high]
            inside_uris = {p.uri for p in inside}
            edited = {u: c for u, c in self._edited.items() if u not in self._deleted_for_key}
            for uri, text in self._after_served.items():
                if text is not None:  # the CID the edit will give, known in advance
                    edited[uri] = record_cid(self._rewritten(self.posts[uri], text))
            live = [p for p in inside if p.live and p.uri not in self._deleted_for_key]
            by_tag = {tag: frozenset(p.uri for p in live if tag in p.tags) for tag in self.hashtags}
            return AnswerKey(
                since=since,
                until=until,
                by_tag=by_tag,
                opted_out=frozenset(p.uri for p in live if p.author.opted_out),
                deleted=frozenset(p.uri for p in inside if p.uri in self._deleted_for_key),
                edited=edited,
                late=frozenset(p.uri for p in inside if p.late),
                pending=frozenset(p.uri for p in inside if not p.arrived),
                outside_window=frozenset(p.uri for p in tagged if p.uri not in inside_uris),
                invalid_records=frozenset(p.uri for p in inside if p.invalid),
            )
