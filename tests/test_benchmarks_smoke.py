"""The benchmark harness still runs (``python -m benchmarks``), on one tiny benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_harness_runs_and_writes_results(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "ingest", "--sizes", "200",
         "--output", str(output), "--work", str(tmp_path / "work"), "--quiet"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mastodon ingest N=200" in done.stdout and "target" in done.stdout
    results = json.loads(output.read_text())
    assert results["machine"]["cpu_count"] >= 1
    assert results["machine"]["packages"]["sqlalchemy"]
    figures = {row["figure"]: row for row in results["rows"]}
    for name in ("mastodon", "bluesky"):
        row = figures[f"{name} ingest N=200"]
        assert row["value"] > 0 and row["baseline"] > 0 and row["ratio"] > 0
        assert row["database"] == "SQLite"
    durations = results["durations"]
    assert durations["ingest"] > 0 and durations["total"] >= durations["ingest"]
    assert "== ingest (" in done.stdout and "s in all" in done.stdout


def test_generated_posts_are_valid_distinct_and_keep_their_shapes(tmp_path: Path) -> None:
    from benchmarks import data

    for platform in ("mastodon", "bluesky"):
        posts = [json.loads(line) for line in data.lines(data.generate(tmp_path, platform, 300))]
        extra = [
            json.loads(line) for line in data.lines(data.generate_extra(tmp_path, platform, 300))
        ]
        assert len(posts) == 300 and len(extra) == data.extra_count(300)
        uris = {p["uri"] for p in posts + extra}
        assert len(uris) == len(posts) + len(extra)  # the extra posts are new ones
        if platform == "mastodon":
            assert len({p["id"] for p in posts}) == 300
            assert all(f" ({i})</p>" in p["content"] for i, p in enumerate(posts))
            assert all(isinstance(p["favourites_count"], int) for p in posts)
            assert any(p["media_attachments"] for p in posts)
            assert any(p["in_reply_to_id"] for p in posts)
            times = [p["created_at"] for p in posts]
        else:
            assert all(p["record"]["text"].endswith(f" ({i})") for i, p in enumerate(posts))
            assert all(p["author"]["did"] in p["uri"] for p in posts)
            assert all(isinstance(p["likeCount"], int) for p in posts)
            times = [p["record"]["createdAt"] for p in posts]
        assert times == sorted(times) and len(set(times)) == 300
