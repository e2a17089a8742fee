"""A loopback Misskey server over a :class:`MisskeyWorld` (plain HTTP, JSON bodies).

Usage (tests and ``backchannel demo``)::

    world = MisskeyWorld("misskey.example")
    ana = world.add_user("ana", name="Ana")
    world.add_note(ana, "Opening keynote #swrs26", created_at=...)
    with MisskeyServer(world) as server:
        server.base_url                    # http://127.0.0.1:PORT
        server.request_log                 # (method, target) pairs

Endpoints, as Misskey 2024.11 answers them (``packages/backend/src/server/api/endpoints``):

* ``POST /api/notes/search-by-tag`` ``{tag, limit <= 100 (default 10), sinceId,
  untilId, reply, renote, withFiles}``: public without a token; an anonymous caller
  sees ``public`` and ``home`` notes. ``makePaginationQuery``: ``sinceId`` alone pages
  up from it (oldest first), ``untilId`` (with or without ``sinceId``) newest first.
  Ids compare as text.
* ``POST /api/notes/show`` ``{noteId}``: the note, or 400 ``NO_SUCH_NOTE``.
* ``POST /api/users/show`` ``{userIds}``: detailed users (``uri``, ``url``,
  ``description``, ``fields``, ``noindex``, ``isExplorable``), or ``{userId}``: one.
* ``POST /api/meta``, ``/.well-known/nodeinfo`` and ``/nodeinfo/2.1`` (``misskey``).
* ``GET /files/<id>`` and ``/emoji/<name>.webp``: small PNGs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from backchannel.sandbox import images
from backchannel.sandbox.httpbase import Request, Response, SandboxServer
from backchannel.sandbox.misskey_world import File, MisskeyWorld, Note, User

MAX_LIMIT = 100
_NO_SUCH_NOTE = {"error": {"message": "No such note.", "code": "NO_SUCH_NOTE",
                           "id": "24fcbfc6-2e37-42b6-8388-c29b3861a08d"}}  # fmt: skip


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _invalid(reason: str) -> Response:
    return Response(400, {"error": {"message": "Invalid param.", "code": "INVALID_PARAM",
                                    "id": "3d81ceae-475f-4600-b2a8-2bc116157532",
                                    "info": {"reason": reason}}})  # fmt: skip


class MisskeyServer(SandboxServer):
    """One Misskey server on its own loopback port."""

    def __init__(self, world: MisskeyWorld, port: int = 0, version: str = "2024.11.0") -> None:
        self.world = world
        self.software = ("misskey", version)
        # Rewrites a packed note as a hostile or broken server would send it.
        self.rewrite_note: Callable[[Note, dict[str, Any]], dict[str, Any]] | None = None
        super().__init__(port=port)
        self.name = f"misskey:{world.host}"

    def routes(self) -> None:
        self.route("POST", "/api/notes/search-by-tag", self._search_by_tag)
        self.route("POST", "/api/notes/show", self._show)
        self.route("POST", "/api/users/show", self._users)
        self.route("POST", "/api/meta", self._meta)
        self.route("GET", "/.well-known/nodeinfo", self._nodeinfo_links)
        self.route("GET", "/nodeinfo/2.1", self._nodeinfo)
        self.route("GET", "/files/*", self._image, metered=False)
        self.route("GET", "/emoji/*", self._image, metered=False)

    def rate_limited(self, request: Request) -> Response:
        return Response(429, {"error": {"message": "Rate limit exceeded. Please try again later.",
                                        "code": "RATE_LIMIT_EXCEEDED",
                                        "id": "d5826d14-3982-4d2e-8011-b9e9f02499ef",
                                        "info": {"resetMs": 1000}}})  # fmt: skip

    # -- endpoints ------------------------------------------------------------------

    def _search_by_tag(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("tag"), str):
            return _invalid("tag or query is required")
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            return _invalid("limit must be 1 to 100")
        since, until = body.get("sinceId"), body.get("untilId")
        for value in (since, until):
            if value is not None and (not isinstance(value, str) or not value.isalnum()):
                return _invalid("must match format misskey:id")
        tag = body["tag"].lower()
        with self.world.lock:
            notes = sorted(
                (n for n in self.world.notes.values()
                 if self.world.visible(n) and n.visibility in ("public", "home")
                 and tag in n.tags and self._wanted(n, body)),
                key=lambda n: n.id,
            )  # fmt: skip
            if since is not None:
                notes = [n for n in notes if n.id > since]
            if until is not None:
                notes = [n for n in notes if n.id < until]
            if since is not None and until is None:  # ORDER BY id ASC
                page = notes[:limit]
            else:  # ORDER BY id DESC
                page = list(reversed(notes))[:limit]
            return Response(200, [self.note(n) for n in page])

    @staticmethod
    def _wanted(note: Note, body: dict[str, Any]) -> bool:
        if body.get("reply") is not None and bool(note.reply_id) != bool(body["reply"]):
            return False
        if body.get("renote") is not None and bool(note.renote_id) != bool(body["renote"]):
            return False
        return not (body.get("withFiles") and not note.files)

    def _show(self, request: Request) -> Response:
        body = request.json()
        note_id = body.get("noteId") if isinstance(body, dict) else None
        if not isinstance(note_id, str):
            return _invalid("noteId is required")
        with self.world.lock:
            note = self.world.notes.get(note_id)
            if note is None or not self.world.visible(note):
                return Response(400, _NO_SUCH_NOTE)
            return Response(200, self.note(note))

    def _users(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            return _invalid("userId or userIds is required")
        with self.world.lock:
            if isinstance(body.get("userIds"), list):
                found = [self.world.users.get(str(i)) for i in body["userIds"]]
                return Response(200, [self.user(u, detailed=True) for u in found if u])
            user = self.world.users.get(str(body.get("userId")))
            if user is None:
                return Response(400, {"error": {"message": "No such user.", "code": "NO_SUCH_USER",
                                                "id": "4362f8dc-731f-4ad8-a694-be5a88922a24"}})  # fmt: skip
            return Response(200, self.user(user, detailed=True))

    def _meta(self, request: Request) -> Response:
        return Response(200, {"name": self.world.host, "version": self.software[1],
                              "uri": self.base_url, "disableRegistration": True})  # fmt: skip

    def _nodeinfo_links(self, request: Request) -> Response:
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.1"
        return Response(200, {"links": [{"rel": rel, "href": f"{self.base_url}/nodeinfo/2.1"}]})

    def _nodeinfo(self, request: Request) -> Response:
        name, version = self.software
        return Response(200, {"version": "2.1", "software": {"name": name, "version": version},
                              "protocols": ["activitypub"], "openRegistrations": False,
                              "usage": {"users": {}}, "metadata": {}})  # fmt: skip

    def _image(self, request: Request) -> Response:
        return Response(200, images.png(request.path, 64, 48), content_type="image/png")

    # -- packing --------------------------------------------------------------------

    def user(self, user: User, detailed: bool = False) -> dict[str, Any]:
        packed: dict[str, Any] = {
            "id": user.id, "name": user.name or None, "username": user.username,
            "host": user.host, "avatarUrl": f"{self.base_url}/files/avatar-{user.id}",
            "avatarBlurhash": None, "avatarDecorations": [], "isBot": user.is_bot,
            "isCat": False, "emojis": dict(user.emojis), "onlineStatus": "unknown",
            "badgeRoles": [],
        }  # fmt: skip
        if user.host is not None:
            packed["instance"] = {"name": user.host, "softwareName": "mastodon"}
        if detailed:
            remote = user.host is not None
            packed.update({
                "url": f"https://{user.host}/@{user.username}" if remote else None,
                "uri": f"https://{user.host}/users/{user.username}" if remote else None,
                "description": user.description or None,
                "fields": [{"name": n, "value": v} for n, v in user.fields],
                "isLocked": False, "isSuspended": False, "isSilenced": False,
                "noindex": user.noindex, "isExplorable": user.is_explorable,
                "createdAt": "2024-01-01T00:00:00.000Z",
            })  # fmt: skip
        return packed

    def note(self, note: Note, nested: bool = False) -> dict[str, Any]:
        user = self.world.users[note.user]
        packed: dict[str, Any] = {
            "id": note.id, "createdAt": _iso(note.created_at), "userId": user.id,
            "user": self.user(user), "text": note.text, "cw": note.cw,
            "visibility": note.visibility, "localOnly": False, "reactionAcceptance": None,
            "renoteCount": 0, "repliesCount": 0, "reactionCount": 0, "reactions": {},
            "reactionEmojis": {}, "fileIds": [f.id for f in note.files],
            "files": [self._file(f, user) for f in note.files],
            "replyId": note.reply_id, "renoteId": note.renote_id,
            "tags": note.tags or None, "clippedCount": 0,
        }  # fmt: skip
        if note.uri:
            packed["uri"] = note.uri
            packed["url"] = note.uri
        for key, target in (("reply", note.reply_id), ("renote", note.renote_id)):
            other = self.world.notes.get(target or "")
            if other is not None and not nested and self.world.visible(other):
                packed[key] = self.note(other, nested=True)
        return self.rewrite_note(note, packed) if self.rewrite_note else packed

    def _file(self, file: File, user: User) -> dict[str, Any]:
        url = f"{self.base_url}/files/{file.id}"
        return {"id": file.id, "createdAt": "2024-01-01T00:00:00.000Z", "name": file.name,
                "type": "image/png", "md5": "0" * 32, "size": 1000,
                "isSensitive": file.sensitive, "blurhash": None,
                "properties": {"width": file.width, "height": file.height},
                "url": url, "thumbnailUrl": url + "-thumb", "comment": file.comment,
                "folderId": None, "folder": None, "userId": user.id, "user": None}  # fmt: skip
