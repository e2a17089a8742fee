"""Render the Bluesky sandbox world as the AppView's JSON views.

Shapes follow the lexicons (app.bsky.feed.defs#postView, app.bsky.actor.defs
profileViewBasic/profileViewDetailed, the app.bsky.embed.*#view types). Media URLs
point at the sandbox server itself (``base`` is its URL), in the CDN's path layout,
so an archiver can download them offline.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from backchannel.sandbox.bluesky_ids import format_datetime, record_cid
from backchannel.sandbox.bluesky_model import NO_UNAUTHENTICATED, Account, Post
from backchannel.sandbox.bluesky_world import World

EMBED = "app.bsky.embed"
# The AppView hydrates a quoted post's own embeds one level deep, no further.
MAX_EMBED_DEPTH = 2


def image_url(base: str, kind: str, did: str, cid: str) -> str:
    """``kind`` is one of avatar, feed_thumbnail, feed_fullsize (the CDN presets)."""
    return f"{base}/img/{kind}/plain/{did}/{cid}@png"


def video_url(base: str, did: str, cid: str, name: str) -> str:
    return f"{base}/watch/{quote(did, safe='')}/{cid}/{name}"


def _account_labels(account: Account) -> list[dict[str, Any]]:
    if not account.opted_out:
        return []
    # The opt-out is a self-label on the profile record: src is the author's own DID.
    profile = {"$type": "app.bsky.actor.profile", "displayName": account.display_name}
    return [
        {
            "src": account.did,
            "uri": account.profile_uri,
            "cid": record_cid(profile),
            "val": NO_UNAUTHENTICATED,
            "cts": format_datetime(account.created_at),
        }
    ]


def profile_basic(account: Account, base: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "did": account.did,
        "handle": account.handle,
        "displayName": account.display_name,
    }
    if account.avatar:
        view["avatar"] = image_url(base, "avatar", account.did, account.avatar)
    view["associated"] = {"chat": {"allowIncoming": "following"}}
    view["viewer"] = {"muted": False, "blockedBy": False}
    view["labels"] = _account_labels(account)
    view["createdAt"] = format_datetime(account.created_at)
    return view


def profile_detailed(world: World, account: Account, base: str) -> dict[str, Any]:
    view = profile_basic(account, base)
    with world.lock:
        count = sum(1 for post in world.posts.values() if post.author is account and post.live)
    view.update(
        {
            "description": account.description,
            "followersCount": 40 + len(account.handle) * 7,
            "followsCount": 25 + len(account.display_name) * 3,
            "postsCount": count,
            "indexedAt": format_datetime(account.created_at),
        }
    )
    return view


def _post_labels(post: Post) -> list[dict[str, Any]]:
    # The AppView shows the record's self-labels as labels from the author.
    labels = post.record.get("labels")
    values = labels.get("values", []) if isinstance(labels, dict) else []
    return [
        {
            "src": post.author.did,
            "uri": post.uri,
            "cid": post.cid,
            "val": value["val"],
            "cts": format_datetime(post.indexed_at),
        }
        for value in values
        if isinstance(value, dict) and isinstance(value.get("val"), str)
    ]


def post_view(world: World, post: Post, base: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "uri": post.uri,
        "cid": post.cid,
        "author": profile_basic(post.author, base),
        "record": post.record,
    }
    embed = embed_view(world, post, post.record.get("embed"), base, 0)
    if embed is not None:
        view["embed"] = embed
    view.update(
        {
            "replyCount": post.reply_count,
            "repostCount": post.repost_count,
            "likeCount": post.like_count,
            "quoteCount": post.quote_count,
            "indexedAt": format_datetime(post.indexed_at),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": _post_labels(post),
        }
    )
    if world.rewrite_view is not None:
        view = world.rewrite_view(post, view)
    return view


def embed_view(
    world: World, post: Post, embed: Any, base: str, depth: int
) -> dict[str, Any] | None:
    """The view of a record-side embed, or None for none or an unknown kind."""
    if not isinstance(embed, dict) or depth >= MAX_EMBED_DEPTH:
        return None
    kind = embed.get("$type")
    did = post.author.did
    if kind == f"{EMBED}.images":
        return {
            "$type": f"{EMBED}.images#view",
            "images": [_image(base, did, image) for image in embed["images"]],
        }
    if kind == f"{EMBED}.external":
        return _external(base, did, embed["external"])
    if kind == f"{EMBED}.video":
        return _video(base, did, embed)
    if kind == f"{EMBED}.record":
        return _record(world, post, embed["record"], base, depth)
    if kind == f"{EMBED}.recordWithMedia":
        media = embed_view(world, post, embed["media"], base, depth)
        record = _record(world, post, embed["record"]["record"], base, depth)
        record.pop("$type")  # the real view nests record#view without its $type
        return {"$type": f"{EMBED}.recordWithMedia#view", "record": record, "media": media}
    return None


def _image(base: str, did: str, image: dict[str, Any]) -> dict[str, Any]:
    cid = image["image"]["ref"]["$link"]
    view = {
        "thumb": image_url(base, "feed_thumbnail", did, cid),
        "fullsize": image_url(base, "feed_fullsize", did, cid),
        "alt": image.get("alt", ""),
    }
    if "aspectRatio" in image:
        view["aspectRatio"] = image["aspectRatio"]
    return view


def _external(base: str, did: str, external: dict[str, Any]) -> dict[str, Any]:
    view = {key: external[key] for key in ("uri", "title", "description")}
    if "thumb" in external:
        view["thumb"] = image_url(base, "feed_thumbnail", did, external["thumb"]["ref"]["$link"])
    return {"$type": f"{EMBED}.external#view", "external": view}


def _video(base: str, did: str, embed: dict[str, Any]) -> dict[str, Any]:
    cid = embed["video"]["ref"]["$link"]
    view: dict[str, Any] = {
        "$type": f"{EMBED}.video#view",
        "cid": cid,
        "playlist": video_url(base, did, cid, "playlist.m3u8"),
        "thumbnail": video_url(base, did, cid, "thumbnail.png"),
    }
    for key in ("alt", "aspectRatio"):
        if key in embed:
            view[key] = embed[key]
    return view


def _record(world: World, post: Post, ref: dict[str, Any], base: str, depth: int) -> dict[str, Any]:
    uri = ref["uri"]
    kind = f"{EMBED}.record#view"
    if post.quote_view == "detached":
        # The quoted author detached this quote (postgate): only the URI is left.
        return {
            "$type": kind,
            "record": {"$type": f"{EMBED}.record#viewDetached", "uri": uri, "detached": True},
        }
    quoted = world.get(uri)
    if post.quote_view == "blocked" and quoted is not None:
        blocked = {
            "$type": f"{EMBED}.record#viewBlocked",
            "uri": uri,
            "blocked": True,
            "author": {"did": quoted.author.did, "viewer": {"blockedBy": True}},
        }
        return {"$type": kind, "record": blocked}
    if quoted is None:
        return {
            "$type": kind,
            "record": {"$type": f"{EMBED}.record#viewNotFound", "uri": uri, "notFound": True},
        }
    record: dict[str, Any] = {
        "$type": f"{EMBED}.record#viewRecord",
        "uri": quoted.uri,
        "cid": quoted.cid,
        "author": profile_basic(quoted.author, base),
        "value": quoted.record,
        "labels": _post_labels(quoted),
        "likeCount": quoted.like_count,
        "replyCount": quoted.reply_count,
        "repostCount": quoted.repost_count,
        "quoteCount": quoted.quote_count,
        "indexedAt": format_datetime(quoted.indexed_at),
    }
    inner = embed_view(world, quoted, quoted.record.get("embed"), base, depth + 1)
    record["embeds"] = [inner] if inner is not None else []
    return {"$type": kind, "record": record}
