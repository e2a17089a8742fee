"""A preview card drawn at export time, for a story none of whose posts has a picture
kept in the archive and for each event: 1200x630 PNG (what Open Graph and Twitter's
large cards show), the title on the archive's accent colour, what it belongs to above
and who made it beneath.

Drawn with Pillow in a font found on the machine (DejaVu Sans, as Debian's
``fonts-dejavu-core`` installs it, else Liberation Sans or Noto Sans): Pillow's own
font lacks most accented letters ("Ā", "ü"), and a card that drops letters of a name
is worse than none. Without such a font no card is drawn (the page keeps its text
card), and ``export`` says so once.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
DEFAULT_ACCENT = "#1f6f54"  # the default theme's accent (white reads on it at 6:1)
FONTS = {
    "bold": ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "NotoSans-Bold.ttf"),
    "regular": ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "NotoSans-Regular.ttf"),
}


@lru_cache(maxsize=16)
def _font(weight: str, size: int) -> Any:
    """The first of FONTS[weight] Pillow finds (it looks in the system's font folders)."""
    from PIL import ImageFont

    for name in FONTS[weight]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return None


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether cards can be drawn here; said once a process when they cannot."""
    found = _font("bold", 64) is not None and _font("regular", 34) is not None
    if not found:
        log.warning("no font to draw story cards with (install fonts-dejavu-core): a story "
                    "without a picture is shared with its text only")  # fmt: skip
    return found


def _lines(text: str, font: Any, width: int, most: int) -> list[str]:
    """``text`` wrapped to ``width`` pixels in at most ``most`` lines, "…" if cut."""
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        while font.getlength(word) > width:  # a word wider than the card: cut it
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > most:
        last = lines[most - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1].rstrip()
        lines = lines[: most - 1] + [last + "…"]
    return lines


def draw_card(title: str, event: str, byline: str, accent: str = "") -> bytes | None:
    """The card as PNG bytes, or None without a font (see :func:`available`)."""
    from PIL import Image, ImageDraw

    if not available():
        return None
    bold, regular = _font("bold", 64), _font("regular", 34)
    image = Image.new("RGB", (WIDTH, HEIGHT), accent or DEFAULT_ACCENT)
    pen = ImageDraw.Draw(image)
    width = WIDTH - 2 * MARGIN
    y = MARGIN
    for line in _lines(event, regular, width, 1):
        pen.text((MARGIN, y), line, font=regular, fill="#ffffff")
        y += 52
    y += 28
    for line in _lines(title, bold, width, 4):
        pen.text((MARGIN, y), line, font=bold, fill="#ffffff")
        y += 80
    for line in _lines(byline, regular, width, 1):
        pen.text((MARGIN, HEIGHT - MARGIN - 40), line, font=regular, fill="#ffffff")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def write_card(writer: Any, site: Any, path: str, title: str, top: str, byline: str) -> str | None:
    """Draw a card into the site at ``path`` (from its root) and return ``path``; None
    without a base URL (no preview would ever fetch it) or without a font."""
    if not site.base_url:
        return None
    drawn = draw_card(title, top, byline, site.accent)
    if drawn is None:
        return None
    writer.write(path, drawn)
    return path
