"""The static archive: pages, consent, links, determinism and incremental writes."""

from __future__ import annotations

import gzip
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from backchannel.export import ExportOptions, export_site
from backchannel.export.writer import MANIFEST
from backchannel.store.db import Database
from tests.export_fixture import WORDS, add_late_post, build_fixture, hide_post
from tests.helpers import run_cli, write_config

GOLDEN = Path(__file__).parent / "golden" / "export"
UPDATE_GOLDEN = os.environ.get("BACKCHANNEL_UPDATE_GOLDEN") == "1"


@pytest.fixture
def fixture_db(db_url: str) -> Database:
    database = build_fixture(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_fixture(db_url: str) -> Database:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def export(database: Database, out: Path, **options: object) -> object:
    return export_site(database, ExportOptions(out=out, **options))  # type: ignore[arg-type]


def site_files(root: Path, skip_search: bool = False) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        # The exporter's memory of the event's rows (ids, URIs, authors) for the next
        # export: read by no page (tests/test_export_kept_index.py).
        if relative.startswith(".backchannel-index/"):
            continue
        if path.is_file() and not (skip_search and relative.startswith("pagefind/")):
            files[relative] = path.read_bytes()
    return files


def html_pages(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text("utf-8")
        for p in sorted(root.rglob("*.html"))
        if not p.relative_to(root).as_posix().startswith("pagefind/")
    }


def search_index_text(root: Path) -> str:
    """Everything Pagefind stored (fragments are gzipped JSON)."""
    texts = []
    for path in (root / "pagefind").rglob("*"):
        if path.is_file() and path.suffix in (
            ".pf_fragment",
            ".pf_index",
            ".pf_meta",
            ".pf_filter",
        ):
            data = path.read_bytes()
            try:
                data = gzip.decompress(data)
            except OSError:
                pass
            texts.append(data.decode("utf-8", "replace"))
    return "\n".join(texts)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for name in ("href", "src"):
            if values.get(name):
                self.refs.append(values[name] or "")


def broken_links(root: Path) -> list[str]:
    parsed: dict[str, _Links] = {}
    for relative, text in html_pages(root).items():
        parser = _Links()
        parser.feed(text)
        parsed[relative] = parser
    broken = []
    for relative, parser in parsed.items():
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https"):
                continue  # links out (to originals) are not fetched by the page
            assert not parts.scheme and not parts.netloc, f"{relative}: unexpected {ref}"
            target = (
                (Path(relative).parent / unquote(parts.path)).as_posix() if parts.path else relative
            )
            target = os.path.normpath(target)
            if not (root / target).is_file():
                broken.append(f"{relative}: {ref}")
            elif parts.fragment and target in parsed and parts.fragment not in parsed[target].ids:
                broken.append(f"{relative}: {ref} (no such anchor)")
    return broken


def test_the_fixture_event_exports(fixture_db: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export(fixture_db, out)
    assert result.events == ["swrb13"]  # type: ignore[attr-defined]
    for name in ["index.html", "robots.txt", "assets/style.css", "swrb13/index.html",
                 "swrb13/2013-11-13.html", "swrb13/2013-11-14.html", "swrb13/2013-11-15.html",
                 "swrb13/people.html", "swrb13/media.html", "swrb13/links.html",
                 "swrb13/stats.html", "swrb13/search.html", "swrb13/story-day-one.html",
                 "swrb13/posts.csv", "swrb13/posts.jsonl", "swrb13/feed.atom",
                 "pagefind/pagefind.js", MANIFEST]:  # fmt: skip
        assert (out / name).is_file(), name
    pages = html_pages(out)
    everything = "\n".join(site_files(out, skip_search=True)[k].decode("utf-8", "replace")
                           for k in site_files(out, skip_search=True))  # fmt: skip
    # Consent: hidden, deleted and denied posts are nowhere, not even in data or search.
    for word in (WORDS["hidden"], WORDS["deleted"], WORDS["denied"]):
        assert word not in everything, word
        assert word not in search_index_text(out), word
    # indexable = false: on the pages, not in data files, feed or search.
    day = pages["swrb13/2013-11-14.html"]
    assert WORDS["unindexable"] in day
    for name in ("swrb13/posts.csv", "swrb13/posts.jsonl", "swrb13/feed.atom"):
        assert WORDS["unindexable"] not in (out / name).read_text("utf-8"), name
    index_text = search_index_text(out)
    assert WORDS["unindexable"] not in index_text
    assert WORDS["searchable"] in index_text
    # Content warnings: collapsed on the page, never in titles, feeds or search snippets.
    assert re.search(r"<details class=\"cw\"[^>]*>\s*<summary>.*Discussion of self-harm", day)
    for relative, text in pages.items():
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        assert title and WORDS["cw_text"] not in title.group(1), relative
    assert WORDS["cw_text"] not in (out / "swrb13/feed.atom").read_text("utf-8")
    assert WORDS["cw_body"] not in (out / "swrb13/feed.atom").read_text("utf-8")
    assert WORDS["cw_text"] not in index_text
    # A post: time in the event's zone with UTC in datetime, lang, edited, reply, quote.
    assert '<time datetime="2013-11-13T19:30:00Z">14 November 2013, 08:30 NZDT</time>' in day
    assert 'lang="ar"' in day and 'dir="auto"' in day
    assert "(edited <time" in day
    assert re.search(
        r'Reply to <a href="2013-11-14.html#p-[0-9a-f]{16}">@ana@mastodon.example', day
    )
    assert 'class="quote"' in day
    assert "Reply to a post that is not in this archive" in day
    assert 'class="media sensitive"' in pages["swrb13/2013-11-15.html"]
    # Custom emoji not stored locally: the shortcode, never the remote image.
    assert "mastodon.example/emoji" not in everything
    assert "Ānahera Ngata :wave:" in day
    # Featured posts are marked, and shown on the overview with the storyboard.
    overview = pages["swrb13/index.html"]
    assert "Featured posts" in overview and "post featured" in overview
    assert "Day one in posts" in overview and "mastodon.example" in overview
    assert "practice" in overview  # top hashtags
    assert "https://slides.example/keynote" in overview  # most shared links
    story = pages["swrb13/story-day-one.html"]
    assert "<strong>arrived</strong>" in story and "no longer in the archive" in story
    # Every image has alt text, and no image comes from elsewhere.
    for relative, text in pages.items():
        for tag in re.findall(r"<img\b[^>]*>", text):
            assert " alt=" in tag, (relative, tag)
            assert 'src="http' not in tag, (relative, tag)
    # Statistics: SVG charts with a title, a description and a data table.
    stats = pages["swrb13/stats.html"]
    assert stats.count('<svg role="img"') == 4  # per hour, platforms, languages, replies
    assert stats.count("<desc id=") == 4 and stats.count("<table>") == 4
    # Posts per hour has axes: the value axis (its top and zero) and the time along the foot.
    hourly = stats.split('id="posts-per-hour"', 1)[1].split("</svg>", 1)[0]
    assert (
        hourly.count('<line class="axis"') == 2 and '<text class="tick" x="2" y="190">0<' in hourly
    )


def test_data_files_have_the_documented_columns(sqlite_fixture: Database, tmp_path: Path) -> None:
    from backchannel.export.data import COLUMNS

    out = tmp_path / "site"
    export(sqlite_fixture, out)
    lines = (out / "swrb13/posts.csv").read_text("utf-8").splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    docs = (Path(__file__).parent.parent / "docs" / "export.md").read_text("utf-8")
    for column in COLUMNS:
        assert f"`{column}`" in docs, column
    rows = [
        json.loads(line) for line in (out / "swrb13/posts.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(rows) == len(lines) - 1 == 10  # 11 published, less carla's (not indexable)
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    assert all(set(r) == set(COLUMNS) for r in rows)


def test_no_broken_internal_links(sqlite_fixture: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(sqlite_fixture, out, posts_per_page=3)  # several pages per day
    assert (out / "swrb13/2013-11-14-2.html").is_file()
    assert broken_links(out) == []


def test_same_database_gives_identical_files(sqlite_fixture: Database, tmp_path: Path) -> None:
    export(sqlite_fixture, tmp_path / "one")
    export(sqlite_fixture, tmp_path / "two")
    assert site_files(tmp_path / "one") == site_files(tmp_path / "two")


def test_second_export_rewrites_nothing(sqlite_fixture: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(sqlite_fixture, out)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*") if p.is_file()}
    result = export(sqlite_fixture, out)
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert result.stats.written == 0  # type: ignore[attr-defined]
    assert result.searched is False  # type: ignore[attr-defined]


def test_incremental_export_and_cleanup(sqlite_fixture: Database, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(sqlite_fixture, out)
    (out / "notes.txt").write_text("mine", "utf-8")  # not the exporter's: never deleted
    (out / "swrb13" / "extra.html").write_text("<p>mine</p>", "utf-8")
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    add_late_post(sqlite_fixture)
    export(sqlite_fixture, out)
    changed = {p.relative_to(out).as_posix() for p in stamp if p.stat().st_mtime_ns != stamp[p]}
    # Only the last day and the pages that summarise the event change.
    assert "swrb13/2013-11-15.html" in changed
    assert "swrb13/2013-11-13.html" not in changed and "swrb13/2013-11-14.html" not in changed
    assert "see you next year" in (out / "swrb13/2013-11-15.html").read_text("utf-8")
    # Hiding the only post of a day removes that day's page (and links to it).
    hide_post(sqlite_fixture, "1000")
    export(sqlite_fixture, out)
    assert not (out / "swrb13/2013-11-13.html").exists()
    assert "Travelling" not in (out / "swrb13/posts.csv").read_text("utf-8")
    assert (out / "notes.txt").read_text("utf-8") == "mine"
    assert (out / "swrb13/extra.html").exists()
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert "notes.txt" not in manifest["files"]
    assert "swrb13/2013-11-13.html" not in manifest["files"]


def test_incremental_export_equals_a_fresh_one(sqlite_fixture: Database, tmp_path: Path) -> None:
    """Posts and data rows carried over from the previous export (not rendered again)
    give the same bytes as an export from scratch."""
    out, fresh = tmp_path / "site", tmp_path / "fresh"
    export(sqlite_fixture, out, posts_per_page=3, search=False)
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert manifest["units"]["swrb13/data"]["data"]["chunks"]
    assert any(u["data"].get("posts") for n, u in manifest["units"].items() if "/day/" in n)
    add_late_post(sqlite_fixture)
    hide_post(sqlite_fixture, "1000")
    export(sqlite_fixture, out, posts_per_page=3, search=False)
    export(sqlite_fixture, fresh, posts_per_page=3, search=False)
    assert site_files(out) == site_files(fresh)
    # A page edited by hand is not a source of posts: it is rendered again.
    page = out / "swrb13/2013-11-14.html"
    page.write_text(page.read_text("utf-8").replace("</article>", "<b>x</b></article>"))
    add_late_post(sqlite_fixture, "1011")
    export(sqlite_fixture, out, posts_per_page=3, search=False)
    export(sqlite_fixture, fresh, posts_per_page=3, search=False)
    assert site_files(out) == site_files(fresh)


def test_robots_by_default_and_when_allowed(sqlite_fixture: Database, tmp_path: Path) -> None:
    closed, opened = tmp_path / "closed", tmp_path / "open"
    export(sqlite_fixture, closed, search=False)
    export(sqlite_fixture, opened, allow_indexing=True, search=False)
    robots = (closed / "robots.txt").read_text("utf-8")
    assert "User-agent: *\nDisallow: /" in robots
    for agent in ("GPTBot", "CCBot", "ClaudeBot", "Google-Extended", "PerplexityBot"):
        assert f"User-agent: {agent}\nDisallow: /" in robots
    for text in html_pages(closed).values():
        assert '<meta name="robots" content="noindex, noarchive' in text
        assert 'http-equiv="Content-Security-Policy"' in text
    assert "Allow: /" in (opened / "robots.txt").read_text("utf-8")
    assert "noindex" not in (opened / "index.html").read_text("utf-8")


def test_a_theme_replaces_one_block(sqlite_fixture: Database, tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "base.html").write_text(
        '{% extends "default:base.html" %}{% block footer %}<p>Our own footer</p>{% endblock %}',
        "utf-8",
    )
    (theme / "static").mkdir()
    (theme / "static" / "extra.css").write_text("body{}", "utf-8")
    out = tmp_path / "site"
    export(sqlite_fixture, out, templates_dir=theme, search=False)
    day = (out / "swrb13/2013-11-14.html").read_text("utf-8")
    assert "Our own footer" in day and "Skip to content" in day
    assert (out / "assets/extra.css").is_file() and (out / "assets/style.css").is_file()


def test_golden_snapshot(sqlite_fixture: Database, tmp_path: Path) -> None:
    """A small site, byte for byte (BACKCHANNEL_UPDATE_GOLDEN=1 rewrites the snapshot)."""
    out = tmp_path / "site"
    export(sqlite_fixture, out, search=False)
    files = {k: v for k, v in site_files(out).items() if k != MANIFEST}
    if UPDATE_GOLDEN:
        for old in GOLDEN.rglob("*"):
            if old.is_file():
                old.unlink()
        for relative, data in files.items():
            (GOLDEN / relative).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / relative).write_bytes(data)
    expected = site_files(GOLDEN)
    assert sorted(files) == sorted(expected)
    for relative, data in files.items():
        assert data == expected[relative], f"{relative} differs from tests/golden/export"


def test_export_command(db_url: str, tmp_path: Path) -> None:
    build_fixture(db_url).dispose()
    config = write_config(tmp_path, db_url, '[export]\ntitle = "Our archive"\n')
    result = run_cli("export", "swrb13", "--out", str(tmp_path / "out"), config=config)
    assert result.exit_code == 0, result.output
    assert "swrb13" in result.output
    assert "Our archive" in (tmp_path / "out" / "index.html").read_text("utf-8")
    default = run_cli("export", config=config)  # --out defaults to [archive] site_dir
    assert default.exit_code == 0, default.output
    assert (tmp_path / "site" / "swrb13" / "index.html").is_file()
    missing = run_cli("export", "nope", "--out", str(tmp_path / "x"), config=config)
    assert missing.exit_code != 0 and "no event 'nope'" in missing.output
    # Without a contact nor a base URL the organiser is told, once, what will be lacking.
    assert result.stderr.count("warning: [export] contact is not set") == 1
    assert result.stderr.count("warning: [export] base_url is not set") == 1
    told = run_cli("export", "--base-url", "https://example.org/a/", config=config)
    assert "contact is not set" in told.stderr and "base_url" not in told.stderr
    complete = write_config(tmp_path, db_url, '[export]\ncontact = "a@example.org"\n'
                            'base_url = "https://example.org/a/"\nlocale = "de"\n')  # fmt: skip
    quiet = run_cli("export", config=complete)
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr, quiet.output
    # Languages named in the archive's locale (CLDR, through Babel).
    stats = (tmp_path / "site" / "swrb13" / "stats.html").read_text("utf-8")
    assert "Englisch" in stats and "Arabisch" in stats and ">en<" not in stats
    # Dates and times in the locale too, one way on every page.
    day = (tmp_path / "site" / "swrb13" / "2013-11-14.html").read_text("utf-8")
    assert "<h1>Donnerstag, 14. November 2013</h1>" in day
    assert ">14. November 2013, 09:" in day and "Thursday" not in day
    assert "14. Nov." in stats  # the chart's axis
    wrong = write_config(tmp_path, db_url, '[export]\nlocale = "xx_nowhere"\n')
    refused = run_cli("export", config=wrong)
    assert refused.exit_code != 0
    assert f"{wrong}: export.locale: expected a locale such as en_GB" in refused.output


def test_the_contact_is_a_link_when_it_is_an_address_and_text_otherwise() -> None:
    from backchannel.export.environment import contact_link

    assert contact_link(" a@b.example ") == '<a href="mailto:a@b.example">a@b.example</a>'
    assert contact_link("https://b.example/ask?x=1&y=2") == (
        '<a href="https://b.example/ask?x=1&amp;y=2">https://b.example/ask?x=1&amp;y=2</a>'
    )
    assert contact_link("the front desk") == "the front desk"
    for hostile in ('"><script>alert(1)</script>@x.example', "javascript:alert(1)",
                    "<img src=x onerror=alert(1)>", "a@b.example?cc=<x>"):  # fmt: skip
        shown = str(contact_link(hostile))
        assert "<script" not in shown and "<img" not in shown and 'href="javascript' not in shown
