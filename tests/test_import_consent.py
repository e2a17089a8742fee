"""Imported posts cannot be re-checked at their source (issue 35, point 4): by default
an event publishes only those a story uses, kept out of search and the data; `consent
imported EVENT all` publishes them all; the About page names each file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.store import Database, Post, PostSighting
from tests.helpers import run_cli, write_config
from tests.twarc_files import TAG, tweet_v1, user_v1, write_lines

ANA = user_v1("101", "ana_sw", "Ana Silva")
IDS = [f"30000000000000050{i}" for i in range(3)]


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> tuple[Path, Path]:
    """An event with three imported tweets; the config and the site's folder."""
    out = tmp_path / "site"
    config = write_config(tmp_path, db_url, f"[archive]\nsite_dir = '{out}'\n"
                                            f"media_dir = '{tmp_path / 'media'}'\n")  # fmt: skip
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli("event", "add", "swrb13", "--title", "SWRB 2013", "--hashtag", TAG,
                   "--start", "2013-03-20", "--end", "2013-03-21", "--timezone", "UTC",
                   config=config).exit_code == 0  # fmt: skip
    lines = [tweet_v1(i, f"Tweet {n} about supervision #{TAG}", ANA) for n, i in enumerate(IDS)]
    capture = write_lines(tmp_path / "swrb13-2013.jsonl", lines)
    imported = run_cli("import", "swrb13", str(capture), "--no-media", config=config)
    assert imported.exit_code == 0, imported.output
    return config, out


def _export(config: Path) -> None:
    result = run_cli("export", "swrb13", "--no-search", config=config)
    assert result.exit_code == 0, result.output


def _shown(out: Path) -> set[str]:
    """Tweet ids on the event's day pages, and in its data download."""
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "swrb13").glob("2013-*.html"))
    return {i for i in IDS if f"/status/{i}" in pages}


def _in_data(out: Path) -> set[str]:
    data = (out / "swrb13" / "posts.jsonl").read_text(encoding="utf-8")
    uris = {json.loads(line).get("uri", "") for line in data.splitlines() if line.strip()}
    return {i for i in IDS if any(u.endswith(i) for u in uris)}


def test_by_default_only_what_a_story_uses_is_published(site: tuple[Path, Path]) -> None:
    config, out = site
    _export(config)
    assert _shown(out) == set() and _in_data(out) == set()
    about = (out / "swrb13" / "about.html").read_text(encoding="utf-8")
    assert "swrb13-2013.jsonl (twarc): 0 posts published" in about
    assert "could not be checked again at their source" in about
    report = run_cli("consent", "report", "swrb13", config=config)
    assert "imported, not used in a story" in report.output and "3" in report.output

    story = config.parent / "keynote.md"
    story.write_text(f"---\ntitle: Keynote\nslug: keynote\nevent: swrb13\n---\n\n"
                     f"https://twitter.com/ana_sw/status/{IDS[1]}\n", encoding="utf-8")  # fmt: skip
    stored = run_cli("story", "import", str(story), config=config)
    assert stored.exit_code == 0, stored.output
    _export(config)
    assert _shown(out) == {IDS[1]}
    assert _in_data(out) == set()  # published in its story, not in the data downloads
    assert f"/status/{IDS[1]}" in (out / "swrb13" / "story-keynote.html").read_text(
        encoding="utf-8"
    )
    about = (out / "swrb13" / "about.html").read_text(encoding="utf-8")
    assert "swrb13-2013.jsonl (twarc): 1 post published" in about


def test_an_event_can_publish_every_imported_post(site: tuple[Path, Path]) -> None:
    config, out = site
    chosen = run_cli("consent", "imported", "swrb13", "all", config=config)
    assert chosen.exit_code == 0 and "imported posts: all" in chosen.output
    _export(config)
    assert _shown(out) == set(IDS) and _in_data(out) == set(IDS)
    assert "The organisers chose to publish them all" in (out / "swrb13" / "about.html").read_text(
        encoding="utf-8"
    )


def test_a_post_a_collector_also_saw_is_not_imported_only(
    site: tuple[Path, Path], db_url: str
) -> None:
    config, out = site
    db = Database(db_url)
    try:
        with db.writing() as session:  # as a collector records a post it served
            post = session.scalar(select(Post).where(Post.uri.endswith(IDS[0])))
            assert post is not None
            session.add(PostSighting(post_id=post.id, server="https://mastodon.example",
                                     native_id=IDS[0]))  # fmt: skip
    finally:
        db.dispose()
    _export(config)
    assert _shown(out) == {IDS[0]}
