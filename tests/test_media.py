"""Media preservation over real HTTP: a loopback media server serving crafted files
(good, duplicate, 404, oversized, wrong type, disguised, slow, dropped, flaky), real
databases, the content-addressed store, and the exporter using only local copies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.config import Config, load_config
from backchannel.consent.rule import Policy
from backchannel.export import ExportOptions, export_site
from backchannel.media.fetch import fetch_media, media_backlog
from backchannel.sandbox.httpbase import Fault, Request, Response, SandboxServer
from backchannel.sandbox.images import png
from backchannel.sanitize.clean import clean_post_html
from backchannel.store.db import Database
from backchannel.store.models import EventSource, Media, Post
from backchannel.store.writer import save_page
from tests.factories import author, page, post, registered_event
from tests.helpers import run_cli, write_config

PICTURE = png("picture", 40, 30)
OTHER = png("other", 20, 20)
BIG = png("big", 400, 400) + b"\0" * 6000  # a PNG well over the test's 4000-byte cap


class MediaServer(SandboxServer):
    """Serves crafted media files for these tests only."""

    name = "media"

    def routes(self) -> None:
        files = {
            "/a.png": (PICTURE, "image/png"),
            "/copy-of-a.png": (PICTURE, "image/png"),  # same bytes, another URL
            "/b.png": (OTHER, "image/png"),
            "/avatar.png": (OTHER, "image/png"),
            "/emoji.png": (png("emoji", 16, 16), "image/png"),
            "/big.png": (BIG, "image/png"),
            "/page.html": (b"<html><script>alert(1)</script></html>", "text/html"),
            "/fake.png": (b"<svg onload=alert(1)></svg>" + b" " * 40, "image/png"),
            "/drop.png": (png("drop", 64, 64), "image/png"),
            "/flaky.png": (png("flaky", 10, 10), "image/png"),
            "/thumb.png": (png("thumb", 12, 12), "image/png"),
        }
        for path, (body, kind) in files.items():
            self.route("GET", path, lambda _r, b=body, k=kind: Response(200, b, content_type=k))
        self.route("GET", "/slow.png", self._slow)
        self.slow_seconds = 2.0

    def _slow(self, request: Request) -> Response:
        time.sleep(self.slow_seconds)
        return Response(200, png("slow", 8, 8), content_type="image/png")


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with MediaServer() as running:
        yield running  # type: ignore[misc]


def _config(folder: Path, db_url: str) -> Config:
    extra = (
        '[archive]\nmedia_dir = "media"\n'
        "[media]\nmax_bytes = 4000\ntimeout = 0.5\nretries = 2\nconcurrency = 3\n"
        '[collect]\nbackoff_cap = 0.05\nuser_agent = "bc-tests (+https://tests.example/)"\n'
    )
    return load_config(write_config(folder, db_url, extra))


def _store_posts(db: Database, base: str) -> None:
    """Posts whose media, avatar and emoji point at the media server."""
    who = author(avatar_url=f"{base}/avatar.png", emojis=(("blob", f"{base}/emoji.png"),))

    def with_media(n: int, *names: str, kind: str = "image", preview: str | None = None):  # type: ignore[no-untyped-def]
        media = tuple(
            replace(
                post(0).media[0],
                kind=kind,
                url=f"{base}/{name}",
                alt=f"alt of {name}",
                preview_url=f"{base}/{preview}" if preview else None,
            )
            for name in names
        )
        emojis = {"blob": f"{base}/emoji.png"}
        html = clean_post_html(f"<p>post {n} :blob: #swrs26</p>", emojis)
        return post(n, who, media=media, html=html, emojis=tuple(emojis.items()))

    posts = [
        with_media(1, "a.png", "b.png"),
        with_media(2, "copy-of-a.png"),  # the same image in a second post
        with_media(3, "missing.png"),
        with_media(4, "big.png"),
        with_media(5, "page.html"),
        with_media(6, "fake.png"),
        with_media(7, "slow.png"),
        with_media(8, "drop.png"),
        with_media(9, "flaky.png"),
        with_media(10, "big.png", preview="thumb.png"),  # too big, but has a preview
    ]
    with db.writing() as session:
        source = session.scalar(select(EventSource))
        save_page(session, source, "swrs26", page(posts), Policy())


def _rows(db: Database) -> dict[str, Media]:
    """Media rows keyed "N:file" (N: the number in the post's URI) or "kind:file"."""
    with db.reading() as session:
        numbers = {
            pid: uri.rsplit("/", 1)[-1] for pid, uri in session.execute(select(Post.id, Post.uri))
        }
        rows = session.scalars(select(Media).order_by(Media.id)).all()
        session.expunge_all()
    found: dict[str, Media] = {}
    for row in rows:
        name = (row.remote_url or "").rsplit("/", 1)[-1]
        owner = row.kind if row.kind in ("avatar", "emoji") else numbers[row.post_id]
        found[f"{owner}:{name}"] = row
    return found


@pytest.fixture
def setup(tmp_path: Path, db_url: str, server: MediaServer):  # type: ignore[no-untyped-def]
    config = _config(tmp_path, db_url)
    db = Database(config.database_url)
    db.init()
    registered_event(db)
    _store_posts(db, server.base_url)
    yield config, db, server
    db.dispose()


def test_media_fetch_handles_every_kind_of_download(setup) -> None:  # type: ignore[no-untyped-def]
    config, db, server = setup
    server.faults.add(Fault("drop", times=1, path="/drop.png"))
    server.faults.add(Fault("status", status=500, times=1, path="/flaky.png"))
    calls: list[tuple[int, int]] = []
    result = fetch_media(db, config, "swrs26", progress=lambda d, t: calls.append((d, t)))
    rows = _rows(db)
    media_dir = config.media_dir

    # Good files: content-addressed, written whole; the same image in two posts once.
    a, copy = rows["1:a.png"], rows["2:copy-of-a.png"]
    assert a.fetch_state == copy.fetch_state == "done"
    assert a.sha256 == copy.sha256 and a.local_path == copy.local_path
    assert a.local_path == f"{a.sha256[:2]}/{a.sha256}.png"
    assert (media_dir / a.local_path).read_bytes() == PICTURE
    stored = [p for p in media_dir.rglob("*.png")]
    assert len([p for p in stored if p.read_bytes() == PICTURE]) == 1
    assert not list((media_dir / ".tmp").glob("*")), "no temp file left behind"
    # Avatars and custom emoji are kept too (one emoji row, shared by URL).
    assert rows["avatar:avatar.png"].fetch_state == "done"
    assert rows["avatar:avatar.png"].sha256 == rows["1:b.png"].sha256
    assert rows["emoji:emoji.png"].fetch_state == "done"

    # 404: failed now, retried later; alt text kept.
    missing = rows["3:missing.png"]
    assert (missing.fetch_state, missing.fetch_attempts) == ("failed", 1)
    assert "404" in (missing.fetch_error or "") and missing.alt == "alt of missing.png"
    # Oversized and wrong types: refused, nothing stored, not retried automatically.
    for key, reason in (
        ("4:big.png", "limit"),
        ("5:page.html", "text/html"),
        ("6:fake.png", "bytes"),
    ):
        row = rows[key]
        assert row.fetch_state == "failed" and reason in (row.fetch_error or ""), (
            key,
            row.fetch_error,
        )
        assert row.local_path is None
    # A refused original falls back to its preview.
    assert rows["10:big.png"].fetch_state == "done"
    assert "smaller copy" in (rows["10:big.png"].fetch_error or "")
    # Slow (past the timeout on every try): failed, to be retried.
    assert rows["7:slow.png"].fetch_state == "failed"
    assert "timed out" in (rows["7:slow.png"].fetch_error or "")
    # A dropped connection and a 500 are retried within the run and succeed.
    assert rows["8:drop.png"].fetch_state == "done"
    assert (media_dir / rows["8:drop.png"].local_path).read_bytes() == png("drop", 64, 64)
    assert rows["9:flaky.png"].fetch_state == "done"
    assert len(server.requests_to("/drop.png")) == 2
    assert len(server.requests_to("/a.png")) == len(server.requests_to("/copy-of-a.png")) == 1

    assert result.due == 13 and result.refused == 3 and result.failed == 2
    assert calls and calls[-1] == (13, 13)
    with db.reading() as session:
        assert media_backlog(session) == 2  # the 404 and the slow one wait for a retry

    # Next run: nothing is due yet (backoff); with --retry the 404 becomes gone for good.
    again = fetch_media(db, config, "swrs26")
    assert again.due == 0 and again.requests == 0
    server.slow_seconds = 0.0
    retried = fetch_media(db, config, "swrs26", retry_failed=True)
    rows = _rows(db)
    assert rows["3:missing.png"].fetch_state == "gone"
    assert rows["7:slow.png"].fetch_state == "done"
    assert rows["4:big.png"].fetch_state == "failed"  # still too big
    assert retried.gone == 1
    with db.reading() as session:
        assert media_backlog(session) == 0

    # The archive uses only local copies: placeholders and alt text for the rest.
    out = config.base_dir / "site"
    export_site(db, replace(ExportOptions.from_config(config, out=out)), ("swrs26",))
    pages = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
    assert server.base_url not in pages, "no remote media in the archive"
    assert f"media/{a.sha256[:2]}/{a.sha256}.png" in pages
    assert (out / "media" / a.sha256[:2] / f"{a.sha256}.png").read_bytes() == PICTURE
    assert "alt of missing.png" in pages and "assets/media.svg" in pages
    emoji = rows["emoji:emoji.png"]
    assert f"media/{emoji.sha256[:2]}/{emoji.sha256}.png" in pages  # emoji kept locally


def test_media_fetch_cli_shows_a_summary(setup) -> None:  # type: ignore[no-untyped-def]
    config, _db, _server = setup
    result = run_cli("media", "fetch", "swrs26", config=config.path)
    assert result.exit_code == 0, result.output
    assert "media: 13 due" in result.output and "refused" in result.output
    help_text = run_cli("media", "fetch", "--help").output
    assert "Example:" in help_text


def test_one_media_url_that_cannot_be_fetched_never_stops_the_others(  # type: ignore[no-untyped-def]
    setup, caplog: pytest.LogCaptureFixture
) -> None:
    config, db, server = setup
    base = server.base_url
    long_url = f"{base}/{'x' * 200_000}.png"
    who = author()
    bad = replace(post(0).media[0], url=long_url, alt="a long one")
    malformed = replace(post(0).media[0], url="ftp://a.example/x.png", alt="malformed")
    good = replace(post(0).media[0], url=f"{base}/a.png", alt="good")
    with db.writing() as session:
        source = session.scalar(select(EventSource))
        save_page(session, source, "swrs26",
                  page([post(20, who, media=(bad, malformed, good))]), Policy())  # fmt: skip
    stored = [r.getMessage() for r in caplog.records if "characters long" in r.getMessage()]
    assert any("statuses/20, media 1: the URL is 200,0" in line for line in stored), stored
    fetched = run_cli("media", "fetch", "swrs26", config=config.path)
    assert fetched.exit_code == 0, fetched.output
    assert "1 x no URL to fetch" in fetched.output  # said, with why
    with db.reading() as session:
        rows = {m.alt: m for m in session.scalars(select(Media).where(Media.alt.is_not(None)))}
    assert rows["good"].fetch_state == "done"
    assert rows["a long one"].fetch_state == "failed" and rows["a long one"].remote_url is None
    assert "characters long" in (rows["a long one"].fetch_error or "")
    assert rows["malformed"].fetch_state == "failed" and rows["good"].local_path
    assert rows["malformed"].fetch_error == "no URL to fetch"
    assert rows["alt of a.png"].fetch_state == "done"  # the others of the event too


def test_an_emoji_shown_on_two_pages_is_listed_by_both(setup) -> None:  # type: ignore[no-untyped-def]
    """The resolver remembers an emoji's local copy; a later page that shows it still
    names the file in its unit, so keeping that unit alone keeps the file."""
    from backchannel.export.media import MediaResolver
    from backchannel.export.writer import SiteWriter, read_manifest

    config, db, server = setup
    fetch_media(db, config, "swrs26")
    url = f"{server.base_url}/emoji.png"
    writer = SiteWriter(config.base_dir / "site")
    resolver = MediaResolver(writer, config.base_dir / "media")
    with db.reading() as session:
        for unit in ("day/1", "day/2"):
            with writer.unit(unit, "x"):
                path = resolver.emoji_paths(session, {url})[url]
    writer.finish()
    units = read_manifest(config.base_dir / "site")["units"]
    assert path and all(path in units[name]["files"] for name in ("day/1", "day/2"))
