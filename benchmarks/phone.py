"""The archive as attendees read it: one page of each kind in Chromium on a phone.

The profile is issue 34's: a 390x844 screen, 150 ms latency, 1.6 Mbit/s down, the CPU
four times slower (CDP ``Network.emulateNetworkConditions`` and
``Emulation.setCPUThrottlingRate``). The budget: at most 40 requests at load, loaded
in 2 s, first paint within 1 s. The request count and the images' boxes do not depend
on the machine and are held by ``tests/test_phone_budget.py``; the times do, and are
measured here, against an empty page served the same way (the profile's own cost).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 390, 844
LATENCY_MS = 150
DOWN_BPS, UP_BPS = 1_600_000, 750_000
CPU_SLOWDOWN = 4
MAX_REQUESTS, MAX_LOAD_S, MAX_FIRST_PAINT_S = 40, 2.0, 1.0
EMPTY = "phone-empty.html"


@dataclass
class PageCost:
    kind: str
    path: str
    requests: int  # made before the load event (lazy images below the fold are not)
    kilobytes: float  # their bodies, as sent
    load: float  # seconds to the load event
    first_paint: float  # seconds to the first contentful paint
    height: int  # the page's height at 390 px, in px
    boxless: list[str]  # lazy images without a box before they load (the page will jump)


def page_kinds(site: Path, slug: str) -> dict[str, str]:
    """One page of each kind in the archive, busiest where it matters: the day page
    with the most posts, the largest session, thread and person pages."""
    event = site / slug

    def biggest(pattern: str) -> str | None:
        found = sorted(event.glob(pattern), key=lambda p: (-p.stat().st_size, p.name))
        return f"{slug}/{found[0].name}" if found else None

    days = [p for p in event.glob("20*.html")]
    kinds = {
        "home": "index.html",
        "overview": f"{slug}/index.html",
        "day": f"{slug}/{max(days, key=lambda p: (p.stat().st_size, p.name)).name}"
        if days
        else None,
        "timeline": f"{slug}/timeline.html",
        "people": f"{slug}/people.html",
        "person": biggest("person-*.html"),
        "conversation": biggest("thread-*.html"),
        "session": biggest("session-*.html"),
        "media": f"{slug}/media.html",
        "links": f"{slug}/links.html",
        "statistics": f"{slug}/stats.html",
        "search": f"{slug}/search.html",
        "about": f"{slug}/about.html",
        "story": biggest("story-*[!d].html"),
    }
    return {kind: path for kind, path in kinds.items() if path and (site / path).is_file()}


_FIRST_PAINT = """() => new Promise((done) => {
  const seen = performance.getEntriesByName("first-contentful-paint");
  if (seen.length) return done(seen[0].startTime);
  new PerformanceObserver((list) => {
    const entry = list.getEntriesByName("first-contentful-paint")[0];
    if (entry) done(entry.startTime);
  }).observe({ type: "paint", buffered: true });
  setTimeout(() => done(-1), 3000);
})"""

# Lazy images the browser has not loaded yet: each should hold its place already.
_BOXLESS = """() => [...document.querySelectorAll('img[loading="lazy"]')]
  .filter((img) => !img.complete && img.getBoundingClientRect().height < 1)
  .map((img) => img.getAttribute("src"))"""


def measure(browser: Any, origin: str, kind: str, path: str, throttle: bool = True) -> PageCost:
    """Open ``path`` in a fresh phone-sized context (nothing cached) and say its cost."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        if throttle:
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": LATENCY_MS,
                "downloadThroughput": DOWN_BPS / 8, "uploadThroughput": UP_BPS / 8,
            })  # fmt: skip
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        done: list[Any] = []
        page.on("requestfinished", lambda request: done.append(request))
        page.on("requestfailed", lambda request: done.append(request))
        page.goto(origin + path, wait_until="load")
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        first_paint = page.evaluate(_FIRST_PAINT)
        requests = list(done)  # those made by the load event (and its first paint)
        size = 0
        for request in requests:
            sizes = request.sizes()
            size += sizes.get("responseBodySize", 0) + sizes.get("responseHeadersSize", 0)
        return PageCost(
            kind=kind,
            path=path,
            requests=len(requests),
            kilobytes=size / 1024,
            load=loaded / 1000,
            first_paint=first_paint / 1000,
            height=page.evaluate("document.documentElement.scrollHeight"),
            boxless=page.evaluate(_BOXLESS),
        )
    finally:
        context.close()


def task_phone(args: dict[str, Any]) -> dict[str, Any]:
    """Each kind of page of the site at ``args["site"]`` (event ``args["slug"]``),
    ``args["runs"]`` times, throttled; the empty page's cost beside them."""
    from playwright.sync_api import sync_playwright

    from tests.export_browser import CHROMIUM, CHROMIUM_ARGS, serve

    site = Path(args["site"])
    (site / EMPTY).write_text("<!doctype html><title>empty</title><p>.</p>\n", encoding="utf-8")
    kinds = {"empty page": EMPTY, **page_kinds(site, args["slug"])}
    out: dict[str, Any] = {}
    with serve(site) as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for kind, path in kinds.items():
                runs = [measure(browser, origin, kind, path) for _ in range(args.get("runs", 3))]
                cost = asdict(runs[0])
                cost["load"] = statistics.median(r.load for r in runs)
                cost["first_paint"] = statistics.median(r.first_paint for r in runs)
                out[kind] = cost
        finally:
            browser.close()
    return out


def phone(runner: Any) -> None:
    """The demo archive (``backchannel demo``, offline) read on the phone profile."""
    import subprocess
    import sys
    import time

    from benchmarks.report import Row

    started = time.perf_counter()
    site, data = runner.work / "phone-site", runner.work / "phone-data"
    subprocess.run(
        [sys.executable, "-m", "backchannel", "demo", "--out", str(site), "--data", str(data)],
        check=True, capture_output=True,
    )  # fmt: skip
    runner.timed("phone", started)
    got = runner.task("phone", "phone", site=str(site), slug="swrs26", runs=3)
    empty = got.pop("empty page")
    for kind, cost in got.items():
        note = f"{cost['path']}, {cost['kilobytes']:.0f} kB, {cost['height']:,} px tall"
        runner.add(Row("phone", f"{kind}: requests at load", cost["requests"], "",
                       empty["requests"], None, f"<= {MAX_REQUESTS}",
                       cost["requests"] <= MAX_REQUESTS, note))  # fmt: skip
        runner.add(Row("phone", f"{kind}: load", cost["load"], "s", empty["load"],
                       cost["load"] / empty["load"], f"<= {MAX_LOAD_S:g} s",
                       cost["load"] <= MAX_LOAD_S, "baseline: an empty page, same profile"))  # fmt: skip
        runner.add(Row("phone", f"{kind}: first paint", cost["first_paint"], "s",
                       empty["first_paint"], cost["first_paint"] / empty["first_paint"],
                       f"<= {MAX_FIRST_PAINT_S:g} s", 0 <= cost["first_paint"] <= MAX_FIRST_PAINT_S))  # fmt: skip
