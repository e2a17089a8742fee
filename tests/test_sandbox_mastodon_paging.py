"""The Mastodon sandbox's tag timeline pages by bisecting a cached feed: the pages must
be exactly what filtering the whole feed gives, and the cache must follow the world."""

from __future__ import annotations

import itertools
from datetime import timedelta

import requests

from backchannel.sandbox.httpbase import RateBudget
from backchannel.sandbox.mastodon_server import TAG_PREFIX, MastodonSandbox
from tests.test_sandbox_mastodon import T0, small_world


def page(sb: MastodonSandbox, **args: object) -> list[int]:
    url = f"{sb.url('a.example')}{TAG_PREFIX}swrs26"
    got = requests.get(url, params={k: str(v) for k, v in args.items()}, timeout=10)
    assert got.status_code == 200
    return [int(s["id"]) for s in got.json()]


def expected(ids: list[int], limit: int, max_id=None, since_id=None, min_id=None) -> list[int]:
    """Mastodon's rule, by brute force over the whole feed (``ids`` newest first)."""
    below = [i for i in ids if max_id is None or i < max_id]
    if min_id is not None:
        return list(reversed([i for i in reversed(below) if i > min_id][:limit]))
    return [i for i in below if since_id is None or i > since_id][:limit]


def test_bisected_pages_equal_filtering_the_whole_feed():
    with MastodonSandbox(small_world()) as sb:
        sb.instances["a.example"].budget = RateBudget(limit=10**9)  # many requests here
        ids = page(sb, limit=40)
        assert ids == sorted(ids, reverse=True) and len(ids) > 10
        # cursors on, between, above and below the feed's ids
        probes = sorted({*ids[::3], ids[0] + 1, ids[-1] - 1, ids[4] - 1, ids[7] + 1, 1})
        for limit in (0, 1, 3, 40):
            assert page(sb, limit=limit) == expected(ids, limit)
        for low, high in itertools.product([None, *probes], repeat=2):
            for limit in (1, 4):
                got = page(sb, limit=limit, **({"max_id": high} if high else {}),
                           **({"min_id": low} if low else {}))  # fmt: skip
                assert got == expected(ids, limit, max_id=high, min_id=low), (low, high)
                got = page(sb, limit=limit, **({"max_id": high} if high else {}),
                           **({"since_id": low} if low else {}))  # fmt: skip
                assert got == expected(ids, limit, max_id=high, since_id=low), (low, high)


def test_cached_feed_follows_new_deleted_and_edited_posts():
    with MastodonSandbox(small_world()) as sb:
        world = sb.world
        before = page(sb, limit=40)
        ana = world.account("ana@a.example")
        new = world.add_post(ana, "Fresh #swrs26", created_at=T0 + timedelta(days=1))
        after = page(sb, limit=40)
        assert after[0] == world.local_id("a.example", new) and after[1:] == before
        world.delete(new)
        assert page(sb, limit=40) == before
        newest = world.post_by_id("a.example", before[0])
        assert newest is not None
        world.edit(newest, body="No tag any more")
        assert page(sb, limit=40) == before[1:]
