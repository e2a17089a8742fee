"""``python -m benchmarks``: run the benchmarks, print a table, write results.json.

Each measurement runs in a fresh interpreter (``benchmarks.tasks``), so peak memory is
that measurement's own, and nothing is warm that a user's run would find cold.
Every figure is compared with a baseline taken in the same run, as a ratio.

    python -m benchmarks                       # everything, N = 10,000 and 100,000
    python -m benchmarks --quick               # N = 1,000: a quick try
    python -m benchmarks --only ingest,export --sizes 20000
    python -m benchmarks --only import --sizes 100000   # backchannel import of twarc tweets
    BACKCHANNEL_BENCH_DATABASE_URL=postgresql+psycopg://... python -m benchmarks
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import phone
from benchmarks.data import SLUG
from benchmarks.report import Row, machine, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALL = ("ingest", "requests", "export", "import", "startup", "studio", "postgres", "phone")
PLATFORMS = ("mastodon", "bluesky")


class Runner:
    """Runs tasks in fresh interpreters, keeps their figures and each group's duration."""

    def __init__(self, work: Path, cache: Path, verbose: bool, profile: bool) -> None:
        self.work, self.cache, self.verbose, self.profile = work, cache, verbose, profile
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}
        self.durations: dict[str, float] = {}  # wall seconds of each group's tasks
        self.baselines: dict[tuple[str, int], dict[str, Any]] = {}  # ingest, per (platform, N)

    def task(self, name: str, charge: str, **args: Any) -> dict[str, Any]:
        """Run ``benchmarks.tasks NAME`` and return its figures; its wall time (start-up
        included) counts in the duration of group ``charge``."""
        args.setdefault("cache", str(self.cache))
        args.setdefault("work", str(self.work))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if self.profile:
            env["BENCH_PROFILE"] = "1"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.tasks", name, json.dumps(args)],
            capture_output=True, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        took = time.perf_counter() - started
        self.durations[charge] = self.durations.get(charge, 0.0) + took
        if done.returncode != 0:
            raise RuntimeError(f"benchmark task {name} failed:\n{done.stderr[-3000:]}")
        if self.profile and done.stderr:
            print(f"--- profile of {name} {args.get('n', '')}", file=sys.stderr)
            print(done.stderr, file=sys.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        what = [str(args[k]) for k in ("platform", "n", "part", "label") if k in args]
        self.raw[":".join([name, *what])] = result
        if self.verbose:
            print(f"  [{took:6.1f}s] {name} {' '.join(what)} -> {result}", file=sys.stderr)
        return result

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def timed(self, charge: str, started: float) -> None:
        """Count the time since ``started`` spent outside tasks (the start-up runs)."""
        self.durations[charge] = self.durations.get(charge, 0.0) + time.perf_counter() - started

    # -- ingest and export: one database per N ----------------------------------------

    def archive(self, sizes: list[int], url: str, ingest: bool, export: bool,
                charge: str = "") -> None:  # fmt: skip
        """Ingest and/or export at each N over one database (``url``, or SQLite).

        The ingest of each platform's N posts is timed in two halves. Between them the
        database holds N/2 Mastodon and N/2 Bluesky posts: exactly the export
        benchmark's N posts, so the export runs there instead of on a database built
        a second time. The second halves then go into a database that already holds
        the other platform's posts (and the export's 1% extra): no easier than the
        empty database of a separate run.
        """
        database = "PostgreSQL" if url else "SQLite"
        label = "postgres" if url else "sqlite"
        peaks: dict[int, float] = {}
        for n in sizes:
            self.task("generate", "data", n=n)
            db = url or f"sqlite:///{self.work / f'archive-{n}.db'}"
            spent: dict[str, list[dict[str, Any]]] = {}
            for platform in PLATFORMS:  # the first halves: the export's database
                spent[platform] = [self.task(
                    "ingest", charge or ("ingest" if ingest else "export"), platform=platform,
                    n=n, url=db, part="first", fresh=platform == PLATFORMS[0], label=label,
                )]  # fmt: skip
            if export:
                peaks[n] = self.export(n, db, database, label, charge or "export")
            if ingest:
                for platform in PLATFORMS:
                    spent[platform].append(self.task(
                        "ingest", charge or "ingest", platform=platform, n=n, url=db,
                        part="second", label=label,
                    ))  # fmt: skip
                    self.ingest_row(platform, n, spent[platform], database, charge or "ingest")
            if not url:
                path = db.removeprefix("sqlite:///")
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.memory_rows(peaks, database)

    def ingest_row(self, platform: str, n: int, parts: list[dict[str, Any]], database: str,
                   charge: str) -> None:  # fmt: skip
        if (platform, n) not in self.baselines:  # SQLite's, also for the PostgreSQL rows
            self.baselines[platform, n] = self.task(
                "ingest_baseline", charge, platform=platform, n=n
            )
        base = self.baselines[platform, n]["rate"]
        posts, seconds = sum(p["posts"] for p in parts), sum(p["seconds"] for p in parts)
        rate = posts / seconds
        self.add(Row("ingest", f"{platform} ingest N={n:,}", rate, "posts/s", base,
                     rate / base, ">= 0.5", rate / base >= 0.5, database=database))  # fmt: skip

    def export(self, n: int, db: str, database: str, label: str, charge: str) -> float:
        """Full export, bare baseline, again with nothing changed, +1% posts, incremental
        export; the full one's peak."""
        out, bare = self.work / f"site-{label}-{n}", self.work / f"bare-{label}-{n}"
        base = self.task("export_baseline", charge, n=n, url=db, out=str(bare), label=label)
        full = self.task("export", charge, n=n, url=db, out=str(out), label=label)
        ratio = base["seconds"] / full["seconds"]
        self.add(Row("export", f"full export N={n:,}", full["seconds"], "s", base["seconds"],
                     ratio, "speed >= 0.5", ratio >= 0.5, database=database))  # fmt: skip
        same = self.task("export_incremental", charge, n=n, url=db, out=str(out), label=label)
        self.add(Row("export", f"export with nothing changed N={n:,}", same["seconds"], "s",
                     full["seconds"], same["seconds"] / full["seconds"], "reported", None,
                     "the change count is the last export's", database))  # fmt: skip
        added = self.task("add_posts", charge, n=n, url=db, label=label)["added"]
        inc = self.task("export_incremental", charge, n=n, url=db, out=str(out), label=label,
                        added=added)  # fmt: skip
        ratio = inc["seconds"] / full["seconds"]
        self.add(Row("export", f"export after +1% posts N={n:,}", inc["seconds"], "s",
                     full["seconds"], ratio, "<= 0.1", ratio <= 0.1,
                     f"{added:,} posts added", database))  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(bare, ignore_errors=True)
        return float(full["peak_rss_mb"])

    def imports(self, sizes: list[int]) -> None:
        """``import`` of N twarc tweets against json.loads + nh3 + executemany (issue 35)."""
        for n in sizes:
            base = self.task("import_baseline", "import", n=n)
            db = self.work / f"import-{n}.db"
            got = self.task("import", "import", n=n, url=f"sqlite:///{db}")
            ratio = got["rate"] / base["rate"]
            self.add(Row("import", f"twarc import N={n:,}", got["rate"], "posts/s", base["rate"],
                         ratio, ">= 0.5", ratio >= 0.5,
                         f"{got['imported']:,} imported; peak {got['peak_rss_mb']:.0f} MB",
                         "SQLite"))  # fmt: skip
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)

    def memory_rows(self, peaks: dict[int, float], database: str) -> None:
        for n, peak in sorted(peaks.items()):
            figure = f"peak memory, full export N={n:,}"
            smaller = [m for m in peaks if m < n]
            if not smaller:
                self.add(Row("export", figure, peak, "MB", target="< 500 MB",
                             ok=peak < 500 if n >= 100_000 else None, database=database))  # fmt: skip
                continue
            small = max(smaller)
            ratio = peak / peaks[small]
            self.add(Row("export", figure, peak, "MB", peaks[small], ratio,
                         f"< 500 MB, <= 1.5x N={small:,}", peak < 500 and ratio <= 1.5,
                         database=database))  # fmt: skip

    # -- requests and start-up ---------------------------------------------------------

    def requests(self, sizes: list[int]) -> None:
        for n in sizes:
            for name in PLATFORMS:
                got = self.task(f"requests_{name}", "requests", n=n)
                need = got["minimum"]
                ok = got["requests"] <= need + 2 and got["posts"] >= n
                self.add(Row("requests", f"{name} requests N={n:,} ({got['posts']:,} posts)",
                             got["requests"], "requests", need, got["requests"] / need,
                             "<= min + 2", ok, f"+{got['other']} other"))  # fmt: skip
                self.add(Row("requests", f"{name} idle run N={n:,}", got["idle_requests"],
                             "requests", None, None, "<= 2", got["idle_requests"] <= 2,
                             f"+{got['idle_other']} other"))  # fmt: skip
        self.server_kinds(10_000 if 10_000 in sizes else min(sizes))
        got = self.task("concurrency", "requests", n=400, latency=0.05)
        self.add(Row("requests", "3 Mastodon sources, 50 ms latency, concurrent",
                     got["concurrent"], "s", got["sequential"], got["ratio"], "<= 0.5",
                     got["ratio"] <= 0.5))  # fmt: skip

    def server_kinds(self, n: int) -> None:
        """Requests for N posts on each kind of fediverse server against the minimum
        (one per full page): <= minimum + 2 where the walk may start at the window's
        start (Mastodon, GoToSocial, Misskey); the top-down walk's cost reported on the
        others (it reads the posts after the window too, which here are none)."""
        from backchannel.sandbox.server_kinds import KINDS

        floors = {"mastodon", "gotosocial", "misskey"}
        for kind in [*(k for k in KINDS if k != "mastodon"), "misskey"]:
            task = "requests_misskey" if kind == "misskey" else "requests_kind"
            got = self.task(task, "requests", n=n, kind=kind)
            need = got["minimum"]
            ok = (got["posts"] >= n and got["requests"] <= need + 2 if kind in floors
                  else None if got["posts"] >= n else False)  # fmt: skip
            self.add(Row("requests", f"{kind} requests N={n:,} ({got['posts']:,} posts)",
                         got["requests"], "requests", need, got["requests"] / need,
                         "<= min + 2" if kind in floors else "reported (walks down)", ok,
                         f"+{got['other']} other; idle run {got['idle_requests']}"))  # fmt: skip

    def startup(self, runs: int = 7) -> None:
        started = time.perf_counter()
        exe = Path(sys.executable).with_name("backchannel")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "backchannel"]

        # As installed: pip compiles a wheel's bytecode, so the first run here (not
        # timed) may write it, even where PYTHONDONTWRITEBYTECODE is set for the tests.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def median(argv: list[str]) -> float:
            subprocess.run(argv, capture_output=True, check=True, env=env)
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True, env=env)
                times.append(time.perf_counter() - began)
            return statistics.median(times)

        base = median([sys.executable, "-c", "pass"])
        got = median([*command, "--help"])
        self.raw["startup"] = {"help": got, "python": base}
        self.add(Row("startup", "backchannel --help", got, "s", base, got - base,
                     "+ <= 0.35 s", got - base <= 0.35, "ratio column: seconds more"))  # fmt: skip
        self.timed("startup", started)
        self.database_commands(command, median, base)

    def database_commands(
        self, command: list[str], median: Callable[[list[str]], float], base: float
    ) -> None:
        """Commands that open the database, on an archive of 10,000 posts."""
        n = 10_000
        self.task("generate", "data", n=n)
        db = f"sqlite:///{self.work / 'startup.db'}"
        for platform in PLATFORMS:  # N/2 of each: N posts
            self.task("ingest", "startup", platform=platform, n=n, url=db, part="first",
                      fresh=platform == PLATFORMS[0], label="startup")  # fmt: skip
        started = time.perf_counter()
        config = self.work / "startup.toml"
        config.write_text(f'[database]\nurl = "{db}"\n', encoding="utf-8")
        for args in (["event", "list"], ["event", "show", SLUG], ["status"]):
            got = median([*command, "--config", str(config), *args])
            self.raw["startup"][" ".join(args)] = got
            self.add(Row("startup", f"backchannel {' '.join(args)} N={n:,}", got, "s", base,
                         got - base, "+ <= 0.35 s", got - base <= 0.35,
                         "ratio column: seconds more"))  # fmt: skip
        self.timed("startup", started)


def studio(runner: Runner, sizes: list[int]) -> None:
    """Studio search over the archive of each N (N/2 posts of each platform)."""
    for n in sizes:
        runner.task("generate", "data", n=n)
        db = f"sqlite:///{runner.work / f'studio-{n}.db'}"
        for platform in PLATFORMS:
            runner.task("ingest", "data", platform=platform, n=n, url=db, part="first",
                        fresh=platform == PLATFORMS[0], label="studio")  # fmt: skip
        got = runner.task("studio_search", "studio", url=db, n=n)
        ms = {key: value * 1000 for key, value in got.items() if key.endswith(("median", "p95"))}
        floor = ", ".join(f"{how} {count}" for how, count in sorted(got["bare_chosen"].items()))
        runner.add(Row("studio", f"studio search N={n:,} median ({got['queries']} queries)",
                       ms["median"], "ms", ms["sorted_median"], ms["median"] / ms["sorted_median"],
                       "<= 2x bare FTS5", ms["median"] <= 2 * ms["sorted_median"],
                       "baseline: every match sorted by time (issue 15's)"))  # fmt: skip
        runner.add(Row("studio", f"studio search N={n:,} median against the floor",
                       ms["median"], "ms", ms["bare_median"], ms["median"] / ms["bare_median"],
                       note="baseline: per query, the fastest bare query of the page's ids "
                            f"({floor}); the studio also loads the posts, authors and media "
                            "a page shows and counts the matches"))  # fmt: skip
        runner.add(Row("studio", f"studio search N={n:,} 95th percentile", ms["p95"], "ms",
                       ms["bare_p95"], ms["p95"] / ms["bare_p95"], "< 100 ms",
                       ms["p95"] < 100))  # fmt: skip
        story = runner.task("studio_story", "studio", url=db, n=n, items=500)
        opened, written = story["median"] * 1000, story["bare_median"] * 1000
        runner.add(Row("studio", f"open a story of {story['items']} items N={n:,}", opened,
                       "ms", written, opened / written, "< 1,000 ms", opened < 1000,
                       "baseline: the same story as its Markdown file"))  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only",
        default=",".join(ALL),
        help=f"comma-separated benchmarks to run, of: {', '.join(ALL)}",
    )
    parser.add_argument(
        "--sizes", default="10000,100000", help="N for ingest and export (default 10000,100000)"
    )
    parser.add_argument(
        "--request-sizes", default="", help="N for the request counts (default: the --sizes)"
    )
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only: a quick try")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BACKCHANNEL_BENCH_DATABASE_URL", ""),
        help="PostgreSQL URL for the postgres benchmark: ingest and export at the largest "
        "N (its public schema is wiped!); default $BACKCHANNEL_BENCH_DATABASE_URL",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temp one)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="where generated raw JSON is kept (default: the scratch folder)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print each task's cProfile (cumulative) to stderr"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    request_sizes = [int(s) for s in args.request_sizes.split(",") if s] or sizes
    work = args.work or Path(tempfile.mkdtemp(prefix="backchannel-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work, args.cache or work / "data", not args.quiet, args.profile)
    started = time.perf_counter()
    try:
        if "startup" in chosen:  # first, while nothing of ours is running yet
            runner.startup()
        if "ingest" in chosen or "export" in chosen:
            runner.archive(sizes, "", "ingest" in chosen, "export" in chosen)
        if "import" in chosen:
            runner.imports(sizes)
        if "requests" in chosen:
            runner.requests(request_sizes)
        if "studio" in chosen:
            studio(runner, [max(sizes)])
        if "phone" in chosen:
            phone.phone(runner)
        if "postgres" in chosen and args.database_url:
            runner.archive([max(sizes)], args.database_url, True, True, charge="postgres")
        elif "postgres" in chosen:
            runner.add(Row("postgres", "PostgreSQL ingest and export", None, "",
                           note="skipped: no URL (--database-url or "
                           "BACKCHANNEL_BENCH_DATABASE_URL)"))  # fmt: skip
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(table(runner.rows, runner.durations, elapsed))
    results = {
        "machine": machine(),
        "command": ["python", "-m", "benchmarks", *(argv if argv is not None else sys.argv[1:])],
        "seconds": elapsed,
        "durations": {**runner.durations, "total": elapsed},
        "rows": [asdict(r) for r in runner.rows],
        "raw": runner.raw,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0
