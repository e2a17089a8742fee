"""The measurements, each run in a fresh interpreter: ``python -m benchmarks.tasks NAME JSON``.

Prints one JSON object (the figures) as the last line of stdout. Peak memory is the
child's own maximum resident set size, so every task starts from a clean process.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import data

SLUG = data.SLUG
MASTODON_PAGE = 40
BLUESKY_PAGE = 100


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- databases ------------------------------------------------------------------------


def fresh_database(url: str) -> Any:
    """An empty database at ``url`` with the benchmark event and its two sources."""
    from sqlalchemy import create_engine, text

    from backchannel.events import EventSpec, create_event
    from backchannel.store.db import Database

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    db = Database(url)
    db.init()
    with db.writing() as session:
        create_event(
            session,
            EventSpec(
                slug=SLUG, title="Benchmark conference", hashtags=[data.TAG],
                start="2026-03-12", end="2026-03-14", timezone="Pacific/Auckland",
                mastodon=[data.MASTODON_URL], bluesky=data.BLUESKY_URL,
            ),
        )  # fmt: skip
    return db


def _ingest(db: Any, platform: str, raw_lines: list[str], page_offset: int = 0) -> int:
    """Normalise and store ``raw_lines`` page by page, as the collect service does."""
    from sqlalchemy import select

    from backchannel.collectors.base import Page
    from backchannel.collectors.bluesky.normalize import normalize_post_view
    from backchannel.collectors.mastodon.normalize import normalize_status
    from backchannel.consent.rule import policy_for
    from backchannel.store.models import EventSource
    from backchannel.store.writer import save_page

    policy = policy_for(False, False, {})
    base_url = data.MASTODON_URL if platform == "mastodon" else data.BLUESKY_URL
    size = MASTODON_PAGE if platform == "mastodon" else BLUESKY_PAGE
    with db.reading() as session:
        source_id = session.scalar(select(EventSource.id).where(EventSource.base_url == base_url))
    stored = 0
    for number, at in enumerate(range(0, len(raw_lines), size), start=page_offset):
        chunk = raw_lines[at : at + size]
        if platform == "mastodon":
            posts = [normalize_status(json.loads(line), data.MASTODON_SERVER) for line in chunk]
        else:
            posts = [normalize_post_view(json.loads(line)) for line in chunk]
        with db.writing() as session:
            source = session.get(EventSource, source_id)
            result = save_page(session, source, data.TAG, Page(posts, {"page": number}), policy)
        stored += result.new + result.updated
    return stored


# -- tasks ----------------------------------------------------------------------------


def task_generate(args: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    folder = Path(args["cache"])
    for platform in ("mastodon", "bluesky"):
        data.generate(folder, platform, args["n"])
        data.generate_extra(folder, platform, args["n"])
    return {"seconds": time.perf_counter() - started}


def task_ingest(args: dict[str, Any]) -> dict[str, Any]:
    """Raw posts of one platform through normalise + save_page, timed.

    ``part`` "first" or "second" takes that half of the N posts (pages numbered on
    from the first half's), "all" the whole set; ``fresh`` starts from an empty
    database (the default for "first" and "all"), else the posts are added to it.
    """
    n, part = args["n"], args.get("part", "all")
    path = data.generate(Path(args["cache"]), args["platform"], n)
    start, stop = {"all": (0, n), "first": (0, n // 2), "second": (n // 2, n)}[part]
    raw_lines = data.lines(path, start, stop)
    size = MASTODON_PAGE if args["platform"] == "mastodon" else BLUESKY_PAGE
    if args.get("fresh", part != "second"):
        db = fresh_database(args["url"])
    else:
        from backchannel.store.db import Database

        db = Database(args["url"])
    # collect checks the file once before its first write (PRAGMA quick_check): a fixed
    # cost per run, not per post, so it is made here before the timer starts.
    db.check_integrity()
    started = time.perf_counter()
    stored = _ingest(db, args["platform"], raw_lines, page_offset=start // size)
    seconds = time.perf_counter() - started
    db.dispose()
    return {"posts": len(raw_lines), "stored": stored, "seconds": seconds,
            "rate": len(raw_lines) / seconds, "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def baseline_store(lines: list[str], work: str | None, row: Callable[[str], tuple[Any, ...]]
                   ) -> dict[str, Any]:  # fmt: skip
    """The raw baseline: each line made a row by ``row`` (its json.loads and nh3.clean),
    then one executemany into a bare SQLite table; timed from the first line."""
    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-", dir=work))
    connection = sqlite3.connect(folder / "baseline.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, uri TEXT UNIQUE, author TEXT, "
        "created_at TEXT, html TEXT, text TEXT, raw TEXT)"
    )
    started = time.perf_counter()
    rows = [row(line) for line in lines]
    with connection:
        connection.executemany(
            "INSERT INTO posts (uri, author, created_at, html, text, raw) VALUES (?,?,?,?,?,?)",
            rows,
        )
    seconds = time.perf_counter() - started
    connection.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {"posts": len(lines), "seconds": seconds, "rate": len(lines) / seconds}


def task_ingest_baseline(args: dict[str, Any]) -> dict[str, Any]:
    """The unavoidable work: json.loads, nh3.clean, one executemany into SQLite."""
    import nh3

    path = data.generate(Path(args["cache"]), args["platform"], args["n"])
    mastodon = args["platform"] == "mastodon"

    def row(line: str) -> tuple[Any, ...]:
        raw = json.loads(line)
        if mastodon:
            html, author, created = raw["content"], raw["account"]["uri"], raw["created_at"]
            text = ""
        else:
            text, author = raw["record"]["text"], raw["author"]["did"]
            created, html = raw["record"]["createdAt"], ""
        return (raw["uri"], author, created, nh3.clean(html or text), text, line)

    return baseline_store(data.lines(path), args.get("work"), row)


def _export(url: str, out: Path) -> tuple[float, Any]:
    from backchannel.export import ExportOptions, export_site
    from backchannel.store.db import Database

    db = Database(url)
    started = time.perf_counter()
    result = export_site(db, ExportOptions(out=out), events=[SLUG])
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds, result


def task_export(args: dict[str, Any]) -> dict[str, Any]:
    """A full export into an empty folder."""
    out = Path(args["out"])
    shutil.rmtree(out, ignore_errors=True)
    seconds, result = _export(args["url"], out)
    return {"seconds": seconds, "posts": result.posts, "peak_rss_mb": peak_rss_mb(),
            "searched": result.searched}  # fmt: skip


def task_add_posts(args: dict[str, Any]) -> dict[str, Any]:
    """Add 1% new posts (both platforms, spread over the event's second half); not timed.

    They are not among the N posts (:func:`data.generate_extra`), so a later ingest of
    the N posts' second half still stores only new posts. A task of its own, so that
    reading raw JSON does not count in the memory of the export that follows."""
    from backchannel.store.db import Database

    n, cache = args["n"], Path(args["cache"])
    db = Database(args["url"])
    added = 0
    for platform in ("mastodon", "bluesky"):
        raw_lines = data.lines(data.generate_extra(cache, platform, n))
        added += _ingest(db, platform, raw_lines, page_offset=10**6)
    db.dispose()
    return {"added": added}


def task_export_incremental(args: dict[str, Any]) -> dict[str, Any]:
    """Export again into the folder of a previous export (after :func:`task_add_posts`)."""
    seconds, result = _export(args["url"], Path(args["out"]))
    return {"seconds": seconds, "posts": result.posts, "added": args.get("added"),
            "written": result.stats.written if hasattr(result.stats, "written") else None,
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip


BARE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ day }}</title>
</head><body><h1>{{ day }}</h1>
{% for p in posts %}<article id="p-{{ p.id }}"><header><strong>{{ p.name }}</strong>
<span>@{{ p.handle }}</span> <time datetime="{{ p.created }}">{{ p.created }}</time></header>
<div>{{ p.html | safe }}</div><footer>{{ p.replies }} {{ p.reposts }} {{ p.likes }}</footer>
</article>
{% endfor %}</body></html>
"""


def task_export_baseline(args: dict[str, Any]) -> dict[str, Any]:
    """The same posts, read in one query, through one bare template, written to files."""
    import jinja2
    from sqlalchemy import select

    from backchannel.store.db import Database
    from backchannel.store.models import Author, Event, EventPost, Post

    out = Path(args["out"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    template = jinja2.Environment(autoescape=True).from_string(BARE)
    db = Database(args["url"])
    started = time.perf_counter()
    with db.reading() as session:
        rows = session.execute(
            select(Post.id, Post.created_at, Post.html, Post.text, Post.reply_count,
                   Post.repost_count, Post.like_count, Author.display_name, Author.handle)
            .join(Author, Author.id == Post.author_id)
            .join(EventPost, EventPost.post_id == Post.id)
            .join(Event, Event.id == EventPost.event_id)
            .where(Event.slug == SLUG)
            .order_by(Post.created_at, Post.id)
        )  # fmt: skip
        pages: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            day = row.created_at.date().isoformat()
            pages.setdefault(day, []).append({
                "id": row.id, "created": row.created_at.isoformat(), "html": row.html or row.text,
                "replies": row.reply_count, "reposts": row.repost_count,
                "likes": row.like_count, "name": row.display_name, "handle": row.handle,
            })  # fmt: skip
    count = 0
    for day, posts in pages.items():
        for number, at in enumerate(range(0, len(posts), 200), start=1):
            name = f"{day}.html" if number == 1 else f"{day}-{number}.html"
            (out / name).write_text(template.render(day=day, posts=posts[at : at + 200]))
            count += len(posts[at : at + 200])
    seconds = time.perf_counter() - started
    db.dispose()
    return {"seconds": seconds, "posts": count, "peak_rss_mb": peak_rss_mb()}


def _tasks() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    from benchmarks import phone, tasks_import, tasks_requests, tasks_studio

    found = {**globals(), **vars(tasks_requests), **vars(tasks_studio), **vars(phone),
             **vars(tasks_import)}  # fmt: skip
    return {
        name.removeprefix("task_"): fn for name, fn in found.items() if name.startswith("task_")
    }


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2])
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(_tasks()[name], args)
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "40")))
    else:
        result = _tasks()[name](args)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
