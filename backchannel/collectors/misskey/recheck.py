"""``recheck`` for a Misskey-family server: ``notes/show`` per note (Misskey has no
batch), ``users/show`` for their authors; a deleted note answers ``NO_SUCH_NOTE``."""

from __future__ import annotations

import logging
from typing import Any

from backchannel.collectors.base import NormalizedPost
from backchannel.collectors.misskey.client import MisskeyAPIError
from backchannel.collectors.misskey.collector import MisskeyCollector
from backchannel.collectors.misskey.normalize import normalize_note

log = logging.getLogger(__name__)


class MisskeyChecker:
    """``recheck`` for a Misskey-family server: ``notes/show`` per note (there is no
    batch), ``users/show`` for their authors; a deleted note is ``NO_SUCH_NOTE``."""

    def __init__(self, collector: MisskeyCollector) -> None:
        self._collector = collector
        self._client = collector._client

    @property
    def requests(self) -> int:
        return self._client.requests_sent

    def close(self) -> None:
        self._collector.close()

    def check(self, native_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        answers: dict[str, dict[str, Any] | None] = {}
        for native_id in dict.fromkeys(native_ids):
            try:
                note = self._client.call("notes/show", {"noteId": native_id})
            except MisskeyAPIError as exc:
                if exc.code == "NO_SUCH_NOTE":
                    answers[native_id] = None
                else:
                    log.info("%s: note %s unknown (%s)", self._client.host, native_id, exc)
                continue
            if isinstance(note, dict):
                answers[native_id] = note
        self._collector.profiles([n for n in answers.values() if n])
        return answers

    def normalize(self, raw: dict[str, Any]) -> NormalizedPost:
        profile = self._collector._profiles.get(str(raw.get("userId")))
        return normalize_note(raw, self._collector.base_url, profile)
