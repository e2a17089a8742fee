"""The studio under test: the real application behind Starlette's test client, its
token, and helpers for signing in, accounts and the exporter's runs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from backchannel.config import load_config
from backchannel.store import Database, utcnow
from backchannel.studio import create_app, make_link
from tests.export_fixture import build_fixture
from tests.helpers import run_cli, write_config

TOKEN = "a-secret-made-at-start"
STUDIO_SCRIPTS = {"/static/vendor/Sortable.min.js", "/static/studio.js"}
ORIGIN = "http://127.0.0.1:8765"


@dataclass
class Studio:
    client: TestClient
    db: Database

    def login(self) -> None:
        """Sign in with a new link (a link works once), as `backchannel studio link`."""
        with self.db.writing() as session:
            token = make_link(session, utcnow())
        answer = self.client.get(f"/login?token={token}")
        assert answer.status_code == 303 and answer.headers["location"] == "/"

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        return found.group(1)

    def revision(self, path: str) -> int:
        found = re.search(r'name="revision" value="(\d+)"', self.client.get(path).text)
        assert found is not None
        return int(found.group(1))

    def change(self, path: str, **form: str) -> httpx.Response:
        fields = {"csrf": self.csrf(path), "revision": str(self.revision(path)), **form}
        return self.client.post(path, data=fields)


def make_studio(db: Database, origin: str = ORIGIN) -> Studio:
    client = TestClient(create_app(db, TOKEN, 8765), base_url=origin, follow_redirects=False)
    return Studio(client, db)


def configured(db: Database, config: Path) -> Studio:
    """A studio with the archive's settings: preview, publish and the organiser's pages."""
    app = create_app(db, TOKEN, 8765, config=load_config(config))
    return Studio(TestClient(app, base_url=ORIGIN, follow_redirects=False), db)


@pytest.fixture
def organising(db_url: str, tmp_path: Path) -> Iterator[Studio]:
    """A studio with the archive's settings over the fixture, its site in tmp_path/site
    (on SQLite, and on PostgreSQL where the tests have one)."""
    url = db_url
    db = build_fixture(url)
    running = configured(
        db, write_config(tmp_path, url, f"[archive]\nsite_dir = '{tmp_path / 'site'}'\n")
    )
    with running.client:
        yield running
    db.dispose()


@pytest.fixture
def studio(db_url: str) -> Iterator[Studio]:
    db = build_fixture(db_url)
    running = make_studio(db)
    with running.client:
        yield running
    db.dispose()


STORIES = "/events/swrb13/stories"
EDITOR = "/events/swrb13/stories/notes"


def new_story(studio: Studio) -> None:
    made = studio.client.post(
        STORIES, data={"csrf": studio.csrf(STORIES), "title": "Notes", "slug": "notes"}
    )
    assert made.status_code == 303 and made.headers["location"] == EDITOR


def add_account(studio: Studio, config: Path, name: str, role: str) -> None:
    added = run_cli("studio", "user", "add", name, "--role", role, config=config,
                    input="a long enough secret\na long enough secret\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output.strip().endswith(f"added {name} ({role})")


def sign_in(studio: Studio, name: str, password: str = "a long enough secret") -> int:
    form = {"csrf": studio.csrf("/login"), "name": name, "password": password}
    return studio.client.post("/login", data=form).status_code


@pytest.fixture
def with_accounts(db_url: str, tmp_path: Path) -> Iterator[tuple[Studio, Path]]:
    url = db_url
    db = build_fixture(url)
    config = write_config(tmp_path, url)
    running = make_studio(db)
    with running.client:
        yield running, config
    db.dispose()


def until_done(studio: Studio, kind: str) -> str:
    for _ in range(200):
        page = studio.client.get(f"/events/swrb13/{kind}").text
        if "Done:" in page or 'role="alert"' in page:
            return page
        time.sleep(0.05)
    raise AssertionError(f"the {kind} did not finish")


def open_when_up(client: httpx.Client, link: str, **headers: str) -> httpx.Response:
    """The studio's sign-in link, opened once its server listens (within 5 s)."""
    for _ in range(50):
        try:
            return client.get(link, follow_redirects=True, headers=headers)
        except httpx.ConnectError:
            time.sleep(0.1)
    return client.get(link, follow_redirects=True, headers=headers)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def backchannel(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """The `backchannel` command of this environment, run apart, its output in a pipe."""
    script = Path(sys.executable).with_name("backchannel")
    env = {k: v for k, v in os.environ.items() if k != "BACKCHANNEL_CONFIG"}
    return subprocess.Popen([str(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)  # fmt: skip


@contextmanager
def served(config: Path, *args: str) -> Iterator[tuple[int, str]]:
    """`backchannel studio` itself on a free port: the port and the link it printed."""
    port = free_port()
    child = backchannel("--config", str(config), "studio", "--port", str(port),
                        "--no-browser", *args)  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        link = re.search(r"http://127\.0\.0\.1:\d+/login\?token=\S+", line)
        assert link is not None, line
        yield port, link.group(0)
    finally:
        child.terminate()
        child.wait(10)
