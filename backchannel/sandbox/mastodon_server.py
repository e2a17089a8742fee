"""Loopback Mastodon servers over a :class:`MastodonWorld`, one per instance.

Usage (tests and ``backchannel demo``)::

    from backchannel.sandbox.mastodon_demo import build_demo_world
    from backchannel.sandbox.mastodon_server import MastodonSandbox

    world = build_demo_world()                 # or a hand-built MastodonWorld
    with MastodonSandbox(world) as sb:
        sb.source_urls                         # base URLs of the configured sources
        server = sb.instances["kea.example"]   # .base_url .faults .budget .request_log
        server.hashtag_feeds = "authenticated" # tag feeds now need a bearer token (422)
        server.use("gotosocial")               # ids, paging, token and NodeInfo as
                                               # GoToSocial's (sandbox/server_kinds.py)
        server.software = ("gotosocial", "0.17.0")  # what its NodeInfo says (None: none)
        server.faults.add(Fault("status", times=3, path="/api/v1/timelines/"))
        world.advance(); world.delete(uri); world.edit(uri, "<p>new</p>")
        key = sb.answer_key()

Endpoints: ``/.well-known/nodeinfo`` and ``/nodeinfo/2.0``, ``/api/v2/instance[/]``,
``/api/v1/instance[/]``,
``/api/v1/timelines/tag/:tag`` (max_id, since_id, min_id, limit, local, remote,
only_media, any[]/all[]/none[]), ``/api/v1/statuses/:id``, ``/api/v1/statuses/:id/history``,
``/api/v1/statuses?id[]=`` (at most 20 ids, else 422), ``/api/v1/accounts/lookup?acct=``,
and media files under ``/system/...``, ``/avatars/...`` and ``/headers/...`` (not
rate-limited, as a real server's web server or CDN is not).

Faults: give a fault a ``path`` (e.g. ``/api/v1/timelines/``); a fault on ``/``
also hits the ``/api/v2/instance/`` request Mastodon.py sends before its first
timeline call, which swallows the error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlencode

from backchannel.errors import SandboxError
from backchannel.sandbox import images
from backchannel.sandbox import mastodon_text as text
from backchannel.sandbox.httpbase import Fault, Request, Response, SandboxServer
from backchannel.sandbox.mastodon_answers import AnswerKey, build_answer_key
from backchannel.sandbox.mastodon_instance import instance_v1, instance_v2
from backchannel.sandbox.mastodon_render import Renderer, iso
from backchannel.sandbox.mastodon_world import MastodonWorld, Post
from backchannel.sandbox.server_kinds import KINDS, ServerIds

log = logging.getLogger(__name__)

TAG_PREFIX = "/api/v1/timelines/tag/"
DEFAULT_LIMIT, MAX_LIMIT = 20, 40
MAX_BATCH_IDS = 20  # Api::V1::StatusesController#check_statuses_limit
_TRUE = {"1", "true", "True", "on"}
_NOT_FOUND = {"error": "Record not found"}
_NGINX = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
_REASONS = {500: "Internal Server Error", 502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out"}  # fmt: skip


@lru_cache(maxsize=4096)
def _png(key: str, width: int, height: int) -> bytes:
    return images.png(key, width, height)


class MastodonServer(SandboxServer):
    """One Mastodon instance of the world, on its own loopback port."""

    def __init__(self, world: MastodonWorld, instance: str, port: int = 0) -> None:
        if instance not in world.instances:
            raise SandboxError(f"no instance {instance!r} in the world")
        self.world = world
        self.instance = instance
        self.hashtag_feeds = "public"  # or "authenticated": a per-instance switch
        self.software: tuple[str, str] | None = ("mastodon", "4.3.0")  # NodeInfo; None: none
        self.use("mastodon")
        super().__init__(port=port)
        self.name = f"mastodon:{instance}"

    def use(self, kind: str) -> None:
        """Serve ids, page the tag feed and ask for a token as ``kind`` does (a name
        of :data:`~backchannel.sandbox.server_kinds.KINDS`), and say so in NodeInfo."""
        self.kind = KINDS[kind]
        self.ids = ServerIds(self.world, self.instance, self.kind)
        self.software = (self.kind.software, self.kind.version)

    # -- httpbase hooks -------------------------------------------------------------

    def routes(self) -> None:
        for path in ("/api/v2/instance", "/api/v2/instance/"):
            self.route("GET", path, self._instance_v2)
        for path in ("/api/v1/instance", "/api/v1/instance/"):
            self.route("GET", path, self._instance_v1)
        self.route("GET", TAG_PREFIX + "*", self._tag_timeline)
        self.route("GET", "/.well-known/nodeinfo", self._nodeinfo_links)
        self.route("GET", "/nodeinfo/2.0", self._nodeinfo)
        self.route("GET", "/api/v1/statuses", self._statuses)
        self.route("GET", "/api/v1/statuses/*", self._status)
        self.route("GET", "/api/v1/accounts/lookup", self._lookup)
        for prefix in ("/system/", "/avatars/", "/headers/"):
            self.route("GET", prefix + "*", self._media, metered=False)

    def decorate(self, request: Request, response: Response) -> None:
        if not request.path.startswith("/api/"):
            return
        reset = datetime.fromtimestamp(self.budget.reset_at, UTC)
        response.headers["X-RateLimit-Limit"] = str(self.budget.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, self.budget.remaining))
        response.headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def rate_limited(self, request: Request) -> Response:
        return Response(429, {"error": "Too many requests"})

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "ratelimit":
            return self.rate_limited(request)
        if fault.kind == "auth":
            return Response(401, {"error": "The access token is invalid"})
        if fault.status in (502, 503, 504):  # the reverse proxy answers, in HTML
            page = _NGINX.format(_REASONS[fault.status]).encode()
            return Response(fault.status, page, content_type="text/html")
        return Response(
            fault.status, {"error": "We're sorry, but something went wrong on our end."}
        )

    # -- handlers -----------------------------------------------------------------

    def _renderer(self, request: Request) -> Renderer:
        return Renderer(self.world, self.instance, authed=request.bearer is not None,
                        ids=self.ids.of)  # fmt: skip

    def _tag_timeline(self, request: Request) -> Response:
        raw_tag = request.path[len(TAG_PREFIX) :]
        tag = unquote(raw_tag)
        if not tag or "/" in tag:
            return Response(404, {"error": "Not Found"})
        if request.bearer is None and self.kind.token_status:
            return Response(self.kind.token_status, {"error": "authorization required"})
        if self.hashtag_feeds != "public" and request.bearer is None:
            return Response(422, {"error": "This method requires an authenticated user"})
        limit_arg = request.arg("limit")
        limit = DEFAULT_LIMIT
        if limit_arg is not None:  # Rails' limit_param: to_i.abs, capped
            limit = min(abs(int(limit_arg)) if limit_arg.lstrip("-").isdigit() else 0, MAX_LIMIT)
        flags = {k: request.arg(k) in _TRUE for k in ("local", "remote", "only_media")}
        if self.kind.only_media_default and request.arg("only_media") is None:
            flags["only_media"] = True
        args = {k: request.arg(k) for k in ("max_id", "since_id", "min_id")}
        with self.world.lock:
            page = self.ids.page(self._feed(tag, request, flags), args, limit)
            if page is None:
                return Response(400, {"error": "invalid id"})
            renderer = self._renderer(request)
            body = [renderer.status(post) for _, post in page]
        response = Response(200, body)
        if page and self.kind.link_header:  # Mastodon sends no Link header with an empty page
            kept = {k: request.arg(k) for k in ("limit", "local", "only_media") if request.arg(k)}
            base = f"{self.base_url}{TAG_PREFIX}{raw_tag}"

            def link(extra: dict[str, Any]) -> str:
                return base + "?" + urlencode(sorted({**kept, **extra}.items()))

            response.headers["Link"] = (
                f'<{link({"max_id": page[-1][0]})}>; rel="next", '
                f'<{link({"min_id": page[0][0]})}>; rel="prev"'
            )
        return response

    def _feed(self, tag: str, request: Request, flags: dict[str, bool]) -> list[tuple[int, Post]]:
        """The tag feed, with the any[]/all[]/none[] extras (at most 4 names each)."""
        any_tags, all_tags, none_tags = (
            {text.normalize_tag(t) for t in request.args(f"{mode}[]")[:4]}
            for mode in ("any", "all", "none")
        )
        if not (any_tags or all_tags or none_tags):  # the plain feed, shared as it is
            return self.world.tag_timeline(self.instance, tag, **flags)
        feed = dict(self.world.tag_timeline(self.instance, tag, **flags))
        for extra in any_tags:
            feed.update(self.world.tag_timeline(self.instance, extra, **flags))
        if all_tags or none_tags:
            feed = {
                i: p
                for i, p in feed.items()
                if all_tags <= (names := {text.normalize_tag(t) for t in self.world.tags(p)})
                and not (none_tags & names)
            }
        return sorted(feed.items(), key=lambda pair: pair[0], reverse=True)

    def _visible_post(self, raw_id: str) -> Post | None:
        post = self.ids.post(raw_id)
        if post is None or not self.world.visible_on(post, self.instance):
            return None
        if post.visibility in ("private", "direct"):  # not for anonymous readers
            return None
        return post

    def _status(self, request: Request) -> Response:
        rest = request.path[len("/api/v1/statuses/") :]
        raw_id, _, sub = rest.partition("/")
        with self.world.lock:
            post = self._visible_post(raw_id)
            if post is None or sub not in ("", "history"):
                return Response(404, _NOT_FOUND)
            renderer = self._renderer(request)
            if sub == "history":
                return Response(200, self._history(renderer, post))
            return Response(200, renderer.status(post))

    def _history(self, renderer: Renderer, post: Post) -> list[dict[str, Any]]:
        account = renderer.account(self.world.accounts[post.author])
        media = [renderer.media(post, m) for m in post.media]
        versions = [(post.content, post.spoiler_text, post.created_at)]
        versions += [
            (
                e.content,
                e.spoiler_text if e.spoiler_text is not None else post.spoiler_text,
                e.edited_at,
            )
            for e in post.edits
            if e.step <= self.world.step
        ]
        return [
            {
                "content": text.resolve(content, self.world.base_urls),
                "spoiler_text": spoiler,
                "sensitive": post.sensitive,
                "created_at": iso(when),
                "account": account,
                "poll": None,
                "media_attachments": media,
                "emojis": renderer.emojis(self.world.accounts[post.author].home, content, spoiler),
            }
            for content, spoiler, when in versions
        ]

    def _statuses(self, request: Request) -> Response:
        if not self.kind.batch:
            return Response(404, {"error": "Not Found"})
        ids = list(dict.fromkeys(request.args("id[]") + request.args("id")))
        if len(ids) > MAX_BATCH_IDS:
            return Response(422, {"error": "Mastodon::ValidationError"})
        with self.world.lock:
            renderer = self._renderer(request)
            posts = [self._visible_post(raw) for raw in ids]
            return Response(200, [renderer.status(p) for p in posts if p is not None])

    def _lookup(self, request: Request) -> Response:
        acct = (request.arg("acct") or "").lstrip("@")
        username, _, domain = acct.partition("@")
        with self.world.lock:
            for account in self.world.accounts.values():
                if account.username.lower() != username.lower():
                    continue
                home_domains = {self.world.domain(account.home), account.home}
                if domain and domain not in home_domains:
                    continue
                if not domain and account.home != self.instance:
                    continue
                if self.world.knows_account(self.instance, account):
                    return Response(200, self._renderer(request).account(account))
        return Response(404, _NOT_FOUND)

    def _media(self, request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1]
        if request.path.endswith("/missing.png"):
            return Response(200, _png(request.path, 48, 48), content_type="image/png")
        match = re.fullmatch(r"(.+?)(-small)?\.png", name)
        size = self._media_sizes().get(match.group(1)) if match else None
        if match is None or size is None:
            return Response(404, b"Not Found", content_type="text/plain")
        width, height = size
        if match.group(2):
            scale = min(1.0, 48 / max(width, height))
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
        return Response(200, _png(match.group(1), width, height), content_type="image/png")

    def _media_sizes(self) -> dict[str, tuple[int, int]]:
        """Every media key the world knows, with its size (cached until posts change)."""
        world = self.world
        cached = world.render_cache.get("media")
        if cached is not None and cached[0] == (len(world.posts), len(world.accounts)):
            return cached[1]
        sizes: dict[str, tuple[int, int]] = {"thumbnail": (64, 64)}
        for account in world.accounts.values():
            if account.avatar:
                sizes[account.avatar] = (96, 96)
            if account.header:
                sizes[account.header] = (150, 50)
        for emoji in world.emojis.values():
            sizes[emoji.key] = (32, 32)
        for post in world.posts.values():
            for media in post.media:
                sizes[media.key] = (media.width, media.height)
            if post.card and post.card.image:
                sizes[post.card.image] = (120, 63)
        world.render_cache["media"] = ((len(world.posts), len(world.accounts)), sizes)
        return sizes

    def _nodeinfo_links(self, request: Request) -> Response:
        if self.software is None:
            return Response(404, {"error": "Not Found"})
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.0"
        return Response(200, {"links": [{"rel": rel, "href": f"{self.base_url}/nodeinfo/2.0"}]})

    def _nodeinfo(self, request: Request) -> Response:
        if self.software is None:
            return Response(404, {"error": "Not Found"})
        name, version = self.software
        return Response(200, {"version": "2.0", "software": {"name": name, "version": version},
                              "protocols": ["activitypub"], "openRegistrations": False,
                              "usage": {"users": {}}, "metadata": {}})  # fmt: skip

    def _instance_v2(self, request: Request) -> Response:
        return Response(200, instance_v2(self.world, self.instance, self.hashtag_feeds))

    def _instance_v1(self, request: Request) -> Response:
        return Response(200, instance_v1(self.world, self.instance))


class MastodonSandbox:
    """Every instance of a world served at once; a context manager."""

    def __init__(
        self,
        world: MastodonWorld,
        *,
        sources: Sequence[str] | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> None:
        self.world = world
        self.sources = list(sources or world.sources or world.instances)
        unknown = [s for s in self.sources if s not in world.instances]
        if unknown:
            raise SandboxError(f"sources not in the world: {', '.join(unknown)}")
        self._ports = dict(ports or {})
        self.instances: dict[str, MastodonServer] = {}

    def start(self) -> MastodonSandbox:
        try:
            for name in self.world.instances:
                server = MastodonServer(self.world, name, self._ports.get(name, 0))
                self.instances[name] = server.start()
        except OSError as exc:
            self.stop()
            raise SandboxError(f"cannot start the Mastodon sandbox: {exc}") from exc
        self.world.bind({name: s.base_url for name, s in self.instances.items()})
        log.info(
            "Mastodon sandbox: %s",
            ", ".join(f"{n}={s.base_url}" for n, s in self.instances.items()),
        )
        return self

    def stop(self) -> None:
        for server in self.instances.values():
            server.stop()
        self.instances.clear()

    def __enter__(self) -> MastodonSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def source_urls(self) -> list[str]:
        return [self.instances[name].base_url for name in self.sources]

    def url(self, name: str) -> str:
        return self.instances[name].base_url

    def server_for(self, base_url: str) -> MastodonServer:
        for server in self.instances.values():
            if server.base_url == base_url.rstrip("/"):
                return server
        raise SandboxError(f"no sandbox instance at {base_url}")

    def answer_key(self, **options: Any) -> AnswerKey:
        """:func:`build_answer_key` for this sandbox's sources, with live URIs."""
        options.setdefault("sources", self.sources)
        return build_answer_key(self.world, **options)
