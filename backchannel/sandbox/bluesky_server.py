"""A loopback server that speaks enough XRPC for the atproto SDK's ``Client``.

It plays the PDS (createSession, refreshSession, getSession, getRecord, getBlob), the
AppView (getProfile, searchPosts, getPosts, getPostThread) and the CDN (``/img/...``
images, ``/watch/...`` video) at once, over one :class:`World`. Auth, errors and
headers follow the real service (platform-apis.md B2, B6):

* ``accessJwt``/``refreshJwt`` are JWT-shaped with ``exp`` (the SDK reads it to decide
  when to refresh); no ``didDoc`` in the session, or the SDK would move to its PDS;
* a wrong password is 401 ``AuthenticationRequired``; searchPosts without a token is
  401 ``AuthMissing``, as the PDS answers; an expired or unknown token is 400
  ``ExpiredToken``; other reads accept anonymous calls, as public.api.bsky.app does;
* every XRPC answer carries ``ratelimit-limit/-remaining/-reset/-policy``; a spent
  budget or a ``ratelimit`` fault is 429 ``RateLimitExceeded``; a 502 fault says
  ``UpstreamFailure``.

Knobs for tests: ``search_cap`` (results per query before the cursor stops),
``access_lifetime``/``refresh_lifetime`` (seconds), :meth:`BlueskyServer.expire_sessions`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from backchannel.sandbox.bluesky_model import NO_UNAUTHENTICATED, POST_TYPE, SELF_LABELS
from backchannel.sandbox.bluesky_search import XrpcFailure, parse_query, search
from backchannel.sandbox.bluesky_views import post_view, profile_detailed
from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.httpbase import Fault, RateBudget, Request, Response, SandboxServer
from backchannel.sandbox.images import png

log = logging.getLogger(__name__)

XRPC = "/xrpc/"
_STATUS_ERRORS = {
    500: ("InternalServerError", "Internal Server Error"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Service Unavailable"),
    504: ("UpstreamTimeout", "Upstream Timeout"),
}


@dataclass
class _Token:
    did: str
    kind: str  # "access" or "refresh"
    expires: float  # epoch seconds; the server's view, which may differ from the JWT's


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class BlueskyServer(SandboxServer):
    """The Bluesky half of the sandbox. See the module docstring."""

    name = "bluesky"

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0) -> None:
        self.world = world
        self.search_cap = 10_000
        self.access_lifetime = 2 * 3600.0  # the PDS's access tokens live two hours
        self.refresh_lifetime = 90 * 86400.0
        self._tokens: dict[str, _Token] = {}
        self._token_lock = threading.Lock()
        self._token_count = 0
        super().__init__(host, port)
        self.budget = RateBudget(limit=3000, window=300.0)

    # -- httpbase hooks -------------------------------------------------------------

    def routes(self) -> None:
        get, post = "GET", "POST"
        self.route(
            post, XRPC + "com.atproto.server.createSession", self._xrpc(self._create_session)
        )
        self.route(
            post, XRPC + "com.atproto.server.refreshSession", self._xrpc(self._refresh_session)
        )
        self.route(get, XRPC + "com.atproto.server.getSession", self._xrpc(self._get_session))
        self.route(get, XRPC + "app.bsky.actor.getProfile", self._xrpc(self._get_profile))
        self.route(get, XRPC + "app.bsky.feed.searchPosts", self._xrpc(self._search_posts))
        self.route(get, XRPC + "app.bsky.feed.getPosts", self._xrpc(self._get_posts))
        self.route(get, XRPC + "app.bsky.feed.getPostThread", self._xrpc(self._get_post_thread))
        self.route(get, XRPC + "com.atproto.repo.getRecord", self._xrpc(self._get_record))
        self.route(get, XRPC + "com.atproto.sync.getBlob", self._xrpc(self._get_blob))
        self.route(get, "/img/*", self._image)
        self.route(get, "/watch/*", self._video)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "ratelimit":
            return self.rate_limited(request)
        if fault.kind == "auth":
            return _error(401, "AuthMissing", "Authentication Required")
        name, message = _STATUS_ERRORS.get(
            fault.status,
            (HTTPStatus(fault.status).phrase.replace(" ", ""), HTTPStatus(fault.status).phrase),
        )
        return _error(fault.status, name, message)

    def rate_limited(self, request: Request) -> Response:
        return _error(429, "RateLimitExceeded", "Rate Limit Exceeded")

    def decorate(self, request: Request, response: Response) -> None:
        if not request.path.startswith(XRPC):
            return
        budget = self.budget
        response.headers.update(
            {
                "ratelimit-limit": str(budget.limit),
                "ratelimit-remaining": str(max(budget.remaining, 0)),
                "ratelimit-reset": str(math.ceil(budget.reset_at)),
                "ratelimit-policy": f"{budget.limit};w={int(budget.window)}",
            }
        )

    # -- sessions ---------------------------------------------------------------------

    def _issue(self, did: str, kind: str, lifetime: float) -> str:
        with self._token_lock:
            self._token_count += 1
            serial = self._token_count
        now = int(time.time())
        claims: dict[str, Any] = {
            "scope": "com.atproto.appPass" if kind == "access" else "com.atproto.refresh",
            "sub": did,
            "aud": "did:web:127.0.0.1",
            "iat": now,
            "exp": now + max(1, int(lifetime)),
        }
        if kind == "refresh":
            claims["jti"] = _b64(hashlib.sha256(f"{did}:{serial}".encode()).digest()[:24])
        header = {"typ": "at+jwt" if kind == "access" else "refresh+jwt", "alg": "ES256K"}
        # The signature is never checked by the SDK; it only has to look like one.
        signature = hashlib.sha512(f"{did}:{kind}:{serial}".encode()).digest()[:64]
        token = ".".join(
            [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)]
        )
        with self._token_lock:
            self._tokens[token] = _Token(did, kind, time.time() + lifetime)
        return token

    def _session(self, did: str) -> dict[str, Any]:
        account = self.world.accounts[did]
        # No didDoc: with one, the SDK would switch its base URL to the PDS it names.
        return {
            "did": did,
            "handle": account.handle,
            "accessJwt": self._issue(did, "access", self.access_lifetime),
            "refreshJwt": self._issue(did, "refresh", self.refresh_lifetime),
            "active": True,
        }

    def _token(self, request: Request, kind: str) -> _Token | None:
        token = request.bearer
        if token is None:
            return None
        with self._token_lock:
            info = self._tokens.get(token)
        if info is None or info.kind != kind or info.expires <= time.time():
            raise XrpcFailure(400, "ExpiredToken", "Token has expired")
        return info

    def _viewer(self, request: Request, required: bool = False) -> str | None:
        info = self._token(request, "access")
        if info is None and required:
            raise XrpcFailure(401, "AuthMissing", "Authentication Required")
        return info.did if info else None

    def expire_sessions(self) -> None:
        """Expire every access token now, server-side (the JWTs still claim a later exp)."""
        with self._token_lock:
            for info in self._tokens.values():
                if info.kind == "access":
                    info.expires = 0.0

    def _create_session(self, request: Request) -> dict[str, Any]:
        parsed = request.json()
        body = parsed if isinstance(parsed, dict) else {}
        identifier, password = body.get("identifier"), body.get("password")
        if not isinstance(identifier, str) or not isinstance(password, str):
            raise XrpcFailure(400, "InvalidRequest", 'Input must have the property "identifier"')
        account = self.world.account(identifier)
        if account is None or account.app_password is None or account.app_password != password:
            raise XrpcFailure(401, "AuthenticationRequired", "Invalid identifier or password")
        log.debug("bluesky sandbox: session created for %s", account.handle)
        return self._session(account.did)

    def _refresh_session(self, request: Request) -> dict[str, Any]:
        info = self._token(request, "refresh")
        if info is None:
            raise XrpcFailure(401, "AuthMissing", "Authentication Required")
        with self._token_lock:
            info.expires = 0.0  # a refresh token is good for one refresh
        return self._session(info.did)

    def _get_session(self, request: Request) -> dict[str, Any]:
        account = self.world.accounts[str(self._viewer(request, required=True))]
        return {"did": account.did, "handle": account.handle, "active": True}

    # -- AppView ----------------------------------------------------------------------

    def _get_profile(self, request: Request) -> dict[str, Any]:
        self._viewer(request)
        actor = request.arg("actor")
        if not actor:
            raise XrpcFailure(400, "InvalidRequest", 'Error: Params must have the property "actor"')
        account = self.world.account(actor)
        if account is None:
            raise XrpcFailure(400, "InvalidRequest", "Profile not found")
        return profile_detailed(self.world, account, self.base_url)

    def _search_posts(self, request: Request) -> dict[str, Any]:
        self._viewer(request, required=True)
        query = parse_query(
            request.arg("q"),
            request.args("tag"),
            since=request.arg("since"),
            until=request.arg("until"),
            sort=request.arg("sort"),
            limit=request.arg("limit"),
            cursor=request.arg("cursor"),
        )
        with self.world.lock:
            page, cursor = search(self.world, query, self.search_cap)
            body: dict[str, Any] = {
                "posts": [post_view(self.world, p, self.base_url) for p in page]
            }
            self.world.served(p.uri for p in page)
        if cursor is not None:
            body["cursor"] = cursor
        return body

    def _get_posts(self, request: Request) -> dict[str, Any]:
        self._viewer(request)
        uris = request.args("uris")
        if len(uris) > 25:
            raise XrpcFailure(
                400, "InvalidRequest", "Error: uris must not have more than 25 elements"
            )
        with self.world.lock:
            found = [post for post in map(self.world.get, uris) if post is not None]
            body = {"posts": [post_view(self.world, post, self.base_url) for post in found]}
            self.world.served(post.uri for post in found)
        return body

    def _get_post_thread(self, request: Request) -> dict[str, Any]:
        viewer = self._viewer(request)
        uri = request.arg("uri") or ""
        with self.world.lock:
            post = self.world.get(uri)
            # Logged-out viewers do not see the threads of !no-unauthenticated authors.
            if post is None or (viewer is None and post.author.opted_out):
                raise XrpcFailure(400, "NotFound", f"Post not found: {uri}")
            replies = [
                p
                for p in self.world.posts.values()
                if p.live and p.record.get("reply", {}).get("parent", {}).get("uri") == uri
            ]
            thread: dict[str, Any] = {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": post_view(self.world, post, self.base_url),
                "replies": [
                    {
                        "$type": "app.bsky.feed.defs#threadViewPost",
                        "post": post_view(self.world, p, self.base_url),
                        "replies": [],
                    }
                    for p in sorted(replies, key=lambda p: p.key)
                ],
            }
            parent_uri = post.record.get("reply", {}).get("parent", {}).get("uri")
            if parent_uri:
                parent = self.world.get(parent_uri)
                thread["parent"] = (
                    {
                        "$type": "app.bsky.feed.defs#threadViewPost",
                        "post": post_view(self.world, parent, self.base_url),
                    }
                    if parent is not None
                    else {
                        "$type": "app.bsky.feed.defs#notFoundPost",
                        "uri": parent_uri,
                        "notFound": True,
                    }
                )
        return {"thread": thread}

    # -- PDS and CDN ------------------------------------------------------------------

    def _get_record(self, request: Request) -> dict[str, Any]:
        self._viewer(request)
        repo, collection, rkey = (
            request.arg("repo", ""),
            request.arg("collection"),
            request.arg("rkey"),
        )
        account = self.world.account(repo or "")
        if account is None:
            raise XrpcFailure(400, "InvalidRequest", f"Could not find repo: {repo}")
        uri = f"at://{account.did}/{collection}/{rkey}"
        if collection == "app.bsky.actor.profile" and rkey == "self":
            value: dict[str, Any] = {
                "$type": collection,
                "displayName": account.display_name,
                "description": account.description,
            }
            if account.opted_out:
                value["labels"] = {"$type": SELF_LABELS, "values": [{"val": NO_UNAUTHENTICATED}]}
            return {"uri": uri, "value": value}
        post = self.world.get(uri) if collection == POST_TYPE else None
        if post is None:
            raise XrpcFailure(400, "RecordNotFound", f"Could not locate record: {uri}")
        return {"uri": uri, "cid": post.cid, "value": post.record}

    def _get_blob(self, request: Request) -> Response:
        blob = self.world.blobs.get(request.arg("cid") or "")
        if blob is None:
            raise XrpcFailure(400, "BlobNotFound", "Blob not found")
        return Response(200, blob.data, content_type=blob.mime)

    def _image(self, request: Request) -> Response:
        # /img/<preset>/plain/<did>/<cid>@png
        cid = request.path.rsplit("/", 1)[-1].split("@", 1)[0]
        blob = self.world.blobs.get(cid)
        if blob is None:
            return Response(404, b"Not Found", content_type="text/plain")
        return Response(
            200,
            blob.data,
            headers={"Cache-Control": "public, max-age=604800"},
            content_type=blob.mime,
        )

    def _video(self, request: Request) -> Response:
        # /watch/<did, %-encoded>/<cid>/<playlist.m3u8 | thumbnail.png | video0.ts>
        parts = request.path.split("/")
        if len(parts) != 5 or parts[3] not in self.world.blobs:
            return Response(404, b"Not Found", content_type="text/plain")
        cid, name = parts[3], parts[4]
        if name == "playlist.m3u8":
            playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nvideo0.ts\n#EXT-X-ENDLIST\n"
            return Response(200, playlist.encode(), content_type="application/vnd.apple.mpegurl")
        if name == "thumbnail.png":
            return Response(200, png(f"thumbnail:{cid}", 64, 36), content_type="image/png")
        if name == "video0.ts":
            return Response(200, self.world.blobs[cid].data, content_type="video/mp2t")
        return Response(404, b"Not Found", content_type="text/plain")

    # -- plumbing -----------------------------------------------------------------------

    def _xrpc(self, method: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            try:
                result = method(request)
            except XrpcFailure as failure:
                return _error(failure.status, failure.error, failure.message)
            return result if isinstance(result, Response) else Response(200, result)

        return handler


def _error(status: int, name: str, message: str) -> Response:
    return Response(status, {"error": name, "message": message})
