"""The names of the files an event's pages of people, conversations and sessions are
written to, relative to the event's folder (where the day pages are too)."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backchannel.export.selection import IndexedPost


def person_file(handle: str, uri: str) -> str:
    """A person's page in an event: their handle made safe for a file name, and a
    digest of their URI (two handles can make the same name)."""
    name = re.sub(r"[^a-z0-9]+", "-", handle.casefold()).strip("-")[:60] or "person"
    return f"person-{name}-{hashlib.sha256(uri.encode('utf-8')).hexdigest()[:6]}.html"


def thread_file(root: IndexedPost) -> str:
    return f"thread-{root.anchor}.html"


def session_file(number: int) -> str:
    return f"session-{number}.html"
