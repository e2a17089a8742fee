"""Bar charts as plain geometry; the theme's ``_chart.html`` draws them as inline SVG.

Each chart carries a title, a one-sentence description and the data table behind it,
so a screen reader (and a reader of the printed page) gets the numbers, not a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float  # where a horizontal chart writes the label and the value
    label_y: float


@dataclass(frozen=True, slots=True)
class Tick:
    text: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Chart:
    id: str  # unique on the page; the SVG's title and desc ids derive from it
    title: str
    description: str
    horizontal: bool
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    label_header: str  # the data table's column headings
    value_header: str
    rows: tuple[tuple[str, int], ...]
    axes: tuple[tuple[float, float, float, float], ...] = ()  # lines: x1, y1, x2, y2


def horizontal_bars(
    chart_id: str,
    title: str,
    data: Sequence[tuple[str, int]],
    label_header: str,
    value_header: str = "Posts",
) -> Chart:
    """One bar per row, labelled on the left, value at the bar's end."""
    width, label_w, row_h, gap = 640, 170, 26, 8
    top = max((v for _, v in data), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(data):
        y = gap + i * (row_h + gap)
        length = (width - label_w - 70) * value / top
        bars.append(
            Bar(label, value, label_w, y, round(length, 2), row_h, label_w + length + 6, y + 18)
        )
    total = sum(v for _, v in data)
    parts = [f"{label} {_share(v, total)}" for label, v in data[:5]]
    description = (
        f"{title}: " + ", ".join(parts) + ("; more in the table." if len(data) > 5 else ".")
        if data
        else f"{title}: no posts."
    )
    height = gap + len(data) * (row_h + gap) + gap
    return Chart(chart_id, title, description, True, width, max(height, 40), tuple(bars), (),
                 label_header, value_header, tuple(data))  # fmt: skip


def vertical_bars(
    chart_id: str,
    title: str,
    data: Sequence[tuple[str, int]],
    ticks: Sequence[tuple[int, str]],
    label_header: str,
    value_header: str = "Posts",
) -> Chart:
    """Many narrow bars (posts per hour); ``ticks`` label chosen bars by index."""
    plot_h, bottom, left = 180, 40, 40
    step = max(4.0, min(24.0, 900 / max(len(data), 1)))
    width = int(left + step * len(data) + 10)
    top = max((v for _, v in data), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(data):
        h = plot_h * value / top
        x = left + i * step
        bars.append(Bar(label, value, round(x, 2), round(10 + plot_h - h, 2),
                        round(step * 0.8, 2), round(h, 2), x, 0))  # fmt: skip
    tick_views = [Tick(text, round(left + i * step, 2), 10 + plot_h + 16) for i, text in ticks]
    # The value axis: its top and zero written beside it; the time axis along the foot.
    tick_views += [Tick(str(top), 2, 20), Tick("0", 2, 10 + plot_h)]
    axes = ((left - 4, 10, left - 4, 10 + plot_h), (left - 4, 10 + plot_h, width, 10 + plot_h))
    busiest = max(data, key=lambda row: row[1]) if data else None
    description = (
        f"{title}, {len(data)} hours in all; the busiest was {busiest[0]} with {busiest[1]} posts."
        if busiest and busiest[1]
        else f"{title}: no posts."
    )
    return Chart(chart_id, title, description, False, max(width, 200), plot_h + bottom + 10,
                 tuple(bars), tuple(tick_views), label_header, value_header, tuple(data),
                 axes)  # fmt: skip


def _share(value: int, total: int) -> str:
    return f"{round(100 * value / total)}%" if total else "0%"
