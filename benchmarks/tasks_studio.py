"""Benchmark tasks for the studio: search over an archive, against the fastest bare
query on the index; opening a story, against writing it as a file."""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import Counter
from typing import Any

from benchmarks.data import SLUG

RUNS = 5  # timed runs of each query, after one untimed


def _queries(session: Any) -> list[str]:
    """Words a curator would type: the commonest, some rare ones and pairs, from the
    archive's own text (seeded, so each run asks the same)."""
    from sqlalchemy import select

    from backchannel.store import Post

    texts = session.scalars(select(Post.text).order_by(Post.id).limit(5000)).all()
    counts = Counter(w for t in texts for w in re.findall(r"\w{4,}", t.lower()))
    common = [w for w, _ in counts.most_common(8)]
    rare = sorted(w for w, c in counts.items() if c == 1)
    chosen = random.Random(7).sample(rare, min(8, len(rare)))
    return common + chosen + [f"{a} {b}" for a, b in zip(common[:4], common[1:5], strict=False)]


def _timed(call: Any, queries: list[str]) -> list[float]:
    times = []
    for query in queries:
        call(query)
        for _ in range(RUNS):
            began = time.perf_counter()
            call(query)
            times.append(time.perf_counter() - began)
    return times


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)


def task_studio_search(args: dict[str, Any]) -> dict[str, Any]:
    """The studio's search against a floor: for each query, the fastest of a few bare SQL
    queries on the index that return the same first page (checked)."""
    from backchannel.events import get_event
    from backchannel.store import BARE_FIRST_PAGES, Database, bare_first_page
    from backchannel.studio.browse import PostQuery, search_posts

    db = Database(args["url"])
    bare: list[float] = []
    sorted_all: list[float] = []  # every match sorted by time: the baseline of issue 15
    chosen: Counter[str] = Counter()
    with db.reading() as session:
        event = get_event(session, SLUG)
        queries = _queries(session)
        studio = _timed(lambda q: search_posts(session, event, PostQuery(text=q)), queries)
        for query in queries:
            shown = [
                post.id for post, _ in search_posts(session, event, PostQuery(text=query)).posts
            ]
            timings = {}
            for how in BARE_FIRST_PAGES:
                page = bare_first_page(session, query, how)
                assert page == shown, f"{how} gives another first page for {query!r}"
                timings[how] = _timed(lambda q, how=how: bare_first_page(session, q, how), [query])
            fastest = min(timings, key=lambda how: statistics.median(timings[how]))
            chosen[fastest] += 1
            bare += timings[fastest]
            sorted_all += timings["sorted"]
    db.dispose()
    return {
        "queries": len(queries),
        "median": statistics.median(studio), "p95": _p95(studio),
        "bare_median": statistics.median(bare), "bare_p95": _p95(bare),
        "bare_chosen": dict(chosen), "sorted_median": statistics.median(sorted_all),
    }  # fmt: skip


def task_studio_story(args: dict[str, Any]) -> dict[str, Any]:
    """Opening the editor of a story of ``items`` posts, through the whole application
    (routing, session, database, templates), against writing the same story as its
    Markdown file (``story export``)."""
    from sqlalchemy import select
    from starlette.testclient import TestClient

    from backchannel.curation import export_story, import_story
    from backchannel.store import Database, Post
    from backchannel.studio import create_app

    db = Database(args["url"])
    items = args["items"]
    with db.writing() as session:
        uris = session.scalars(select(Post.uri).order_by(Post.id).limit(items)).all()
        body = "\n\n".join(uris)
        import_story(session, f"---\ntitle: Big\nslug: big\nevent: {SLUG}\n---\n\n{body}\n")
    client = TestClient(create_app(db, "token", 8765), base_url="http://127.0.0.1:8765")
    client.get("/login?token=token")
    path = f"/events/{SLUG}/stories/big"

    def page() -> None:
        assert client.get(path).status_code == 200

    def markdown() -> None:
        with db.reading() as session:
            export_story(session, SLUG, "big")

    opened = _timed(lambda _: page(), ["story"])
    written = _timed(lambda _: markdown(), ["story"])
    db.dispose()
    return {"items": len(uris), "median": statistics.median(opened),
            "bare_median": statistics.median(written)}  # fmt: skip
