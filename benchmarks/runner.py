"""``python -m benchmarks``: run the benchmarks, print a table, write results.json.

Each measurement runs in a fresh interpreter (``benchmarks.tasks``), so peak memory is
that measurement's own, and nothing is warm that a user's run would find cold.
Every figure is compared with a baseline taken in the same run, as a ratio.

    python -m benchmarks                       # everything, N = 10,000 and 100,000
    python -m benchmarks --quick               # N = 1,000: a quick try
    python -m benchmarks --only ingest,export --sizes 20000
    BACKCHANNEL_BENCH_DATABASE_URL=postgresql+psycopg://... python -m benchmarks
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALL = ("ingest", "requests", "export", "startup", "postgres")
PACKAGES = ("backchannel", "sqlalchemy", "jinja2", "nh3", "mastodon.py", "atproto",
            "psycopg", "pagefind")  # fmt: skip


@dataclass
class Row:
    group: str
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None  # None: reported only
    note: str = ""


def machine() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "packages": versions,
    }


class Runner:
    def __init__(self, work: Path, cache: Path, verbose: bool, profile: bool) -> None:
        self.work, self.cache, self.verbose, self.profile = work, cache, verbose, profile
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}

    def task(self, name: str, **args: Any) -> dict[str, Any]:
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
        if done.returncode != 0:
            raise RuntimeError(f"benchmark task {name} failed:\n{done.stderr[-3000:]}")
        if self.profile and done.stderr:
            print(f"--- profile of {name} {args.get('n', '')}", file=sys.stderr)
            print(done.stderr, file=sys.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        key = f"{name}:{args.get('platform', '')}:{args.get('n', '')}:{args.get('label', '')}"
        self.raw[key] = result
        if self.verbose:
            took = time.perf_counter() - started
            print(f"  [{took:6.1f}s] {name} {args.get('platform', '')} {args.get('n', '')}"
                  f" -> {result}", file=sys.stderr)  # fmt: skip
        return result

    def add(self, row: Row) -> None:
        self.rows.append(row)

    # -- the benchmarks ---------------------------------------------------------------

    def ingest(self, sizes: list[int], url: str, group: str = "ingest") -> None:
        for n in sizes:
            self.task("generate", n=n)
            for name in ("mastodon", "bluesky"):
                base = self.task("ingest_baseline", platform=name, n=n)
                db = url or f"sqlite:///{self.work / f'ingest-{name}-{n}.db'}"
                got = self.task("ingest", platform=name, n=n, url=db, label=group)
                ratio = got["rate"] / base["rate"]
                self.add(Row(group, f"{name} ingest N={n:,}", got["rate"], "posts/s",
                             base["rate"], ratio, ">= 0.5", ratio >= 0.5))  # fmt: skip
                if not url:
                    Path(db.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def requests(self, sizes: list[int]) -> None:
        for n in sizes:
            for name in ("mastodon", "bluesky"):
                got = self.task(f"requests_{name}", n=n)
                need = got["minimum"]
                ok = got["requests"] <= need + 2 and got["posts"] >= n
                self.add(Row("requests", f"{name} requests N={n:,} ({got['posts']:,} posts)",
                             got["requests"], "requests", need, got["requests"] / need,
                             "<= min + 2", ok, f"+{got['other']} other"))  # fmt: skip
                self.add(Row("requests", f"{name} idle run N={n:,}", got["idle_requests"],
                             "requests", None, None, "<= 2", got["idle_requests"] <= 2,
                             f"+{got['idle_other']} other"))  # fmt: skip
        got = self.task("concurrency", n=400, latency=0.05)
        self.add(Row("requests", "3 Mastodon sources, 50 ms latency, concurrent",
                     got["concurrent"], "s", got["sequential"], got["ratio"], "<= 0.5",
                     got["ratio"] <= 0.5))  # fmt: skip

    def export(self, sizes: list[int], url: str, group: str = "export") -> None:
        peaks: dict[int, float] = {}
        for n in sizes:
            self.task("generate", n=n)
            db = url or f"sqlite:///{self.work / f'export-{n}.db'}"
            out = self.work / f"site-{group}-{n}"
            self.task("build_export_db", n=n, url=db, label=group)
            base = self.task("export_baseline", n=n, url=db, out=str(self.work / "bare"),
                             label=group)  # fmt: skip
            full = self.task("export", n=n, url=db, out=str(out), label=group)
            ratio = base["seconds"] / full["seconds"]
            self.add(Row(group, f"full export N={n:,}", full["seconds"], "s", base["seconds"],
                         ratio, "speed >= 0.5", ratio >= 0.5))  # fmt: skip
            added = self.task("add_posts", n=n, url=db, label=group)["added"]
            inc = self.task("export_incremental", n=n, url=db, out=str(out), label=group,
                            added=added)  # fmt: skip
            ratio = inc["seconds"] / full["seconds"]
            self.add(Row(group, f"export after +1% posts N={n:,}", inc["seconds"], "s",
                         full["seconds"], ratio, "<= 0.1", ratio <= 0.1))  # fmt: skip
            peaks[n] = full["peak_rss_mb"]
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(self.work / "bare", ignore_errors=True)
            if not url:
                Path(db.removeprefix("sqlite:///")).unlink(missing_ok=True)
        for n, peak in peaks.items():
            smaller = [m for m in peaks if m < n]
            if not smaller:
                self.add(Row(group, f"peak memory, full export N={n:,}", peak, "MB",
                             target="< 500 MB", ok=peak < 500 if n >= 100_000 else None))  # fmt: skip
                continue
            small = max(smaller)
            ratio = peak / peaks[small]
            ok = peak < 500 and ratio <= 1.5
            self.add(Row(group, f"peak memory, full export N={n:,}", peak, "MB", peaks[small],
                         ratio, f"< 500 MB, <= 1.5x N={small:,}", ok))  # fmt: skip

    def startup(self, runs: int = 7) -> None:
        exe = Path(sys.executable).with_name("backchannel")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "backchannel"]

        def median(argv: list[str]) -> float:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run(argv, capture_output=True, check=True)
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        base = median([sys.executable, "-c", "pass"])
        got = median([*command, "--help"])
        self.raw["startup"] = {"help": got, "python": base}
        self.add(Row("startup", "backchannel --help", got, "s", base, got - base,
                     "+ <= 0.35 s", got - base <= 0.35, "ratio column: seconds more"))  # fmt: skip


def table(rows: list[Row]) -> str:
    def fmt(value: float | None, unit: str = "") -> str:
        if value is None:
            return "-"
        if unit == "posts/s" or (abs(value) >= 100 and unit != "s"):
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"

    header = ("figure", "value", "unit", "baseline", "ratio", "target", "result")
    lines = [header]
    for r in rows:
        result = {True: "PASS", False: "FAIL", None: "info"}[r.ok]
        lines.append((r.figure, fmt(r.value, r.unit), r.unit, fmt(r.baseline, r.unit),
                      f"{r.ratio:.2f}" if r.ratio is not None else "-", r.target,
                      result + (f" ({r.note})" if r.note else "")))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if number == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


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
        help="PostgreSQL URL for the postgres benchmark (its schema is wiped!); "
        "default $BACKCHANNEL_BENCH_DATABASE_URL",
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
        for name in chosen:
            if not args.quiet:
                print(f"{name} ...", file=sys.stderr)
            if name == "ingest":
                runner.ingest(sizes, "")
            elif name == "requests":
                runner.requests(request_sizes)
            elif name == "export":
                runner.export(sizes, "")
            elif name == "startup":
                runner.startup()
            elif name == "postgres":
                if not args.database_url:
                    runner.add(Row("postgres", "PostgreSQL", None, "", note="skipped: no URL "
                                   "(--database-url or BACKCHANNEL_BENCH_DATABASE_URL)"))  # fmt: skip
                    continue
                pg_sizes = [max(sizes)]
                runner.ingest(pg_sizes, args.database_url, group="postgres")
                runner.export(pg_sizes, args.database_url, group="postgres")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(table(runner.rows))
    print(f"\n{sum(r.ok is True for r in runner.rows)} met, {sum(r.ok is False for r in runner.rows)}"
          f" missed; {elapsed:.0f} s in all")  # fmt: skip
    results = {
        "machine": machine(),
        "command": ["python", "-m", "benchmarks", *(argv if argv is not None else sys.argv[1:])],
        "seconds": elapsed,
        "rows": [asdict(r) for r in runner.rows],
        "raw": runner.raw,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0
