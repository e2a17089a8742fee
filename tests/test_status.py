"""`backchannel status` after real collections from the sandbox."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from backchannel.collect.overview import status
from backchannel.collect.runlock import RunLock
from backchannel.collect.service import collect
from backchannel.sandbox import conference
from backchannel.store.models import EventSource
from backchannel.store.runs import finish_run, start_run
from tests.helpers import run_cli
from tests.sandbox_env import sandbox_env


def test_status_shows_runs_rate_limits_errors_backlog_and_the_scheduler(
    tmp_path: Path, db_url: str
) -> None:
    with sandbox_env(tmp_path, db_url) as env:
        results = collect(env.db, env.config, conference.SLUG, clock=env.sandbox.now)
        assert all(r.status == "ok" for r in results)
        failing = env.sandbox.mastodon_urls[0]
        with env.db.writing() as session:
            source = session.scalar(select(EventSource).where(EventSource.base_url == failing))
            assert source is not None
            run_id = start_run(session, source).id
            finish_run(session, run_id, "failed", "HTTP 503 five times in a row")

        with env.db.reading() as session:
            report = status(session, env.config, conference.SLUG)
        (event,) = report.events
        assert event.phase == "done"  # the demo event was in March; collection has ended
        assert report.scheduler is None
        by_url = {s.base_url: s for s in event.sources}
        assert set(by_url) == set(env.sandbox.mastodon_urls) | {env.sandbox.bluesky_url}
        assert by_url[failing].last_status == "failed"
        assert by_url[failing].last_error == "HTTP 503 five times in a row"
        ok = by_url[env.sandbox.bluesky_url]
        assert ok.last_status == "ok" and ok.new > 0 and ok.runs == 1 and ok.requests > 0
        assert ok.rate_limit and ok.rate_limit["remaining"].isdigit()
        assert all(s.rate_limit for s in event.sources), "every sandbox sends rate-limit headers"
        assert ok.next_run is None, "the schedule of a long-past event has ended"
        assert event.media_backlog > 0, "media not fetched yet"

        lock = RunLock(env.db)
        lock.acquire()
        try:
            result = run_cli("status", config=env.config_path)
        finally:
            lock.release()
        assert result.exit_code == 0, result.output
        out = result.output
        assert "scheduler: running (pid" in out
        assert f"{conference.SLUG}: {conference.TITLE} (done)" in out
        assert "ok: " in out and "left" in out and "none (schedule ended)" in out
        assert f"last error of {failing}" in out and "HTTP 503 five times" in out
        assert f"media backlog: {event.media_backlog}" in out
        assert "pending rechecks: " in out
        assert "scheduler: not running" in run_cli("status", config=env.config_path).output
        missing = run_cli("status", "nope", config=env.config_path)
        assert missing.exit_code == 1 and "no event 'nope'" in missing.output
