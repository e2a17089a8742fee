"""The watcher of the browser tests catches what a page script does, without being told
to collect it: a test cannot forget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export_browser import Watch, browser, serve


def test_a_script_that_calls_print_and_leaves_the_page_is_caught(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        "<!doctype html><title>a</title>"
        "<script>print('from a hostile post'); location.href = 'b.html';</script>",
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text("<!doctype html><title>b</title><p>b</p>", "utf-8")
    with serve(tmp_path) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "a.html")
        page.wait_for_url("**/b.html")
        page.goto(origin + "b.html")  # and on: nothing of page a is left to read
        with pytest.raises(AssertionError):
            watch.assert_clean()
        assert watch.script_calls == ["print(from a hostile post)"]


def test_a_quiet_page_is_clean(tmp_path: Path) -> None:
    (tmp_path / "b.html").write_text("<!doctype html><title>b</title><p>b</p>", "utf-8")
    with serve(tmp_path) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + "b.html")
        watch.assert_clean()
