"""The import benchmark (issue 35): ``backchannel import`` of N twarc tweets, against the
raw parse + insert baseline in the same run (goal: >= 0.5 of its speed).

The capture is made here, deterministic: Twitter API v1.1 tweets as twarc 1 wrote
them (HTML-escaped text, code-point entity offsets for hashtags, mentions and links,
some photos, replies and retweets), by some 2,000 accounts over the benchmark event's
days, every one carrying its hashtag.
"""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import data
from benchmarks.tasks import baseline_store, fresh_database, peak_rss_mb

WORDS = ("supervision", "practice", "care", "families", "keynote", "panel", "&amp;", "ethics",
         "research", "workload", "burnout", "community", "Māori", "whānau", "policy", "🎉")  # fmt: skip


def twarc_capture(folder: Path, n: int) -> Path:
    """``folder/twarc-<n>.jsonl``: made once, then reused."""
    path = folder / f"twarc-{n}.jsonl"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{data.SEED}:twarc")
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps(_tweet(i, n, rng), ensure_ascii=False) + "\n")
    return path


def _tweet(i: int, n: int, rng: random.Random) -> dict[str, Any]:
    tweet_id = str(1_500_000_000_000_000_000 + i)
    user = rng.randrange(2000)
    words = [rng.choice(WORDS) for _ in range(rng.randrange(6, 24))]
    text = " ".join(words)
    entities: dict[str, Any] = {"hashtags": [], "user_mentions": [], "urls": []}
    if rng.random() < 0.3:
        mention = f"user{rng.randrange(2000)}"
        entities["user_mentions"].append({"screen_name": mention, "id_str": "1",
                                          "indices": [0, len(mention) + 1]})  # fmt: skip
        text = f"@{mention} {text}"
    if rng.random() < 0.25:
        short = f"https://t.co/{i:010d}"
        entities["urls"].append({"url": short, "expanded_url": f"https://blog.example/{i}",
                                 "display_url": f"blog.example/{i}",
                                 "indices": [len(text) + 1, len(text) + 1 + len(short)]})  # fmt: skip
        text = f"{text} {short}"
    start = len(text) + 1
    text = f"{text} #{data.TAG}"
    entities["hashtags"].append({"text": data.TAG, "indices": [start, start + len(data.TAG) + 1]})
    created = data.START + timedelta(hours=2) + (data.SPAN - timedelta(hours=4)) * (i / max(n, 1))
    tweet: dict[str, Any] = {
        "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"), "id": int(tweet_id),
        "id_str": tweet_id, "full_text": text, "truncated": False,
        "display_text_range": [0, len(text)], "entities": entities, "lang": "en",
        "user": {"id": 10_000 + user, "id_str": str(10_000 + user), "name": f"Person {user}",
                 "screen_name": f"user{user}", "description": "Social worker", "protected": False,
                 "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user}/a.jpg"},
        "retweet_count": rng.randrange(20), "favorite_count": rng.randrange(50),
        "in_reply_to_status_id_str": str(1_500_000_000_000_000_000 + rng.randrange(i))
        if i and rng.random() < 0.2 else None,
    }  # fmt: skip
    if rng.random() < 0.1:
        media = {"url": f"https://t.co/m{i:09d}", "media_url_https": f"https://pbs.twimg.com/media/{i}.jpg",
                 "type": "photo", "ext_alt_text": "A slide", "sizes": {"large": {"w": 1200, "h": 900}}}  # fmt: skip
        tweet["extended_entities"] = {"media": [media]}
    return tweet


def task_import(args: dict[str, Any]) -> dict[str, Any]:
    """``import`` of the capture into the benchmark event, in an empty database, timed."""
    from backchannel.collect import import_file
    from backchannel.config import Config

    path = twarc_capture(Path(args["cache"]), args["n"])
    db = fresh_database(args["url"])
    started = time.perf_counter()
    result = import_file(db, Config(path=Path(args["work"]) / "config.toml"), data.SLUG, path,
                         "twarc")  # fmt: skip
    seconds = time.perf_counter() - started
    db.dispose()
    return {"posts": result.read, "imported": result.imported, "seconds": seconds,
            "rate": result.read / seconds, "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def task_import_baseline(args: dict[str, Any]) -> dict[str, Any]:
    """The unavoidable work: json.loads, nh3.clean of the text, one executemany into SQLite."""
    import nh3

    def row(line: str) -> tuple[Any, ...]:
        tweet = json.loads(line)
        text = tweet["full_text"]
        return (tweet["id_str"], tweet["user"]["id_str"], tweet["created_at"], nh3.clean(text),
                text, line)  # fmt: skip

    lines = data.lines(twarc_capture(Path(args["cache"]), args["n"]))
    return baseline_store(lines, args.get("work"), row)
