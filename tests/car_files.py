"""Bluesky repository exports (.car) built for the tests, as the atproto repository
spec lays them out: a CAR v1 header naming the commit, then blocks (CIDv1, DAG-CBOR);
the commit's ``data`` the root of a Merkle Search Tree of record keys."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import libipld

DAG_CBOR, RAW = 0x71, 0x55


def cid_of(data: bytes, codec: int = DAG_CBOR) -> bytes:
    return bytes([1, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Repo:
    def __init__(self, did: str) -> None:
        self.did = did
        self.blocks: list[tuple[bytes, bytes]] = []
        self.nodes: set[bytes] = set()

    def put(self, value: Any) -> bytes:
        data = libipld.encode_dag_cbor(value)
        cid = cid_of(data)
        self.blocks.append((cid, data))
        return cid

    def node(self, keys: list[tuple[str, bytes]], left: bytes | None = None,
             right: dict[int, bytes] | None = None) -> bytes:  # fmt: skip
        """An MST node: entries with their keys prefix-compressed; ``right`` maps an
        entry's index to the subtree after it."""
        entries, before = [], b""
        for number, (key, value) in enumerate(keys):
            raw = key.encode()
            prefix = 0
            while prefix < min(len(before), len(raw)) and before[prefix] == raw[prefix]:
                prefix += 1
            entries.append({"p": prefix, "k": raw[prefix:], "v": value,
                            "t": (right or {}).get(number)})  # fmt: skip
            before = raw
        cid = self.put({"l": left, "e": entries})
        self.nodes.add(cid)
        return cid

    def write(self, path: Path, root_node: bytes, cut: int = 0) -> Path:
        commit = self.put({"did": self.did, "version": 3, "data": root_node,
                           "rev": "3l4aaaaaaaaaa", "prev": None, "sig": b"\x00" * 64})  # fmt: skip
        header = libipld.encode_dag_cbor({"version": 1, "roots": [commit]})
        out = bytearray(_varint(len(header)) + header)
        # The commit, then the tree's nodes, then the records in the order put.
        nodes = [b for b in reversed(self.blocks[:-1]) if b[0] in self.nodes]
        records = [b for b in self.blocks[:-1] if b[0] not in self.nodes]
        for cid, data in [self.blocks[-1], *nodes, *records]:
            out += _varint(len(cid) + len(data)) + cid + data
        path.write_bytes(bytes(out[: len(out) - cut] if cut else out))
        return path


def post_record(text: str, created: str, **extra: Any) -> dict[str, Any]:
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": created,
            "langs": ["en"], **extra}  # fmt: skip


def hashtag_facet(text: str, tag: str) -> dict[str, Any]:
    start = text.encode().index(("#" + tag).encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(tag.encode()) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]}  # fmt: skip


def image_embed(alt: str) -> dict[str, Any]:
    blob = cid_of(b"\x89PNG fake image", RAW)
    return {"$type": "app.bsky.embed.images", "images": [
        {"alt": alt, "aspectRatio": {"width": 4, "height": 3},
         "image": {"$type": "blob", "ref": blob, "mimeType": "image/png", "size": 15}}]}  # fmt: skip
