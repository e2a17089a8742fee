"""Recheck against the sandbox over real HTTP: posts deleted and edited at the source
after collection are removed (with their unshared media files) and updated, at
about one request per batch; the next export reflects both."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from backchannel.collect.rechecking import pending_rechecks, recheck
from backchannel.collect.service import collect
from backchannel.export import ExportOptions, export_site
from backchannel.export.selection import anchor_for
from backchannel.media.fetch import fetch_media
from backchannel.sandbox import conference
from backchannel.sandbox.httpbase import Fault, RateBudget
from backchannel.store.models import Media, Post, PostSighting, Tombstone
from backchannel.store.writer import key_hash
from tests.helpers import run_cli
from tests.sandbox_env import SandboxEnv, sandbox_env


@pytest.fixture
def env(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    with sandbox_env(tmp_path, db_url) as running:
        results = collect(running.db, running.config, conference.SLUG, clock=running.sandbox.now)
        assert all(r.status == "ok" for r in results), [(r.base_url, r.error) for r in results]
        fetch_media(running.db, running.config, conference.SLUG)
        yield running


def _with_media(env: SandboxEnv, platform: str, count: int) -> list[tuple[str, str, str]]:
    """(uri, sha256, local_path) of posts with one stored file no other post uses."""
    with env.db.reading() as session:
        shared = select(Media.sha256).group_by(Media.sha256).having(func.count() > 1)
        rows = session.execute(
            select(Post.uri, Media.sha256, Media.local_path)
            .join(Media, Media.post_id == Post.id)
            .where(Post.platform == platform, Media.fetch_state == "done")
            .where(Media.sha256.not_in(shared), Post.quote_uri.is_(None))
            .order_by(Post.id)
        ).all()
    picked: dict[str, tuple[str, str, str]] = {}
    for uri, sha, path in rows:
        picked.setdefault(uri, (uri, sha, path))
    return list(picked.values())[:count]


def _export(env: SandboxEnv, out: Path) -> str:
    export_site(env.db, ExportOptions.from_config(env.config, out=out), (conference.SLUG,))
    return "".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html")))


def test_recheck_removes_deleted_and_updates_edited_posts(env: SandboxEnv, tmp_path: Path) -> None:
    mastodon, bluesky = env.sandbox.mastodon, env.sandbox.bluesky
    gone_alone, gone_shared = _with_media(env, "mastodon", 2)
    bsky_gone = _with_media(env, "bluesky", 1)[0]
    with env.db.reading() as session:
        kept_uri = session.scalar(
            select(Post.uri)
            .where(Post.platform == "mastodon", Post.uri.not_in([gone_alone[0], gone_shared[0]]))
            .order_by(Post.id.desc())
        )
        bsky_edit_uri = session.scalar(
            select(Post.uri)
            .where(Post.platform == "bluesky", Post.uri != bsky_gone[0])
            .order_by(Post.id.desc())
        )
        sharer = session.scalar(
            select(Post)
            .where(Post.platform == "mastodon", Post.uri.not_in([gone_alone[0], gone_shared[0]]))
            .where(Post.uri != kept_uri)
            .order_by(Post.id.desc())
        )
        assert sharer is not None
        # Another post holds the same file as `gone_shared`: it must survive the deletion.
        session.add(
            Media(post_id=sharer.id, position=9, kind="image", remote_url="https://x.example/same.png",
                  sha256=gone_shared[1], local_path=gone_shared[2], fetch_state="done",
                  content_type="image/png")
        )  # fmt: skip
        session.commit()
    media_dir = env.config.media_dir
    assert (media_dir / gone_alone[2]).is_file() and (media_dir / gone_shared[2]).is_file()
    before = _export(env, tmp_path / "site-before")
    for uri, *_ in (gone_alone, gone_shared, bsky_gone):
        assert anchor_for(uri) in before

    # At the sources, after collection: two Mastodon posts and a Bluesky post deleted,
    # one of each edited.
    mastodon.world.delete(gone_alone[0])
    mastodon.world.delete(gone_shared[0])
    mastodon.world.edit(kept_uri, body="Edited after the talk: the slides are up #swrs26")
    bluesky.world.delete(bsky_gone[0])
    bluesky.world.edit(bsky_edit_uri, "Rewritten record: corrected the room number #swrs26")

    with env.db.reading() as session:
        total = session.scalar(select(func.count(Post.id)))
        assert pending_rechecks(session, now=env.sandbox.now()) == total
        servers = {
            s: n
            for s, n in session.execute(
                select(PostSighting.server, func.count()).group_by(PostSighting.server)
            )
        }
    result = recheck(env.db, env.config, conference.SLUG)

    assert result.errors == [] and result.unknown == 0
    assert result.deleted >= 3 and result.edited >= 2
    assert result.posts == total
    # About one request per batch: Mastodon batches of 20, Bluesky of 25, plus one
    # getRecord per post missing from getPosts (the deletions) and perhaps a login.
    bluesky_missing = result.deleted - 2  # every other deletion here is Bluesky's
    assert result.requests <= result.batches + bluesky_missing + 2, result
    assert result.batches <= sum(-(-n // 20) for n in servers.values())
    assert all(
        "/api/v1/statuses/" not in target
        for name in mastodon.instances
        for target in mastodon.instances[name].requests_to("/api/v1/statuses")
    ), "the batch endpoint was used, not single requests"

    with env.db.reading() as session:
        stored = set(session.scalars(select(Post.uri)))
        assert not {gone_alone[0], gone_shared[0], bsky_gone[0]} & stored
        edited = session.scalar(select(Post).where(Post.uri == kept_uri))
        assert edited is not None and "slides are up" in edited.text
        assert edited.edited_at is not None and edited.checked_at is not None
        rewritten = session.scalar(select(Post).where(Post.uri == bsky_edit_uri))
        assert rewritten is not None and "corrected the room number" in rewritten.text
        # A content-free tombstone keeps a server that missed the Delete from re-adding it.
        assert session.scalar(
            select(func.count(Tombstone.id)).where(Tombstone.key_sha256 == key_hash(gone_alone[0]))
        )
        assert pending_rechecks(session, now=env.sandbox.now()) == 0
    # Local media: the unshared file is gone, the shared one stays.
    assert not (media_dir / gone_alone[2]).exists()
    assert (media_dir / gone_shared[2]).is_file()
    assert not (media_dir / bsky_gone[2]).exists()

    after = _export(env, tmp_path / "site-before")  # the same folder: a re-export
    for uri, *_ in (gone_alone, gone_shared, bsky_gone):
        assert anchor_for(uri) not in after
    assert "slides are up" in after and "corrected the room number" in after
    site_media = tmp_path / "site-before" / "media"
    assert not (site_media / f"{gone_alone[1][:2]}/{gone_alone[1]}.png").exists()

    # Collecting again does not bring the deleted posts back.
    collect(env.db, env.config, conference.SLUG, clock=env.sandbox.now)
    with env.db.reading() as session:
        assert not {gone_alone[0], gone_shared[0]} & set(session.scalars(select(Post.uri)))


def test_recheck_falls_back_to_single_requests(env: SandboxEnv) -> None:
    """A server without the batch endpoint (404) is asked one status at a time."""
    mastodon = env.sandbox.mastodon
    with env.db.reading() as session:
        uri, base_url = next(
            (uri, base)
            for uri, base in session.execute(
                select(Post.uri, PostSighting.server).join(PostSighting).order_by(Post.id)
            )
            if urlsplit(uri).netloc == urlsplit(base).netloc  # seen by its home server
        )
    server = mastodon.server_for(base_url)
    server.budget = RateBudget(limit=100_000)  # one request per post: more than 300
    server.faults.add(Fault("status", status=404, times=1, path="/api/v1/statuses"))
    mastodon.world.delete(uri)
    result = recheck(env.db, env.config, conference.SLUG)
    assert result.errors == [] and result.deleted >= 1
    singles = [t for t in server.requests_to("/api/v1/statuses/") if "?" not in t]
    assert singles, "single requests after the batch endpoint answered 404"
    with env.db.reading() as session:
        assert session.scalar(select(Post.id).where(Post.uri == uri)) is None


def test_recheck_cli(env: SandboxEnv) -> None:
    result = run_cli("recheck", conference.SLUG, "--since", "100000", config=env.config_path)
    assert result.exit_code == 0, result.output
    assert "rechecked 18" in result.output and "deleted" in result.output
    assert "Example:" in run_cli("recheck", "--help").output
