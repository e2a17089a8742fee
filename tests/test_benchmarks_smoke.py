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
