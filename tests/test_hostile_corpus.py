"""The hostile-input suite (issue 20): public XSS corpora in every field, end to end.

Every payload of the vendored corpora (972 distinct ones, see
``tests/fixtures/hostile/README.md``) is put in every field of one Mastodon status, one
Misskey note and one Bluesky post (:mod:`tests.hostile_worlds`). The sandbox serves them; the real
Mastodon.py and atproto clients collect them over HTTP; the event is exported; every
page is audited as HTML and opened in Chromium, where any dialog, trapped script call,
Content-Security-Policy violation, popup, navigation or request off the site fails.

No sampling of payloads: the whole corpus runs. Every page is audited as HTML; in
Chromium every page of a kind is opened when the kind has few pages, and every tenth
(in name order) of the kinds made per person or per thread, of which the corpus makes
thousands: each of those pages shows posts and names that the day pages and the people
page, all opened, show too, and opening all of them took twenty minutes of CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.sandbox.bluesky import BlueskySandbox
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.misskey_server import MisskeyServer
from backchannel.store import Database, Post
from tests.export_browser import Watch, browser, serve
from tests.helpers import run_cli, write_config
from tests.hostile_corpus import payloads
from tests.hostile_worlds import HOME, TAG, bluesky_world, mastodon_world, misskey_world
from tests.html_audit import Audit, audit_site

PASSWORD_ENV = "HOSTILE_BLUESKY_PASSWORD"
STUDIO_SCRIPTS = {"/static/vendor/Sortable.min.js", "/static/studio.js"}
_UNCOVER = """async () => {
  for (const details of document.querySelectorAll("details")) details.open = true;
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
    scrollTo(0, y);
    await new Promise((done) => requestAnimationFrame(done));
  }
}"""


@dataclass
class Collected:
    site: Path
    db_url: str
    output: str


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    folder = tmp_path_factory.mktemp("hostile")
    corpus = payloads()
    notes, rewrite = misskey_world(corpus)
    with (
        MastodonSandbox(mastodon_world(corpus)) as mastodon,
        BlueskySandbox(bluesky_world(corpus)) as bluesky,
        MisskeyServer(notes) as misskey,
        pytest.MonkeyPatch.context() as patch,
    ):
        misskey.rewrite_note = rewrite
        patch.setenv(PASSWORD_ENV, bluesky.app_password)
        db_url = f"sqlite:///{folder / 'hostile.db'}"
        config = write_config(
            folder, db_url,
            f"[archive]\nsite_dir = '{folder / 'site'}'\nmedia_dir = '{folder / 'media'}'\n"
            f'[bluesky]\nservice = "{bluesky.base_url}"\nhandle = "{bluesky.handle}"\n'
            f'app_password_env = "{PASSWORD_ENV}"\n',
        )  # fmt: skip
        assert run_cli("init", config=config).exit_code == 0
        added = run_cli(
            "event", "add", "hostile", "--title", "Hostile", "--hashtag", TAG,
            "--start", "2026-03-12", "--end", "2026-03-13", "--timezone", "UTC",
            "--mastodon", mastodon.instances[HOME].base_url, "--mastodon", misskey.base_url,
            "--bluesky", config=config,
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        result = run_cli("collect", "hostile", "--no-media", config=config)
        assert result.exit_code == 0, result.output
        exported = run_cli("export", "hostile", config=config)
        assert exported.exit_code == 0, exported.output
        yield Collected(folder / "site", db_url, result.output)


def test_every_hostile_post_is_collected(collected: Collected) -> None:
    db = Database(collected.db_url)
    try:
        with db.reading() as session:
            query = select(Post.platform, func.count(Post.id)).group_by(Post.platform)
            counts = dict(session.execute(query).all())  # type: ignore[arg-type]
    finally:
        db.dispose()
    # Misskey's notes are fediverse posts: the platform "mastodon", as a status's.
    assert counts == {"mastodon": 2 * len(payloads()), "bluesky": len(payloads())}, collected.output


def test_no_page_holds_anything_executable_or_remote(collected: Collected) -> None:
    assert audit_site(collected.site) == []


def _kind(relative: str) -> str:
    """A page's kind: its file name up to the first hyphen or digit (``person``, ``day``)."""
    return re.split(r"[-0-9.]", relative.rsplit("/", 1)[-1], maxsplit=1)[0]


def _pages_to_open(pages: list[str], many: int = 50, stride: int = 10) -> list[str]:
    by_kind: dict[str, list[str]] = {}
    for relative in pages:
        by_kind.setdefault(_kind(relative), []).append(relative)
    chosen = [
        p for group in by_kind.values() for p in (group[::stride] if len(group) > many else group)
    ]
    return sorted(chosen)


@pytest.mark.browser
def test_no_payload_runs_or_reaches_out_in_chromium(collected: Collected) -> None:
    site = collected.site
    every = sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if "pagefind" not in p.parts
    )
    pages = _pages_to_open(every)
    assert len(pages) > 5
    assert {_kind(p) for p in pages} == {_kind(p) for p in every}
    with serve(site) as origin, browser() as chromium:
        page = chromium.new_page()
        watch = Watch(origin)
        watch.attach(page)
        for relative in pages:
            page.goto(origin + relative, wait_until="load")
            # Open every warning and reveal every image, then scroll through the page so
            # that lazy images load: whatever a reader can uncover is uncovered.
            page.evaluate(_UNCOVER)
            watch.collect(page, "/" + relative)
        page.goto(origin + "hostile/search.html?q=alert")
        page.wait_for_selector(
            "#search-status:has-text('result'), #search-status:has-text('Nothing')"
        )
        watch.collect(page)
    watch.assert_clean()


def test_every_payload_is_inert_in_the_studios_pages(collected: Collected) -> None:
    """The same posts in the studio: every page of the post browser, and a story that
    holds a hundred of them, audited as HTML (the studio's own scripts only)."""
    from sqlalchemy import select
    from starlette.testclient import TestClient

    from backchannel.curation import import_story
    from backchannel.studio import create_app

    db = Database(collected.db_url)
    try:
        with db.writing() as session:
            uris = session.scalars(select(Post.uri).order_by(Post.id).limit(100)).all()
            body = "\n\n".join(uris)
            import_story(session, f"---\ntitle: T\nslug: t\nevent: hostile\n---\n\n{body}\n")
        client = TestClient(create_app(db, "token", 8765), base_url="http://127.0.0.1:8765")
        with client:
            assert client.get("/login?token=token").status_code == 200
            problems, pages = [], ["/events/hostile/stories/t"]
            total = 2 * len(payloads())
            pages += [f"/events/hostile/posts?page={n}" for n in range(1, total // 50 + 2)]
            for path in pages:
                page = client.get(path)
                assert page.status_code == 200, path
                audit = Audit(path, STUDIO_SCRIPTS)
                audit.feed(page.text)
                problems += audit.problems
            assert "posts, page 2" in client.get("/events/hostile/posts?page=2").text
        assert problems == []
    finally:
        db.dispose()
