"""The live wall page: the newest posts, large type, self-refreshing, consent honoured."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from backchannel.collect.service import collect
from backchannel.export import ExportOptions, export_site
from backchannel.export.selection import anchor_for, load_index
from backchannel.export.wall import REFRESH_SECONDS, WALL_POSTS
from backchannel.sandbox import conference
from backchannel.store.models import Event, EventPost, Post
from tests.sandbox_env import sandbox_env


def test_wall_shows_the_newest_published_posts_and_refreshes_itself(
    db_url: str, tmp_path: Path
) -> None:
    with sandbox_env(tmp_path, db_url) as env:
        collect(env.db, env.config, conference.SLUG, clock=env.sandbox.now)
        with env.db.writing() as session:
            event = session.scalar(select(Event).where(Event.slug == conference.SLUG))
            assert event is not None
            newest = list(session.execute(
                select(Post.id, Post.uri).join(EventPost, EventPost.post_id == Post.id)
                .where(EventPost.event_id == event.id, Post.deleted_at.is_(None))
                .order_by(Post.created_at.desc(), Post.uri.desc()).limit(WALL_POSTS + 1)
            ))  # fmt: skip
            hidden_id, hidden_uri = newest[0]
            session.get(EventPost, (event.id, hidden_id)).state = "hidden"  # type: ignore[union-attr]
        site = tmp_path / "site"
        options = replace(ExportOptions.from_config(env.config, out=site), search=False)
        assert options.wall is False, "the wall comes with [export] live = true"
        export_site(env.db, options, (conference.SLUG,))
        wall = site / conference.SLUG / "wall.html"
        assert not wall.exists()

        export_site(env.db, replace(options, wall=True), (conference.SLUG,))
        page = wall.read_text(encoding="utf-8")
        assert f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' in page
        assert 'href="../assets/wall.css"' in page and (site / "assets/wall.css").exists()
        assert "Content-Security-Policy" in page
        anchors = re.findall(r'id="(p-[0-9a-f]{16})"', page)
        assert len(anchors) == WALL_POSTS
        assert anchor_for(hidden_uri) not in anchors, "a hidden post stays off the wall"
        # Exactly the exporter's selection (consent, hidden, deleted): its newest, first.
        with env.db.reading() as session:
            event = session.scalar(select(Event).where(Event.slug == conference.SLUG))
            index = load_index(session, event)  # type: ignore[arg-type]
        assert anchors == [p.anchor for p in reversed(index.posts[-WALL_POSTS:])]
        assert not re.search(r'(src|href)="(https?:)?//[^"]*"[^>]*>\s*</(script|link)', page)
        assert not re.search(r'<(img|script|link|video|audio)[^>]+(src|href)="https?://', page)

        mtime = wall.stat().st_mtime_ns
        export_site(env.db, replace(options, wall=True), (conference.SLUG,))
        assert wall.stat().st_mtime_ns == mtime, "an unchanged wall is left untouched"
        export_site(env.db, options, (conference.SLUG,))
        assert not wall.exists(), "turning live off removes the wall"
