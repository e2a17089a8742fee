"""Deterministic raw JSON for the ingest and export benchmarks.

The shapes come from the sandbox's demo worlds (the same renderers the loopback
servers answer with): Mastodon Status JSON as a tag timeline serves it, Bluesky
post views as ``searchPosts`` serves them. ``N`` posts are made by cycling through
those templates and giving each copy its own ids, URIs, time and author, so
content, media, cards, quotes and emoji keep realistic proportions.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backchannel.sandbox import conference

SEED = 20260312
TAG = conference.HASHTAGS[0]  # "swrs26"
MASTODON_SERVER = "kea.example"
MASTODON_URL = f"https://{MASTODON_SERVER}"
BLUESKY_URL = "https://bsky.example"
START = datetime(2026, 3, 11, 20, 0, tzinfo=UTC)  # the event's local morning
SPAN = timedelta(days=2, hours=8)
AUTHORS = 20  # variants of each demo author: about 600 authors per platform


def iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _moment(i: int, n: int) -> datetime:
    return START + SPAN * (i / max(n, 1))


def mastodon_templates() -> list[dict[str, Any]]:
    from backchannel.sandbox.mastodon_demo import build_demo_world
    from backchannel.sandbox.mastodon_render import Renderer

    world = build_demo_world()
    world.bind({name: f"https://{name}" for name in world.instances})
    renderer = Renderer(world, MASTODON_SERVER)
    out = []
    for post in world.posts.values():
        if post.visibility != "public" or post.reblog_of:
            continue
        if not world.visible_on(post, MASTODON_SERVER):
            continue
        status = renderer.status(post)
        if any(t["name"] == TAG for t in status["tags"]):
            out.append(status)
    return out


def bluesky_templates() -> list[dict[str, Any]]:
    from backchannel.sandbox.bluesky_demo import build_demo_world
    from backchannel.sandbox.bluesky_views import post_view

    world = build_demo_world()
    out = []
    for post in world.posts.values():
        if post.author.opted_out:
            continue
        view = post_view(world, post, BLUESKY_URL)
        if TAG in json.dumps(view["record"]).lower():
            out.append(view)
    return out


def mastodon_status(template: dict[str, Any], i: int, n: int, rng: random.Random) -> str:
    status = copy.deepcopy(template)
    who = rng.randrange(AUTHORS)
    account = status["account"]
    username = f"{account['username']}{who}"
    home = (account["acct"].partition("@")[2]) or MASTODON_SERVER
    account.update(
        id=str(100_000 + who),
        username=username,
        acct=username if home == MASTODON_SERVER else f"{username}@{home}",
        url=f"https://{home}/@{username}",
        uri=f"https://{home}/users/{username}",
    )
    local = 116_000_000_000_000_000 + i
    status["id"] = str(local)
    status["created_at"] = iso(_moment(i, n))
    status["uri"] = f"https://{home}/users/{username}/statuses/{local}"
    status["url"] = f"https://{home}/@{username}/{local}"
    status["in_reply_to_id"] = (
        str(local - 1 - rng.randrange(50)) if status["in_reply_to_id"] else None
    )
    status["content"] = status["content"].replace("</p>", f" ({i})</p>", 1)
    status["favourites_count"] = rng.randrange(30)
    status["reblogs_count"] = rng.randrange(10)
    for n_media, media in enumerate(status["media_attachments"]):
        media["id"] = str(local * 10 + n_media)
        media["url"] = f"{media['url']}?{i}"
    return json.dumps(status, ensure_ascii=False)


def bluesky_view(template: dict[str, Any], i: int, n: int, rng: random.Random) -> str:
    view = copy.deepcopy(template)
    who = rng.randrange(AUTHORS)
    author = view["author"]
    did = f"{author['did']}{who:04d}"
    author["did"] = did
    author["handle"] = author["handle"].replace(".", f"{who}.", 1)
    created = _moment(i, n)
    rkey = f"3m{i:011d}"
    view["uri"] = f"at://{did}/app.bsky.feed.post/{rkey}"
    view["cid"] = f"bafyrei{i:052d}"
    view["record"]["createdAt"] = iso(created)
    view["record"]["text"] = view["record"]["text"] + f" ({i})"
    view["indexedAt"] = iso(created + timedelta(seconds=2))
    view["likeCount"] = rng.randrange(30)
    return json.dumps(view, ensure_ascii=False)


def generate(folder: Path, platform: str, n: int) -> Path:
    """``folder/<platform>-<n>.jsonl`` (one raw JSON per line); made once, then reused."""
    path = folder / f"{platform}-{n}.jsonl"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{SEED}:{platform}")
    templates = mastodon_templates() if platform == "mastodon" else bluesky_templates()
    make = mastodon_status if platform == "mastodon" else bluesky_view
    temp = path.with_suffix(".tmp")
    with temp.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(make(templates[i % len(templates)], i, n, rng))
            out.write("\n")
    temp.replace(path)
    return path


def lines(path: Path, start: int = 0, stop: int | None = None) -> list[str]:
    with path.open(encoding="utf-8") as f:
        every = f.read().splitlines()
    return every[start:stop]
