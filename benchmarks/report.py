"""The benchmark report: rows, the machine's description, the printed table."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

GROUPS = ("ingest", "requests", "export", "startup")
PACKAGES = ("backchannel", "sqlalchemy", "jinja2", "nh3", "mastodon.py", "atproto",
            "psycopg", "pagefind")  # fmt: skip


@dataclass
class Row:
    group: str  # the table's section: ingest, requests, export, startup
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None  # None: reported only
    note: str = ""
    database: str = ""  # SQLite or PostgreSQL, where it matters


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


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "posts/s" or (abs(value) >= 100 and unit != "s"):
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _in_order(rows: list[Row]) -> list[Row]:
    """A group's rows as measured, each PostgreSQL row right after its SQLite twin."""
    first: dict[str, int] = {}
    for number, row in enumerate(rows):
        first.setdefault(row.figure, number)
    return sorted(rows, key=lambda r: first[r.figure])


def table(rows: list[Row], durations: dict[str, float], total: float) -> str:
    """Rows under a heading per group (with the group's duration), then the totals."""
    header = ("figure", "database", "value", "unit", "baseline", "ratio", "target", "result")
    lines: list[tuple[str, ...] | str] = []
    for group in [*GROUPS, *sorted({r.group for r in rows} - set(GROUPS))]:
        mine = [r for r in rows if r.group == group]
        if not mine:
            continue
        took = durations.get(group)
        lines.append(f"{group}" + (f" ({took:.0f} s)" if took is not None else ""))
        lines.append(header)
        for r in _in_order(mine):
            result = {True: "PASS", False: "FAIL", None: "info"}[r.ok]
            lines.append((r.figure, r.database or "-", _fmt(r.value, r.unit), r.unit,
                          _fmt(r.baseline, r.unit),
                          f"{r.ratio:.2f}" if r.ratio is not None else "-", r.target,
                          result + (f" ({r.note})" if r.note else "")))  # fmt: skip
    cells = [line for line in lines if isinstance(line, tuple)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    out = []
    for line in lines:
        if isinstance(line, str):
            out += ["", f"== {line} " + "=" * max(3, 76 - len(line))]
            continue
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if line is header:
            out.append("  ".join("-" * w for w in widths))
    met, missed = sum(r.ok is True for r in rows), sum(r.ok is False for r in rows)
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in durations.items())
    out += ["", f"{met} met, {missed} missed; {total:.0f} s in all ({spent})"]
    return "\n".join(out).lstrip("\n")
