"""Collection of the demo event through the real clients, the collect service and the
store, compared with the sandbox's answer keys; and kill-and-resume with SIGKILL."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.collect.service import collect
from backchannel.sandbox import conference
from backchannel.store.models import CollectionRun, Link, Post, PostSighting, PostTag, Tag
from tests.helpers import snapshot
from tests.sandbox_env import SandboxEnv, sandbox_env


@pytest.fixture
def env(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    with sandbox_env(tmp_path, db_url) as running:
        yield running


def _uris(env: SandboxEnv, platform: str) -> list[str]:
    with env.db.reading() as session:
        return list(session.scalars(select(Post.uri).where(Post.platform == platform)))


def test_full_collection_holds_exactly_the_answer_keys(env: SandboxEnv) -> None:
    first = collect(env.db, env.config, conference.SLUG, clock=env.sandbox.now)
    assert all(r.status == "ok" for r in first), [(r.base_url, r.error) for r in first]
    env.sandbox.advance()
    second = collect(env.db, env.config, conference.SLUG, clock=env.sandbox.now)
    assert all(r.status == "ok" for r in second), [(r.base_url, r.error) for r in second]

    mastodon = env.sandbox.mastodon
    key = mastodon.answer_key()
    stored = _uris(env, "mastodon")
    assert len(stored) == len(set(stored)), "no duplicates"
    stored_set = set(stored)
    # Deleted-after-served posts stay until a recheck removes them; all else is exact.
    assert stored_set - key.deleted == key.archivable()
    assert stored_set <= key.archivable() | key.deleted
    assert not stored_set & key.not_public
    assert key.late and key.late <= stored_set, "late-federated backdated posts are found"
    # One sighting per server that serves the post.
    with env.db.reading() as session:
        sightings: dict[str, set[str]] = {}
        for uri, server in session.execute(
            select(Post.uri, PostSighting.server).join(PostSighting.post)
        ):
            sightings.setdefault(uri, set()).add(server)
    for uri in key.archivable():
        expected = {
            mastodon.url(name)
            for per_tag in key.by_tag.values()
            for name, uris in per_tag.items()
            if uri in uris
        }
        assert sightings[uri] == expected, uri
    overlap = [u for u, s in sightings.items() if len(s) > 1]
    assert overlap, "the demo has posts seen by several servers"

    bluesky_key = env.sandbox.bluesky.answer_key()
    stored = _uris(env, "bluesky")
    assert len(stored) == len(set(stored))
    assert set(stored) - bluesky_key.deleted == bluesky_key.publishable
    assert not set(stored) & bluesky_key.opted_out
    # Records rewritten after they were served keep their old sortAt, so no search
    # brings them back: updating them is the recheck's job (see test_recheck).
    assert set(bluesky_key.edited) <= set(stored)


def _content(env: SandboxEnv) -> dict[str, set[tuple[object, ...]]]:
    """What must match between an interrupted and an uninterrupted run.

    Sandbox ports differ between runs, so base URLs become stable names; posts the
    world deletes or rewrites as soon as they are first served are left out (which
    run saw them first decides whether they were ever stored). The stored HTML is
    left out too: each server serves custom emoji from its own cache, so it depends
    on which concurrent source stored a post first, in any two runs alike.
    """
    names = {url: f"mastodon{i}" for i, url in enumerate(env.sandbox.mastodon_urls)}
    for name in env.sandbox.mastodon.instances:
        names.setdefault(env.sandbox.mastodon.url(name), name)
    names[env.sandbox.bluesky_url] = "bluesky"
    bluesky_key = env.sandbox.bluesky.answer_key()
    changing = set(bluesky_key.deleted) | set(bluesky_key.edited)

    def stable(row: tuple[object, ...]) -> tuple[object, ...]:
        out = []
        for value in row:
            if isinstance(value, str):
                for url, name in names.items():
                    value = value.replace(url, name)
            out.append(value)
        return tuple(out)

    queries = {
        "posts": select(Post.uri, Post.text, Post.edited_at, Post.cid, Post.created_at),
        "sightings": select(Post.uri, PostSighting.server, PostSighting.native_id).join(
            PostSighting.post
        ),
        "tags": select(Post.uri, Tag.name).join(PostTag, PostTag.post_id == Post.id).join(Tag),
        "links": select(Post.uri, Link.url).join(Link.post),
    }
    with env.db.reading() as session:
        return {
            name: {stable(tuple(r)) for r in session.execute(query) if r[0] not in changing}
            for name, query in queries.items()
        }


def _slow_down(env: SandboxEnv) -> None:
    """Latency makes a run long enough for kills to land mid-collection."""
    for server in env.sandbox.mastodon.instances.values():
        server.faults.latency = 0.03
    env.sandbox.bluesky.server.faults.latency = 0.03


def _kill_once_it_has_written(
    command: list[str], env: SandboxEnv, rng: random.Random
) -> int | None:
    """Start a collection and SIGKILL it at a random moment once it has committed a page
    (its run row, owned by its pid, counts requests); the requests it had made, or None
    when it ended on its own first."""
    process = subprocess.Popen(
        command, env=env.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    owned = (CollectionRun.owner.endswith(f":{process.pid}"), CollectionRun.status == "running")
    try:
        while process.poll() is None:
            with env.db.reading() as session:
                requests = session.scalar(select(func.sum(CollectionRun.requests)).where(*owned))
            if requests:
                time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the work that follows
                with env.db.reading() as session:
                    running = session.scalar(select(func.count()).where(*owned))
                if process.poll() is not None or not running:
                    return None
                process.send_signal(signal.SIGKILL)
                return int(requests)
            time.sleep(0.01)
        return None
    finally:
        process.wait()


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_matches_an_uninterrupted_run(
    db_url: str, tmp_path: Path
) -> None:
    with sandbox_env(tmp_path / "ref", f"sqlite:///{tmp_path / 'ref.db'}") as ref:
        _slow_down(ref)
        assert all(r.status == "ok" for r in collect(ref.db, ref.config, conference.SLUG))
        expected = _content(ref)

    # A fresh sandbox from the same seed, and a database killed again and again.
    # (on SQLite, and on PostgreSQL where the tests have one; the reference is SQLite)
    with sandbox_env(tmp_path / "killed", db_url) as env:
        _slow_down(env)
        command = [str(Path(sys.executable).with_name("backchannel")), "collect", conference.SLUG]
        rng = random.Random(20260312)
        landed = []
        for _ in range(5):  # killed in work each time, until a run ends on its own
            work = _kill_once_it_has_written(command, env, rng)
            if work is None:
                break
            landed.append(work)
        # The first run has the whole window to read: it is always killed in its work,
        # after at least one page and its cursor were committed (however fast the machine).
        assert landed and all(requests > 0 for requests in landed), landed
        final = subprocess.run(command, env=env.env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr + final.stdout
        got = _content(env)
        assert snapshot(env.db.url)["cursors"], "cursors were committed along the way"
    for name in expected:
        missing, extra = expected[name] - got[name], got[name] - expected[name]
        assert not missing and not extra, (name, sorted(missing)[:3], sorted(extra)[:3])


def test_collect_reports_coverage_and_discovery_adds_missing_servers(env: SandboxEnv) -> None:
    from backchannel.collect.coverage import event_coverage
    from backchannel.events import get_event
    from tests.helpers import run_cli

    result = run_cli(
        "collect", conference.SLUG, "--source", env.sandbox.mastodon_urls[0], config=env.config_path
    )
    assert result.exit_code == 0, result.output
    assert "coverage of swrs26:" in result.output
    assert "not sources yet" in result.output
    with env.db.reading() as session:
        coverage = event_coverage(session, get_event(session, conference.SLUG))
    extras = {env.sandbox.mastodon.url(name) for name in env.sandbox.mastodon.instances} - set(
        env.sandbox.mastodon_urls
    )
    missing = [url for url, _ in coverage.missing]
    assert extras <= set(missing), "the extra home servers are named"
    counts = [n for _, n in coverage.missing]
    assert counts == sorted(counts, reverse=True)

    # With discover on, the busiest missing servers become sources and are collected.
    with env.db.writing() as session:
        get_event(session, conference.SLUG).discover = True
    results = collect(env.db, env.config, conference.SLUG)
    discovered = [r for r in results if r.discovered]
    assert discovered and all(r.status == "ok" for r in discovered)
    assert len(discovered) <= env.config.collect.discover_max_sources
    assert {r.base_url for r in discovered} <= set(missing)


def test_a_failing_source_fails_alone_and_the_others_are_committed(env: SandboxEnv) -> None:
    from backchannel.sandbox.httpbase import Fault
    from backchannel.sandbox.mastodon_server import TAG_PREFIX
    from tests.helpers import run_cli

    locked, broken, healthy = env.sandbox.mastodon_urls
    env.sandbox.mastodon.server_for(locked).hashtag_feeds = "authenticated"
    env.sandbox.mastodon.server_for(broken).faults.add(Fault("malformed", path=TAG_PREFIX))
    result = run_cli("collect", conference.SLUG, config=env.config_path)
    assert result.exit_code == 1
    lines = {line.split()[2]: line for line in result.output.splitlines() if "swrs26  " in line}
    # The table says which sources failed; a line under it says why, by host.
    assert " failed " in lines[locked] and " failed " in lines[broken]
    why = {
        line.split(":")[0] + ":" + line.split(":")[1]: line
        for line in result.output.split("\n\n")[1].splitlines()
    }
    locked_host = locked.removeprefix("http://")
    assert "access token" in why[locked_host]
    assert "mastodon.<name>.access_token_env" in why[locked_host]
    assert broken.removeprefix("http://") in why
    assert " ok " in lines[healthy] and " ok " in lines[env.sandbox.bluesky_url]
    assert "2 of 4 source(s) did not finish" in result.output
    with env.db.reading() as session:
        servers = set(session.scalars(select(PostSighting.server)))
    assert healthy in servers and env.sandbox.bluesky_url in servers
    assert locked not in servers
    # The malformed page stored nothing and moved no cursor: once the fault is gone,
    # a second run collects that server whole.
    env.sandbox.mastodon.server_for(locked).hashtag_feeds = "public"
    env.sandbox.mastodon.world.advance()  # the answer key describes the final state
    again = run_cli("collect", conference.SLUG, config=env.config_path)
    assert again.exit_code == 0, again.output
    key = env.sandbox.mastodon.answer_key()
    with env.db.reading() as session:
        stored = set(session.scalars(select(Post.uri).where(Post.platform == "mastodon")))
    assert stored == key.archivable() | (stored & key.deleted)


def test_bluesky_opt_out_label_keeps_an_author_out_until_they_consent(env: SandboxEnv) -> None:
    from backchannel.store.models import Author
    from tests.helpers import run_cli

    bluesky = env.sandbox.bluesky_url
    results = collect(env.db, env.config, conference.SLUG, bluesky, clock=env.sandbox.now)
    assert results[0].skipped["opted out: !no-unauthenticated"] > 0
    key = env.sandbox.bluesky.answer_key()
    assert not set(_uris(env, "bluesky")) & key.opted_out
    with env.db.reading() as session:  # nothing of theirs is stored, not even the author
        labelled = session.scalars(select(Author).where(Author.platform == "bluesky")).all()
        assert not [a for a in labelled if "!no-unauthenticated" in a.labels]

    # Only the organiser's report, asked for names, shows who was left out.
    report = run_cli("consent", "report", conference.SLUG, "--names", config=env.config_path)
    handles = [w for w in report.output.split() if w.endswith(".bsky.example")]
    assert handles, report.output
    allowed = run_cli("consent", "allow", conference.SLUG, handles[0], config=env.config_path)
    assert allowed.exit_code == 0, allowed.output
    collect(env.db, env.config, conference.SLUG, bluesky, clock=env.sandbox.now)
    with env.db.reading() as session:
        back = session.scalars(
            select(Post.uri).join(Author).where(Author.handle == handles[0])
        ).all()
    assert back and set(back) <= key.opted_out
    assert not (set(_uris(env, "bluesky")) - set(back)) & key.opted_out  # the others stay out
