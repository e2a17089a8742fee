"""Small deterministic PNG images for the sandbox (avatars, post images, emoji).

Pure Python (zlib + struct) so the demo needs no imaging library.
"""

from __future__ import annotations

import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(seed: str, width: int = 64, height: int = 64) -> bytes:
    """A PNG of diagonal colour bands derived from ``seed``: same seed, same bytes."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    colours = [digest[i : i + 3] for i in range(0, 12, 3)]
    band = max(4, digest[12] % 16 + 4)
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(width):
            row += colours[((x + y) // band) % len(colours)]
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
