"""``backchannel serve`` (issue 33): an exported archive on 127.0.0.1, read-only, with
the archive's CSP and the content types Pagefind needs; its search works in Chromium."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from backchannel.export import ExportOptions, export_site
from tests.export_browser import Watch, browser
from tests.export_fixture import WORDS, build_fixture
from tests.test_kill_resume import SCRIPT


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(site: Path) -> Iterator[str]:
    port = _port()
    child = subprocess.Popen([str(SCRIPT), "serve", str(site), "--port", str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    origin = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(200):
            try:
                httpx.get(origin, timeout=1)
                break
            except httpx.TransportError:
                assert child.poll() is None, child.stdout.read() if child.stdout else ""
                time.sleep(0.05)
        yield origin
    finally:
        child.terminate()
        child.wait(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serve")
    database = build_fixture(f"sqlite:///{folder / 'a.db'}")
    try:
        export_site(database, ExportOptions(out=folder / "site"))
    finally:
        database.dispose()
    return folder / "site"


def test_serve_answers_read_only_with_the_archives_policy_and_types(site: Path) -> None:
    with _serving(site) as origin, httpx.Client(base_url=origin, timeout=5) as client:
        home = client.get("/")
        assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
        policy = home.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert home.headers["x-content-type-options"] == "nosniff"
        assert client.get("/swrb13/").status_code == 200  # a folder's index.html
        meta = next(p for p in (site / "pagefind").iterdir() if p.suffix == ".pf_meta")
        assert client.get(f"/pagefind/{meta.name}").headers["content-type"] == (
            "application/octet-stream"
        )
        assert (
            client.get("/swrb13/posts.jsonl")
            .headers["content-type"]
            .startswith("application/x-ndjson")
        )
        assert client.post("/index.html").status_code == 405
        assert client.get("/pagefind/").status_code == 404  # no listing
        outside = client.get("/%2e%2e/a.db")
        assert outside.status_code == 404 and b"SQLite" not in outside.content


@pytest.mark.browser
def test_the_served_archives_search_works_in_chromium(site: Path) -> None:
    with _serving(site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        page.goto(origin + f"swrb13/search.html?q={WORDS['searchable']}")
        expect(page.locator("#search-status")).to_contain_text("result")
        assert page.locator("#search-results a").count() >= 1
        watch.collect(page)
    watch.assert_clean()


def test_serve_refuses_a_folder_without_an_archive(tmp_path: Path) -> None:
    done = subprocess.run([str(SCRIPT), "serve", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert "holds no exported archive (no index.html)" in done.stderr
