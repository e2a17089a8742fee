"""The organiser's look on the default theme: an accent colour and a logo.

``[export] accent`` (and ``accent_dark`` for dark mode) recolour links, outlines and
charts on screen; each must read on its background at 4.5:1 at least (WCAG AA for text), since
links are drawn in it: a colour that would not is refused at ``export`` with its
measured contrast. ``[export] logo`` is a PNG, JPEG, WebP or GIF file (never SVG, which
can carry script) shown beside the site's title; Pillow checks that it is the image it
says and reads its size. Both go into ``assets/brand.css`` and ``assets/logo.<ext>``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from backchannel.errors import ConfigError

HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#15181c"  # the default theme's --bg
MIN_CONTRAST = 4.5
LOGO_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}
MAX_LOGO_BYTES = 512 * 1024


@dataclass(frozen=True)
class Logo:
    data: bytes = field(repr=False)  # the digest stands for it in fingerprints
    digest: str
    suffix: str  # ".png"
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"assets/logo{self.suffix}"


@dataclass(frozen=True)
class LogoView:
    """What a template needs of the logo: its path from the site's root and size."""

    src: str
    width: int
    height: int


@dataclass(frozen=True)
class Branding:
    accent: str = ""
    accent_dark: str = ""
    logo: Logo | None = None

    def stylesheet(self) -> str | None:
        """``assets/brand.css``, or None when the theme's own colours stand."""
        # Links, outlines, chart bars and notes, each in its own scheme (the light accent
        # would not read on the dark background), on screen only (print keeps black links).
        rules = []
        if self.accent:
            rules.append(f"@media screen and (prefers-color-scheme: light) {{\n  :root {{ --accent: {self.accent}; "
                         f"--link: {self.accent}; }}\n}}\n")  # fmt: skip
        if self.accent_dark:
            rules.append("@media screen and (prefers-color-scheme: dark) {\n  :root { "
                         f"--accent: {self.accent_dark}; --link: {self.accent_dark}; }}\n}}\n")  # fmt: skip
        return "/* [export] accent and accent_dark */\n" + "".join(rules) if rules else None

    def logo_view(self) -> LogoView | None:
        logo = self.logo
        return LogoView(logo.name, logo.width, logo.height) if logo else None

    @property
    def fingerprint(self) -> str:
        """Changes with anything of the look: every page links these files."""
        return f"{self.accent}|{self.accent_dark}|{self.logo.digest if self.logo else ''}"


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two ``#rgb``/``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def check_accent(path: Path, key: str, value: str, background: str, where: str) -> str:
    """``value`` as given, or a ConfigError naming the file, key and what was expected."""
    value = value.strip()
    if not value:
        return ""
    if not HEX.match(value):
        raise ConfigError(path, key, f"expected a colour such as #1f6f54, got {value!r}")
    ratio = contrast(value, background)
    if ratio < MIN_CONTRAST:
        raise ConfigError(path, key, f"expected a colour that reads on {where} "
                          f"({background}) at {MIN_CONTRAST}:1 at least, got {value} at "
                          f"{ratio:.1f}:1")  # fmt: skip
    return value.lower()


def load_logo(path: Path, key: str, file: Path) -> Logo:
    """The logo file, checked: an image Pillow reads, of a format a browser shows safely."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = file.read_bytes()
    except OSError as error:
        raise ConfigError(path, key, f"expected an image file, cannot read {file} "
                          f"({error.strerror or error})") from None  # fmt: skip
    if len(data) > MAX_LOGO_BYTES:
        raise ConfigError(path, key, f"expected a logo of {MAX_LOGO_BYTES // 1024} kB at "
                          f"most, {file} has {len(data) // 1024} kB")  # fmt: skip
    try:
        with Image.open(file) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind, width, height = None, 0, 0
    if kind not in LOGO_FORMATS or width < 1 or height < 1:
        raise ConfigError(path, key, f"expected a PNG, JPEG, WebP or GIF image, {file} "
                          "is not one")  # fmt: skip
    return Logo(data, hashlib.sha256(data).hexdigest(), LOGO_FORMATS[kind], width, height)
