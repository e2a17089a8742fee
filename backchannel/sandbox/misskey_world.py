"""A Misskey server's users and notes, for the loopback Misskey server
(:mod:`backchannel.sandbox.misskey_server`).

Ids are Misskey's default ``aidx`` (``misc/id/aidx.ts``): 8 base36 characters of the
milliseconds since 2000-01-01, then 4 of node id and 4 of counter. A remote note's id
is made from its own ``createdAt`` (``idService.gen(data.createdAt)``), so a note that
arrives late (``arrives=step``) gets an id below notes stored before it. Text is MFM,
as people write it: ``#tags``, ``@mentions``, links and ``:emoji:`` in plain text.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from backchannel.errors import SandboxError
from backchannel.sandbox.server_kinds import ulid

MISSKEY_EPOCH_MS = 946684800000  # 2000-01-01T00:00:00Z
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TAG = re.compile(r"(?<![\w#])#([^\s#.,!?;:'\"()\[\]<>]+)")
VISIBILITIES = ("public", "home", "followers", "specified")


def _base36(value: int, width: int) -> str:
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 36)
        out = _BASE36[digit] + out
    return out


def aidx(when: datetime, node: str, counter: int) -> str:
    ms = int(when.timestamp() * 1000) - MISSKEY_EPOCH_MS
    return _base36(ms, 8) + node + _base36(counter, 4)


@dataclass
class User:
    id: str
    username: str
    host: str | None  # None: a user of this server
    name: str = ""
    description: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    is_bot: bool = False
    noindex: bool = False
    is_explorable: bool = True
    emojis: dict[str, str] = field(default_factory=dict)  # shortcode -> URL, in the name


@dataclass
class File:
    id: str
    name: str
    comment: str | None = None  # the alt text
    width: int = 640
    height: int = 480
    sensitive: bool = False


@dataclass
class Note:
    id: str
    user: str  # user id
    created_at: datetime
    text: str | None
    cw: str | None = None
    visibility: str = "public"
    files: list[File] = field(default_factory=list)
    reply_id: str | None = None
    renote_id: str | None = None
    arrives: int = 0  # the step it reaches this server
    deleted_at: int | None = None  # the step it is deleted
    uri: str | None = None  # a remote note's ActivityPub id

    @property
    def tags(self) -> list[str]:
        return list(dict.fromkeys(t.lower() for t in _TAG.findall(self.text or "")))


class MisskeyWorld:
    """One Misskey server: its users (local and remote) and the notes it holds."""

    def __init__(self, host: str = "misskey.example", node: str = "4d1x",
                 ids: str = "aidx") -> None:  # fmt: skip
        """``ids``: the server's id method, ``aidx`` (the default) or ``ulid`` (one of
        the others a Misskey admin can choose: 26 upper-case characters, which compare
        below any aidx floor as text)."""
        self.host = host
        self.node = node
        self.ids = ids
        self.users: dict[str, User] = {}
        self.notes: dict[str, Note] = {}
        self.step = 0
        self.lock = threading.RLock()
        self._counter = itertools.count()

    def add_user(self, username: str, host: str | None = None, **attrs: object) -> User:
        with self.lock:
            user_id = aidx(datetime(2024, 1, 1, tzinfo=UTC), self.node, next(self._counter))
            user = User(user_id, username, host, **attrs)  # type: ignore[arg-type]
            self.users[user_id] = user
            return user

    def add_note(self, user: User, text: str | None, *, created_at: datetime,
                 **attrs: object) -> Note:  # fmt: skip
        if created_at.tzinfo is None:
            raise SandboxError("created_at must be timezone-aware")
        with self.lock:
            counter = next(self._counter)
            note_id = (aidx(created_at, self.node, counter % 36**4) if self.ids == "aidx"
                       else ulid(int(created_at.timestamp() * 1000), counter))  # fmt: skip
            note = Note(note_id, user.id, created_at.astimezone(UTC), text, **attrs)  # type: ignore[arg-type]
            if note.visibility not in VISIBILITIES:
                raise SandboxError(f"unknown visibility {note.visibility!r}")
            if user.host is not None and note.uri is None:
                note.uri = f"https://{user.host}/notes/{note_id}"
            self.notes[note_id] = note
            return note

    def delete(self, note: Note, step: int | None = None) -> None:
        with self.lock:
            note.deleted_at = self.step if step is None else step

    def advance(self) -> int:
        with self.lock:
            self.step += 1
            return self.step

    def visible(self, note: Note) -> bool:
        return note.arrives <= self.step and (
            note.deleted_at is None or note.deleted_at > self.step
        )
