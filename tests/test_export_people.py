"""A page per person (issue 34, point 2): every name links to it; it lists the person's
published posts in order, each linked to the timeline; an author left out by consent
has none; only a changed person's page is made again. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backchannel.export import ExportOptions, export_site, people
from backchannel.store import Post
from backchannel.store.db import Database
from tests.export_fixture import MASTODON, WORDS, build_fixture, build_hostile


@pytest.fixture
def database(db_url: str) -> Any:
    database = build_fixture(db_url)
    yield database
    database.dispose()


def _export(database: Database, out: Path) -> Any:
    return export_site(database, ExportOptions(out=out, search=False))


def _person_pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in (out / "swrb13").glob("person-*.html")}


def test_every_published_person_has_a_page_and_every_name_links_to_it(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    _export(database, out)
    pages = _person_pages(out)
    handles = {re.search(r'<span class="handle">@([^<]+)</span>', html)[1]: name  # type: ignore[index]
               for name, html in pages.items()}  # fmt: skip
    assert set(handles) == {"ana@mastodon.example", "ben.bsky.example", "carla@mastodon.example",
                            "dina@mastodon.example"}, "Eli, denied, has no page"  # fmt: skip
    assert "eli" not in " ".join(pages) and WORDS["denied"] not in "".join(pages.values())

    ana = pages[handles["ana@mastodon.example"]]
    times = re.findall(r'<time datetime="([^"]+)">', ana)
    assert times == sorted(times) and len(times) == 5, "her five published posts, in order"
    assert '<a href="2013-11-14.html#p-baf25b56bca5a07a">' in ana  # to the timeline
    assert "Kia ora koutou!" in ana

    # A post's name, the people page and the overview lead to the person's page.
    day = (out / "swrb13" / "2013-11-14.html").read_text(encoding="utf-8")
    assert f'<a href="{handles["ben.bsky.example"]}"><span class="name"' in day
    listing = (out / "swrb13" / "people.html").read_text(encoding="utf-8")
    assert all(f'<a href="{name}">' in listing for name in handles.values())
    assert listing.count('loading="lazy"') == 4
    overview = (out / "swrb13" / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{handles["ana@mastodon.example"]}">' in overview


def test_a_new_post_makes_only_its_authors_page_again(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    _export(database, out)
    made: list[str] = []
    real = people._entries

    def counting(index: Any, posts: list[Any], texts: Any) -> Any:
        made.append(index.authors[posts[0].author_id].handle)
        return real(index, posts, texts)

    monkeypatch.setattr(people, "_entries", counting)
    with database.writing() as session:  # Dina's post edited, as a refetch would show it
        session.execute(update(Post).where(Post.uri == f"{MASTODON}/users/dina/statuses/1003")
                        .values(text="A new text for the page", cid="edited"))  # fmt: skip
    _export(database, out)
    assert made == ["dina@mastodon.example"]
    assert "A new text for the page" in "".join(_person_pages(out).values())


def test_a_hostile_person_page_runs_nothing(db_url: str, tmp_path: Path) -> None:
    database = build_hostile(db_url)
    out = tmp_path / "site"
    export_site(database, ExportOptions(out=out, search=False))
    database.dispose()
    pages = list((out / "hostile").glob("person-*.html"))
    assert len(pages) == 1 and re.fullmatch(r"person-evil-mastodon-example-[0-9a-f]{6}\.html",
                                            pages[0].name)  # fmt: skip
    html = pages[0].read_text(encoding="utf-8")
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)  # the elements: strangers' text is escaped
    assert [t for t in tags if t.startswith("<script")] == [
        '<script src="../assets/reveal.js" defer>',
        '<script src="../assets/viewer.js" defer>',
    ]
    assert not [t for t in tags if "onerror" in t or "onload" in t or "javascript:" in t]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
