"""A Bluesky account's repository export (``.car``): its own posts, walked from the commit.

A CAR file is a header naming a root, then blocks (each its CID and its DAG-CBOR
bytes). The root is the repository's signed commit: ``did`` (the account) and
``data``, the root of a Merkle Search Tree whose entries map record keys
(``app.bsky.feed.post/3k...``; each key written as a prefix length ``p`` shared with
the entry before it and the rest ``k``) to record CIDs, with subtrees ``l`` (before
the node's entries) and ``t`` (after each entry). The tree is walked in key order;
records of other collections (likes, follows, other apps) are skipped.

Blocks are read one by one, so a file cut short keeps every whole block; a record
whose block is missing is named. A post's URI is ``at://DID/app.bsky.feed.post/KEY``,
the same as a collected copy's. The repository does not say the account's handle:
the DID stands for it until the store knows better. Images are not in the file (a
repository export leaves blobs out): their addresses on Bluesky's image service are
used, with their alt text. The owner sent the file: :attr:`Batch.owner` names them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libipld

from backchannel.collectors import (
    NormalizedAuthor,
    NormalizedMedia,
    NormalizedPost,
    hashtag,
    render_facets,
    text_hashtags,
)
from backchannel.errors import InputError
from backchannel.importers.base import BATCH, Batch
from backchannel.sanitize import clean_post_html, escape, make_valid

POST = "app.bsky.feed.post"
PROFILE = "app.bsky.actor.profile/self"
IMAGE_URL = "https://cdn.bsky.app/img/feed_fullsize/plain/{}/{}@jpeg"
OTHER = "not a post (another kind of record)"


def looks_like_car(head: bytes) -> bool:
    """A CAR v1 header: a varint length, then a DAG-CBOR map with ``roots`` and ``version``."""
    length, at = _varint(head, 0)
    return (
        0 < length < 1024
        and b"roots" in head[at : at + length]
        and b"version" in head[at : at + length]
    )


def read_car(path: Path) -> Iterator[Batch]:
    """The owner first (a batch of its own), then their posts, a batch at a time."""
    data = path.read_bytes()
    blocks, root, cut = _blocks(data, path)
    commit = blocks.get(root)
    if not isinstance(commit, dict) or not isinstance(commit.get("did"), str):
        raise InputError(f"{path}: the repository's commit (its root block) is not in the file")
    did = commit["did"]
    author = _author(did, blocks, commit)
    yield Batch(owner=did, owner_account=("bluesky", did), tool="Bluesky repository")
    batch = Batch()
    if cut:
        batch.problems.append(cut)
        batch.skipped["unreadable part"] += 1
    for number, (key, cid) in enumerate(_walk(blocks, commit.get("data")), start=1):
        batch.position = number
        if not key.startswith(POST + "/"):
            continue
        batch.read += 1
        record = blocks.get(cid) if cid is not None else None
        if not isinstance(record, dict):
            batch.skip("record not in the file", f"record {key}", "not in the file (cut short?)")
            continue
        post = _post(did, key.split("/", 1)[1], record, cid, author)
        if post is None:
            batch.skip("unreadable record", f"record {key}", "no text or no createdAt")
            continue
        batch.posts.append(post)
        if len(batch.posts) >= BATCH:
            yield batch
            batch = batch.after()
    yield batch


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            break
    return -1, at


def _blocks(data: bytes, path: Path) -> tuple[dict[bytes, Any], bytes, str]:
    """Every whole block by CID, the root, and what cut the file short (or "")."""
    length, at = _varint(data, 0)
    try:
        header = libipld.decode_dag_cbor(data[at : at + length]) if length > 0 else None
    except ValueError:
        header = None
    roots = header.get("roots") if isinstance(header, dict) else None
    if not isinstance(roots, list) or not roots or not isinstance(roots[0], bytes):
        raise InputError(f"{path}: not a repository CAR file (no header with a root)")
    at += length
    blocks: dict[bytes, Any] = {}
    while at < len(data):
        size, start = _varint(data, at)
        if size <= 0 or start + size > len(data):
            return blocks, roots[0], f"byte {at}: cut short (a block runs past the end)"
        section = data[start : start + size]
        cid_length = _cid_length(section)
        try:
            blocks[section[:cid_length]] = libipld.decode_dag_cbor(section[cid_length:])
        except ValueError:
            pass  # a block that is not DAG-CBOR (a blob): not a record
        at = start + size
    return blocks, roots[0], ""


def _cid_length(section: bytes) -> int:
    """Bytes of a CIDv1 at the start of ``section``: version, codec, hash code, length."""
    at = 0
    for _ in range(3):  # version, codec, multihash code
        _, at = _varint(section, at)
    digest, at = _varint(section, at)
    return at + max(digest, 0)


def _walk(blocks: dict[bytes, Any], node_cid: object) -> Iterator[tuple[str, bytes | None]]:
    """(record key, record CID) of the tree under ``node_cid``, in key order."""
    node = blocks.get(node_cid) if isinstance(node_cid, bytes) else None
    if not isinstance(node, dict):
        return
    if node.get("l") is not None:
        yield from _walk(blocks, node["l"])
    key = b""
    for entry in node.get("e") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("k"), bytes):
            continue
        prefix = entry.get("p") if isinstance(entry.get("p"), int) else 0
        key = key[:prefix] + entry["k"]
        value = entry.get("v")
        yield key.decode("utf-8", "replace"), value if isinstance(value, bytes) else None
        if entry.get("t") is not None:
            yield from _walk(blocks, entry["t"])


def _author(did: str, blocks: dict[bytes, Any], commit: dict[str, Any]) -> NormalizedAuthor:
    profile: dict[str, Any] = {}
    for key, cid in _walk(blocks, commit.get("data")):
        if key == PROFILE and isinstance(blocks.get(cid), dict):
            profile = blocks[cid]  # type: ignore[index]
            break
    name = profile.get("displayName") if isinstance(profile.get("displayName"), str) else ""
    bio = profile.get("description") if isinstance(profile.get("description"), str) else ""
    labels = profile.get("labels") if isinstance(profile.get("labels"), dict) else {}
    values = tuple(v.get("val") for v in labels.get("values") or [] if isinstance(v, dict)
                   and isinstance(v.get("val"), str))  # fmt: skip
    return NormalizedAuthor(
        platform="bluesky", uri=did, handle=did, display_name=name,
        display_name_html=escape(name), profile_url=f"https://bsky.app/profile/{did}",
        bio_text=bio, labels=values,
    )  # fmt: skip


def _post(did: str, key: str, record: dict[str, Any], cid: bytes | None,
          author: NormalizedAuthor) -> NormalizedPost | None:  # fmt: skip
    text = record.get("text")
    created = _time(record.get("createdAt"))
    if not isinstance(text, str) or created is None:
        return None
    rendered = render_facets(text, _plain(record.get("facets")))
    tags = list(rendered.tags)
    for tag in [t for t in record.get("tags") or [] if isinstance(t, str)] + text_hashtags(text):
        name = hashtag(tag)
        if name and name not in tags:
            tags.append(name)
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
    langs = [x for x in record.get("langs") or [] if isinstance(x, str) and x]
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    return make_valid(NormalizedPost(
        platform="bluesky", uri=f"at://{did}/{POST}/{key}",
        url=f"https://bsky.app/profile/{did}/post/{key}", native_id=f"at://{did}/{POST}/{key}",
        author=author, created_at=created, raw={"record": _plain(record), "key": key},
        text=text, html=clean_post_html(rendered.html), language=langs[0] if langs else None,
        reply_to_uri=parent.get("uri") if isinstance(parent.get("uri"), str) else None,
        reply_root_uri=root.get("uri") if isinstance(root.get("uri"), str) else None,
        quote_uri=_quoted(embed), tags=tuple(tags), mentions=rendered.mentions,
        links=rendered.links, media=tuple(_images(did, embed)),
        cid=libipld.encode_cid(cid) if cid else None,
    ))  # fmt: skip


def _quoted(embed: dict[str, Any]) -> str | None:
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):
        inner = inner["record"]  # recordWithMedia
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None


def _images(did: str, embed: dict[str, Any]) -> list[NormalizedMedia]:
    if isinstance(embed.get("media"), dict):
        embed = embed["media"]  # recordWithMedia
    media = []
    for image in embed.get("images") or []:
        blob = image.get("image") if isinstance(image, dict) else None
        ref = blob.get("ref") if isinstance(blob, dict) else None
        if isinstance(ref, bytes):
            ratio = image.get("aspectRatio") if isinstance(image.get("aspectRatio"), dict) else {}
            media.append(NormalizedMedia(
                kind="image", url=IMAGE_URL.format(did, libipld.encode_cid(ref)),
                alt=image.get("alt") if isinstance(image.get("alt"), str) and image["alt"] else None,
                width=ratio.get("width") if isinstance(ratio.get("width"), int) else None,
                height=ratio.get("height") if isinstance(ratio.get("height"), int) else None,
            ))  # fmt: skip
    return media


def _plain(value: Any) -> Any:
    """A decoded record as JSON can hold it: CID links and bytes as their text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        try:
            return {"$link": libipld.encode_cid(value)}
        except ValueError:
            return {"$bytes": value.hex()}
    return value


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
