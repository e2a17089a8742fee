"""Deterministic raw JSON for the ingest and export benchmarks.

The shapes come from the sandbox's demo worlds (the same renderers the loopback
servers answer with): Mastodon Status JSON as a tag timeline serves it, Bluesky
post views as ``searchPosts`` serves them. ``N`` posts are made by cycling through
those templates and giving each copy its own ids, URIs, time and author, so
content, media, cards, quotes and emoji keep realistic proportions.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from backchannel.sandbox import conference

SEED = 20260312
SLUG = "bench"  # the benchmark event
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


class Stencil:
    """A template serialised once, with marked holes; :meth:`fill` substitutes them.

    Serialising a deep copy per post cost about 0.5 ms; filling holes in the
    serialised text costs a few microseconds, with byte-identical output. A
    :meth:`hole` goes inside a JSON string; a :meth:`raw` hole is a whole JSON value
    (a number), filled without quotes. Values put into holes must need no JSON
    escaping (ids, digits, ASCII names, ISO times).
    """

    # Private-use characters: never in the templates, kept as they are by ensure_ascii=False.
    MARK, RAW = "\ue000", "\ue001"
    _HOLE = re.compile(f'"{RAW}(\\w+){RAW}"|{MARK}(\\w+){MARK}')

    def __init__(self, marked: dict[str, Any]) -> None:
        text = json.dumps(marked, ensure_ascii=False)
        self.parts: list[str] = []  # literal, name, literal, name, ..., literal
        at = 0
        for match in self._HOLE.finditer(text):
            self.parts += [text[at : match.start()], match.group(1) or match.group(2)]
            at = match.end()
        self.parts.append(text[at:])

    @classmethod
    def hole(cls, name: str) -> str:
        return f"{cls.MARK}{name}{cls.MARK}"

    @classmethod
    def raw(cls, name: str) -> str:
        return f"{cls.RAW}{name}{cls.RAW}"

    def fill(self, values: dict[str, str]) -> str:
        parts = self.parts
        out = [parts[0]]
        for k in range(1, len(parts), 2):
            out += [values[parts[k]], parts[k + 1]]
        return "".join(out)


def _inserted(text: str, before: str, hole: str) -> str:
    """``text`` with ``hole`` put before the first ``before`` (unchanged if none)."""
    at = text.find(before)
    return text if at < 0 else text[:at] + hole + text[at:]


def mastodon_stencil(template: dict[str, Any]) -> tuple[Stencil, bool, int]:
    """(stencil, whether it is a reply, media count) of one Status template."""
    h = Stencil.hole
    status = copy.deepcopy(template)
    account = status["account"]
    home = (account["acct"].partition("@")[2]) or MASTODON_SERVER
    username = f"{account['username']}{h('who')}"
    account.update(
        id=h("author_id"),
        username=username,
        acct=username if home == MASTODON_SERVER else f"{username}@{home}",
        url=f"https://{home}/@{username}",
        uri=f"https://{home}/users/{username}",
    )
    status["id"] = h("id")
    status["created_at"] = h("created")
    status["uri"] = f"https://{home}/users/{username}/statuses/{h('id')}"
    status["url"] = f"https://{home}/@{username}/{h('id')}"
    status["in_reply_to_id"] = h("reply") if status["in_reply_to_id"] else None
    status["content"] = _inserted(status["content"], "</p>", h("suffix"))
    status["favourites_count"] = Stencil.raw("favourites")
    status["reblogs_count"] = Stencil.raw("reblogs")
    for number, media in enumerate(status["media_attachments"]):
        media["id"] = h(f"media{number}")
        media["url"] = f"{media['url']}?{h('i')}"
    reply = status["in_reply_to_id"] is not None
    return Stencil(status), reply, len(status["media_attachments"])


def mastodon_status(
    made: tuple[Stencil, bool, int], i: int, n: int, rng: random.Random, at: int | None = None
) -> str:
    """Post ``i`` of ``n`` (ids from ``i``), written at the ``at``-th moment (default ``i``)."""
    stencil, reply, media = made
    who = rng.randrange(AUTHORS)
    local = 116_000_000_000_000_000 + i
    created = iso(_moment(i if at is None else at, n))
    values = {"who": str(who), "author_id": str(100_000 + who), "id": str(local),
              "created": created, "suffix": f" ({i})", "i": str(i)}  # fmt: skip
    if reply:
        values["reply"] = str(local - 1 - rng.randrange(50))
    values["favourites"] = str(rng.randrange(30))
    values["reblogs"] = str(rng.randrange(10))
    for number in range(media):
        values[f"media{number}"] = str(local * 10 + number)
    return stencil.fill(values)


def bluesky_stencil(template: dict[str, Any]) -> tuple[Stencil]:
    """The stencil of one post view template."""
    h = Stencil.hole
    view = copy.deepcopy(template)
    author = view["author"]
    did, handle = author["did"], author["handle"]
    author["did"] = f"{did}{h('who4')}"
    author["handle"] = handle.replace(".", f"{h('who')}.", 1)
    view["uri"] = f"at://{did}{h('who4')}/app.bsky.feed.post/3m{h('i11')}"
    view["cid"] = f"bafyrei{h('i52')}"
    view["record"]["createdAt"] = h("created")
    view["record"]["text"] = view["record"]["text"] + h("suffix")
    view["indexedAt"] = h("indexed")
    view["likeCount"] = Stencil.raw("likes")
    return (Stencil(view),)


def bluesky_view(
    made: tuple[Stencil], i: int, n: int, rng: random.Random, at: int | None = None
) -> str:
    """Post ``i`` of ``n`` (ids from ``i``), written at the ``at``-th moment (default ``i``)."""
    who = rng.randrange(AUTHORS)
    created = _moment(i if at is None else at, n)
    return made[0].fill({
        "who": str(who), "who4": f"{who:04d}", "i11": f"{i:011d}", "i52": f"{i:052d}",
        "created": iso(created), "suffix": f" ({i})",
        "indexed": iso(created + timedelta(seconds=2)), "likes": str(rng.randrange(30)),
    })  # fmt: skip


def _stencils(platform: str) -> tuple[list[Any], Any]:
    if platform == "mastodon":
        return [mastodon_stencil(t) for t in mastodon_templates()], mastodon_status
    return [bluesky_stencil(t) for t in bluesky_templates()], bluesky_view


def _write(path: Path, made: Any) -> Path:
    """Write the lines of the iterable ``made`` to ``path`` atomically, in batches."""
    temp = path.with_suffix(".tmp")
    with temp.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for line in made:
            batch.append(line)
            if len(batch) == 1000:
                out.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            out.write("\n".join(batch) + "\n")
    temp.replace(path)
    return path


def generate(folder: Path, platform: str, n: int) -> Path:
    """``folder/<platform>-<n>.jsonl`` (one raw JSON per line); made once, then reused."""
    path = folder / f"{platform}-{n}.jsonl"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{SEED}:{platform}")
    stencils, make = _stencils(platform)
    return _write(path, (make(stencils[i % len(stencils)], i, n, rng) for i in range(n)))


def extra_count(n: int) -> int:
    """New posts per platform for the export-after-adding-1% benchmark (1% in all)."""
    return max(1, n // 200)


def generate_extra(folder: Path, platform: str, n: int) -> Path:
    """``folder/<platform>-<n>-extra.jsonl``: :func:`extra_count` posts that are not in
    the ``n``-post set (ids from ``n`` on), written at moments spread over the second
    half of the event, between the set's own posts."""
    path = folder / f"{platform}-{n}-extra.jsonl"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{SEED}:{platform}:extra")
    stencils, make = _stencils(platform)
    count = extra_count(n)
    step = max(1, (n - n // 2) // count)
    made = (
        make(stencils[k % len(stencils)], n + k, n, rng, at=n // 2 + k * step + step // 2)
        for k in range(count)
    )
    return _write(path, made)


def lines(path: Path, start: int = 0, stop: int | None = None) -> list[str]:
    """Lines ``start:stop`` of ``path`` (without newlines), reading no further than ``stop``."""
    with path.open(encoding="utf-8") as f:
        return [line.rstrip("\n") for line in itertools.islice(f, start, stop)]
