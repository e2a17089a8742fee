"""The organiser's accent colour and logo ([export] accent, accent_dark, logo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backchannel.export.branding import contrast
from backchannel.sandbox.images import png
from tests.export_fixture import build_fixture
from tests.helpers import run_cli, write_config


def test_contrast_is_the_wcag_ratio() -> None:
    assert contrast("#000", "#ffffff") == pytest.approx(21)
    assert contrast("#1f6f54", "#fff") == pytest.approx(6.07, abs=0.01)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_the_accent_and_logo_are_on_every_page_and_every_page_follows_a_change(
    db_url: str, tmp_path: Path
) -> None:
    build_fixture(db_url).dispose()
    (tmp_path / "logo.png").write_bytes(png("logo", 120, 40))
    out = tmp_path / "site"
    config = write_config(tmp_path, db_url, '[export]\naccent = "#8A1538"\n'
                          'accent_dark = "#F4A6BC"\nlogo = "logo.png"\n')  # fmt: skip
    result = run_cli("export", "--out", str(out), config=config)
    assert result.exit_code == 0, result.output
    brand = (out / "assets" / "brand.css").read_text("utf-8")
    assert "--link: #8a1538" in brand and "--accent: #f4a6bc" in brand
    assert (out / "assets" / "logo.png").read_bytes() == (tmp_path / "logo.png").read_bytes()
    day = (out / "swrb13" / "2013-11-14.html").read_text("utf-8")
    assert '<link rel="stylesheet" href="../assets/brand.css">' in day
    assert '<img class="logo" src="../assets/logo.png" alt="" width="120" height="40">' in day
    home = (out / "index.html").read_text("utf-8")
    assert 'href="assets/brand.css"' in home and 'src="assets/logo.png"' in home
    # Without them, every page (kept pages too) goes back to the theme's own look.
    plain = write_config(tmp_path, db_url, "")
    assert run_cli("export", "--out", str(out), config=plain).exit_code == 0
    assert not (out / "assets" / "brand.css").exists()
    assert not (out / "assets" / "logo.png").exists()
    for page in (out / "swrb13").glob("*.html"):
        text = page.read_text("utf-8")
        assert "brand.css" not in text and "logo.png" not in text, page.name


@pytest.mark.parametrize(
    ("settings", "key", "said"),
    [
        ('accent = "red"', "export.accent", "expected a colour such as #1f6f54, got 'red'"),
        ('accent = "#ffee00"', "export.accent",
         "reads on the light background (#ffffff) at 4.5:1 at least, got #ffee00 at 1.2:1"),
        ('accent_dark = "#1f6f54"', "export.accent_dark",
         "reads on the dark background (#15181c) at 4.5:1 at least, got #1f6f54 at 2.9:1"),
        ('logo = "logo.svg"', "export.logo", "expected a PNG, JPEG, WebP or GIF image"),
        ('logo = "missing.png"', "export.logo", "expected an image file, cannot read"),
    ],
)  # fmt: skip
def test_a_bad_accent_or_logo_is_refused_naming_the_file_and_key(
    tmp_path: Path, settings: str, key: str, said: str
) -> None:
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "utf-8"
    )
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'a.db'}", f"[export]\n{settings}\n")
    result = run_cli("export", "--out", str(tmp_path / "site"), config=config)
    assert result.exit_code != 0
    assert f"{config}: {key}: " in result.output and said in result.output, result.output
    assert not (tmp_path / "site" / "assets").exists()
