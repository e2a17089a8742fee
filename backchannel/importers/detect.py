"""Which format a file is in, from its first bytes (``import --format auto``)."""

from __future__ import annotations

import json
from pathlib import Path

from backchannel.errors import InputError

_SNIFF = 64 * 1024


def detect_format(path: Path) -> str:
    """The format of ``path``, or an error that names the formats known."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF).decode("utf-8-sig", "replace")
    first = next((line for line in head.splitlines() if line.strip()), "").strip()
    if first.startswith("{"):
        try:
            data = json.loads(first, strict=False)
        except ValueError:
            data = None
        if isinstance(data, dict) and _looks_like_twarc(data):
            return "twarc"
    raise InputError(
        f"{path}: not a file backchannel recognises (a twarc JSON-lines capture); "
        "if it is one, say which with --format"
    )


def _looks_like_twarc(data: dict[str, object]) -> bool:
    return bool({"id_str", "user", "data", "author_id", "delete"} & set(data)) or (
        "id" in data and "text" in data
    )
