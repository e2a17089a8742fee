"""Plain-text tables for listing commands: readable in a terminal and in a log."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Sequence


def terminal_width() -> int:
    """The terminal's width in columns ($COLUMNS, else the terminal, else 80)."""
    return shutil.get_terminal_size((80, 24)).columns


def _width(text: str) -> int:
    # East Asian wide characters take two columns; combining marks none.
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, ending in an ellipsis when cut."""
    if _width(text) <= width:
        return text
    kept = ""
    for ch in text:
        if _width(kept + ch) > width - 1:
            break
        kept += ch
    return kept.rstrip() + "\u2026"


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    right: Sequence[int] = (),
    max_width: int | None = None,
    shrink: int | None = None,
) -> str:
    """Columns padded to their widest cell; ``right`` lists numeric columns to align right.

    With ``max_width``, the cells of column ``shrink`` are cut (with an ellipsis) so that
    the table fits; the other columns keep their width.
    """
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    if max_width is not None and shrink is not None:
        total = sum(widths) + 2 * (len(widths) - 1)
        if total > max_width:
            room = max(len(headers[shrink]), widths[shrink] - (total - max_width), 8)
            for row in cells[1:]:
                row[shrink] = cut(row[shrink], room)
            widths[shrink] = max(_width(row[shrink]) for row in cells)

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths).rstrip()
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
