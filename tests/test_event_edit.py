"""``event edit`` and the service under it: the same checks as ``event add``, nothing
written on bad input, cursors of dropped hashtags gone, collected posts counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.consent.rule import Policy
from backchannel.curation import parse_schedule, set_schedule
from backchannel.event_edits import EventChanges, edit_event
from backchannel.events import get_event
from backchannel.store.db import Database
from backchannel.store.models import Cursor, EventSource
from backchannel.store.writer import load_cursor, save_page
from tests.factories import T0, page, post, registered_event
from tests.helpers import run_cli, snapshot, write_config


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    path = write_config(tmp_path, db_url)
    assert run_cli("init", config=path).exit_code == 0
    registered_event(Database(db_url))  # swrs26, 12-13 March 2026 in Pacific/Auckland
    return path


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.init()
    registered_event(database)  # swrs26, 12-13 March 2026 in Pacific/Auckland
    yield database
    database.dispose()


def _save(db: Database, hashtag: str, posts: list) -> None:  # type: ignore[type-arg]
    with db.writing() as session:
        source = session.scalars(select(EventSource)).one()
        save_page(session, source, hashtag, page(posts, {"at": hashtag}), Policy())


def test_edit_changes_only_what_is_given(config: Path) -> None:
    edited = run_cli("event", "edit", "swrs26", "--hashtag", "#SWRS26", "--hashtag", "swrs2026",
                     "--end", "2026-03-14", "--title", "  Social work   research ",
                     config=config)  # fmt: skip
    assert edited.exit_code == 0, edited.output
    assert "swrs26: changed title, hashtags, end" in edited.output
    shown = run_cli("event", "show", "swrs26", config=config).output
    assert "swrs26: Social work research" in shown
    assert "hashtags:  #swrs26 #swrs2026" in shown
    assert "2026-03-12 00:00 NZDT -> 2026-03-15 00:00 NZDT" in shown  # --end is a whole day
    again = run_cli("event", "edit", "swrs26", "--hashtag", "swrs26", "--hashtag", "swrs2026",
                    config=config)  # fmt: skip
    assert again.exit_code == 0 and "nothing changed" in again.output


BAD_EDITS = {
    "end before start": (["--end", "2026-03-10"], "would end (2026-03-11 00:00) before it starts"),
    "unknown timezone": (["--timezone", "Mars/Olympus_Mons"], "unknown time zone"),
    "hashtag with spaces": (["--hashtag", "swrs 26"], "not a hashtag"),
    "bad date": (["--start", "12/03/2026"], "not a date or time"),
    "bad margin": (["--margin-after", "soon"], "not a duration for --margin-after"),
    "blank title": (["--title", "  "], "an event needs a title"),
    "no option": ([], "nothing to change"),
    "unknown event": (["--title", "X", "--", "x"], "no event"),
}


@pytest.mark.parametrize("case", list(BAD_EDITS))
def test_a_bad_edit_is_one_line_and_writes_nothing(config: Path, db_url: str, case: str) -> None:
    options, expected = BAD_EDITS[case]
    slug = "swrs26"
    if "--" in options:
        options, slug = options[: options.index("--")], options[-1]
    before = snapshot(db_url)
    result = run_cli("event", "edit", slug, *options, config=config)
    assert result.exit_code != 0
    assert result.output.count("\n") == 1, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert snapshot(db_url) == before


def test_a_new_time_zone_alone_keeps_the_wall_clock_times(db: Database) -> None:
    """A zone typed wrong is put right: 09:00 stays 09:00, in the new zone."""
    with db.writing() as session:
        event = get_event(session, "swrs26")
        set_schedule(event, parse_schedule(
            '[[session]]\ntitle = "Keynote"\nstart = "2026-03-12 09:00"\nend = "2026-03-12 10:00"',
            event))  # fmt: skip
        starts_before = event.starts_at
        result = edit_event(session, event, EventChanges(timezone="Europe/London"))
        assert result.changed == ["timezone", "starts_at", "ends_at", "schedule"]
        # Midnight in Auckland (UTC+13) is 11:00 UTC the day before; in London (UTC+0)
        # midnight is midnight: the window moved 13 hours later.
        assert event.starts_at - starts_before == timedelta(hours=13)
        assert event.schedule == [
            {"title": "Keynote", "start": "2026-03-12T09:00:00Z", "end": "2026-03-12T10:00:00Z"}
        ]


def test_a_dropped_hashtag_loses_its_cursor_and_posts_outside_are_counted(db: Database) -> None:
    _save(db, "swrs26", [post(1), post(2)])  # 01:01 and 01:02 UTC on 12 March
    _save(db, "other", [post(3, tags=("other",))])
    with db.writing() as session:
        event = get_event(session, "swrs26")
        assert edit_event(session, event, EventChanges(hashtags=["swrs26", "other"])).outside == 0
        # The posts are all inside the window; taking "other" away leaves post 3 outside.
        result = edit_event(session, event, EventChanges(hashtags=["swrs26"]))
        assert result.changed == ["hashtags"] and result.outside == 1
        source = session.scalars(select(EventSource)).one()
        assert load_cursor(session, source, "other") is None
        assert load_cursor(session, source, "swrs26") == {"at": "swrs26"}
        # Posts made before the new window (with its margin of one day) are counted too.
        late = (T0 + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        result = edit_event(session, event, EventChanges(start=late, end="2026-03-20"))
        assert result.outside == 3
    with db.reading() as session:
        assert session.scalars(select(Cursor.hashtag)).all() == ["swrs26"]


def test_the_studios_edit_form_sent_back_unchanged_changes_nothing(db: Database) -> None:
    from backchannel.studio.organising import _changes, event_fields

    with db.writing() as session:
        event = get_event(session, "swrs26")
        edit_event(session, event, EventChanges(start="2026-03-12T09:30:15", margin_after="90m"))
        form = event_fields(event)
        assert (form["start"], form["margin_after"]) == ("2026-03-12 09:30:15", "90m")
        assert edit_event(session, event, _changes(form)).changed == []


def test_loosening_the_policy_reads_the_window_again(config: Path, db_url: str) -> None:
    """From opt-in to opt-out, as when an author is allowed: the posts passed over were
    never stored, so every cursor of the event goes; tightening keeps them."""
    db = Database(db_url)
    _save(db, "swrs26", [post(1)])
    assert run_cli("event", "edit", "swrs26", "--policy", "opt-in", config=config).exit_code == 0
    with db.reading() as session:
        assert session.scalars(select(Cursor.hashtag)).all() == ["swrs26"]
    loosened = run_cli("event", "edit", "swrs26", "--policy", "opt-out", config=config)
    assert loosened.exit_code == 0 and "reads the window again" in loosened.output
    with db.reading() as session:
        assert session.scalars(select(Cursor.hashtag)).all() == []
    db.dispose()
