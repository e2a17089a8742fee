"""Light on a phone (issue 34, point 6): every kind of page of the demo archive, opened
phone-sized in Chromium, makes at most 40 requests at load, keeps every lazy image's
place before it loads, and has a heading to jump by within every 15 screens.

The seconds of the budget (load in 2 s, first paint in 1 s on the throttled profile)
depend on the machine: ``python -m benchmarks --only phone`` measures them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.phone import HEIGHT, MAX_REQUESTS, measure, page_kinds
from tests.export_browser import browser, serve
from tests.helpers import REPO

pytestmark = pytest.mark.browser

SCREENS = 15  # at most this many screens without a heading

# The largest gap between headings (h1-h3) down the page, the top and bottom included.
_HEADING_GAP = """() => {
  const tops = [...document.querySelectorAll("h1, h2, h3")]
    .filter((h) => h.getClientRects().length)
    .map((h) => h.getBoundingClientRect().top + scrollY);
  const edges = [0, ...tops.sort((a, b) => a - b), document.documentElement.scrollHeight];
  let gap = 0;
  for (let i = 1; i < edges.length; i++) gap = Math.max(gap, edges[i] - edges[i - 1]);
  return gap;
}"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("phone")
    site = folder / "site"
    subprocess.run(
        [sys.executable, "-m", "backchannel", "demo", "--out", str(site), "--data",
         str(folder / "data")],
        check=True, capture_output=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    return site


def test_every_kind_of_page_keeps_the_phone_budget(demo_site: Path) -> None:
    kinds = page_kinds(demo_site, "swrs26")
    assert {"day", "person", "conversation", "session", "story", "media"} <= kinds.keys()
    with serve(demo_site) as origin, browser() as chromium:
        for kind, path in kinds.items():
            cost = measure(chromium, origin, kind, path, throttle=False)
            assert cost.requests <= MAX_REQUESTS, (kind, path, cost.requests)
            assert cost.boxless == [], (kind, path, "lazy images without a size", cost.boxless)
            page = chromium.new_page(viewport={"width": 390, "height": HEIGHT})
            page.goto(origin + path)
            gap = page.evaluate(_HEADING_GAP)
            page.close()
            assert gap <= SCREENS * HEIGHT, (kind, path, f"{gap:,.0f} px without a heading")


def test_the_budget_check_sees_what_breaks_it(tmp_path: Path) -> None:
    """A page of 60 eager images and one lazy image without a size: both are caught."""
    from backchannel.sandbox.images import png

    (tmp_path / "a.png").write_bytes(png("a", 8, 8))
    images = "".join(f'<img src="a.png?{n}" alt="" width="8" height="8">' for n in range(60))
    (tmp_path / "heavy.html").write_text(
        f'<!doctype html><title>heavy</title><h1>Heavy</h1>{images}'
        f'<div style="height:5000px"></div><img src="a.png?late" alt="" loading="lazy">',
        encoding="utf-8",
    )  # fmt: skip
    with serve(tmp_path) as origin, browser() as chromium:
        cost = measure(chromium, origin, "heavy", "heavy.html", throttle=False)
    assert cost.requests > MAX_REQUESTS
    assert cost.boxless == ["a.png?late"]
