"""A post's words made short for quoting it elsewhere: a reply's parent, a most
answered post, a search result."""

from __future__ import annotations

import re

# A custom emoji's shortcode (``:wave:``): text where no image can stand for it.
SHORTCODE = re.compile(r"(?<![\w:]):[A-Za-z0-9_]{2,}:(?![\w:])")


def without_shortcodes(text: str) -> str:
    """``text`` without custom emoji shortcodes (then with its spaces made single);
    a text with no colon at all is given back as it is."""
    return " ".join(SHORTCODE.sub("", text).split()) if ":" in text else text


def first_line(text: str, limit: int = 100) -> str:
    """A post's first line, cut at a word near ``limit`` characters ("…" when cut),
    without custom emoji shortcodes (``:wave:``: no image to show them in a quote)."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = " ".join(without_shortcodes(line).split())
    if len(line) <= limit:
        return line
    cut = line[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
