"""Identifiers and timestamps shaped like the AT Protocol's, for the Bluesky sandbox.

DIDs are ``did:plc:`` plus 24 base32 characters; record keys are TIDs (13 characters
of sortable base32 from a microsecond clock); CIDs are real CIDv1 strings (base32,
sha-256) of the record's JSON or the blob's bytes, so a rewritten record really gets
a new CID. Timestamps come in the mixed formats real clients write.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_DAG_CBOR = b"\x01\x71\x12\x20"  # CIDv1, dag-cbor, sha2-256, 32 bytes
_RAW = b"\x01\x55\x12\x20"  # CIDv1, raw (blobs)

# createdAt styles seen in real records (platform-apis.md B3).
CREATED_STYLES = ("ms", "offset", "micro", "naive", "local")


def make_did(seed: str) -> str:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return "did:plc:" + base64.b32encode(digest).decode("ascii").lower()[:24]


_B32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case, as CIDs use
_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits at a time: base64.b32encode is slow


def make_cid(payload: bytes, *, raw: bool = False) -> str:
    """``b`` + base32 of CIDv1 bytes: exactly what ``base64.b32encode`` would give."""
    data = (_RAW if raw else _DAG_CBOR) + hashlib.sha256(payload).digest()
    value = int.from_bytes(data, "big") << 2  # 288 bits padded to 290: 29 pairs of chars
    chars = [_PAIRS[(value >> shift) & 0x3FF] for shift in range(280, -1, -10)]
    return "b" + "".join(chars)


def record_cid(record: dict[str, Any]) -> str:
    """The CID of a record: any change to the record gives a new one."""
    return make_cid(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def make_tid(when: datetime, clock: int = 0) -> str:
    """A TID record key: 53 bits of microseconds and 10 bits of clock id, base32-sortable."""
    micros = int(when.timestamp() * 1_000_000)
    value = (micros << 10) | (clock & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def parse_datetime(value: str) -> datetime:
    """A timestamp or bare date as Bluesky accepts them; naive means UTC.

    Raises ValueError for anything else.
    """
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(when: datetime, style: str = "ms", tz: str = "Pacific/Auckland") -> str:
    """``when`` written the way one kind of client writes createdAt.

    ``ms`` is what the official app writes (``...T01:02:03.456Z``) and what the
    AppView uses for indexedAt; the others are real-world variants.
    """
    utc = when.astimezone(UTC)
    if style == "ms":
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if style == "offset":
        return utc.isoformat(timespec="microseconds")
    if style == "micro":
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if style == "naive":
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds")
    if style == "local":
        return when.astimezone(ZoneInfo(tz)).isoformat(timespec="milliseconds")
    raise ValueError(f"unknown datetime style {style!r}; expected one of {CREATED_STYLES}")


def micros(when: datetime) -> int:
    """Whole microseconds since the epoch: the sort key, exact where floats are not."""
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
