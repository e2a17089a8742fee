"""An export costs what changed (issue 37): nothing changed renders nothing; a change
to one post renders its day and the pages that count it, not the other days; a theme
change renders everything. Renders are counted where the exporter makes them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from backchannel.export import ExportOptions, export_site, pages, timeline
from backchannel.store import EventPost, Post
from backchannel.store.db import Database
from tests.export_fixture import build_fixture


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each kind of page was rendered (a day, or the event's other pages)."""
    renders: Counter[str] = Counter()
    render_day, write_pages = timeline.render_day, pages.write_event_pages

    def day(*args: Any, **kwargs: Any) -> Any:
        renders["day"] += 1
        return render_day(*args, **kwargs)

    def other_pages(*args: Any, **kwargs: Any) -> Any:
        renders["pages"] += 1
        return write_pages(*args, **kwargs)

    monkeypatch.setattr(timeline, "render_day", day)
    monkeypatch.setattr(pages, "write_event_pages", other_pages)
    return renders


def _export(database: Database, out: Path, theme: Path | None = None) -> Any:
    return export_site(database, ExportOptions(out=out, templates_dir=theme, search=False))


def test_an_export_renders_only_what_changed(tmp_path: Path, counted: Counter[str]) -> None:
    database = build_fixture(f"sqlite:///{tmp_path / 'a.db'}")
    out = tmp_path / "site"
    try:
        first = _export(database, out)
        days = counted["day"]
        assert days >= 2 and counted["pages"] == 1
        counted.clear()

        again = _export(database, out)  # nothing changed
        assert counted == Counter() and again.stats.written == 0

        with database.writing() as session:  # one post of the first day featured
            post_id = session.scalars(select(Post.id).order_by(Post.created_at)).first()
            session.execute(update(EventPost).where(EventPost.post_id == post_id)
                            .values(state="featured"))  # fmt: skip
        changed = _export(database, out)
        assert counted == Counter({"day": 1, "pages": 1})
        assert 0 < changed.stats.written < first.stats.written
        counted.clear()

        theme = tmp_path / "theme"  # a theme that changes one template
        theme.mkdir()
        (theme / "search.html").write_text('{% extends "default:search.html" %}',
                                           encoding="utf-8")  # fmt: skip
        _export(database, out, theme)
        assert counted == Counter({"day": days, "pages": 1})
    finally:
        database.dispose()


def test_a_kept_unit_keeps_the_files_another_unit_made_first(tmp_path: Path) -> None:
    """Two days show the same emoji; the first day's pages copied it. When only that
    day changes and stops showing it, the other day (kept as it was) still needs the
    file: every unit lists the files its pages use, whichever made them."""
    from backchannel.export.writer import SiteWriter

    emoji = tmp_path / "emoji.png"
    emoji.write_bytes(b"\x89PNG an emoji")
    site = tmp_path / "site"
    first = SiteWriter(site)
    with first.unit("day/1", "a"):
        first.copy("media/emoji.png", emoji)
        first.write("day-1.html", "<img src=media/emoji.png>")
    with first.unit("day/2", "a"):
        first.copy("media/emoji.png", emoji)  # already made: used, not copied again
        first.write("shared.txt", "same bytes")
        first.write("day-2.html", "<img src=media/emoji.png>")
    with first.unit("day/3", "a"):
        first.write("shared.txt", "same bytes")
    first.finish()

    second = SiteWriter(site)
    with second.unit("day/1", "b"):
        second.write("day-1.html", "no emoji now")
    assert second.keep_unit("day/2", "a")
    second.finish()
    assert (site / "media" / "emoji.png").read_bytes() == emoji.read_bytes()
    assert (site / "shared.txt").read_text() == "same bytes"
