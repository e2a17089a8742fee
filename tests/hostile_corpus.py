"""The vendored XSS payloads (tests/fixtures/hostile), each once, in a stable order."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CORPORA = Path(__file__).parent / "fixtures" / "hostile"

# URLs a hostile server puts where a link or an image address goes.
HOSTILE_URLS = (
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    'https://evil.example/"><script>alert(1)</script>',
    "https://evil.example/x.png' onerror='alert(1)",
    "//evil.example/protocol-relative",
    "https://evil.example/tracker.png",
)


@cache
def payloads() -> tuple[str, ...]:
    """Every distinct non-blank payload of both corpora."""
    found: dict[str, None] = {}
    for case in json.loads((CORPORA / "dompurify" / "payloads.json").read_text("utf-8")):
        found.setdefault(case["payload"], None)
    for path in sorted((CORPORA / "payloadsallthethings").glob("*.txt")):
        for line in path.read_text("utf-8", errors="replace").splitlines():
            if line.strip():
                found.setdefault(line, None)
    return tuple(found)


def hostile_url(n: int) -> str:
    return HOSTILE_URLS[n % len(HOSTILE_URLS)]
