"""``backchannel init`` where no config exists: guided, checked as it goes (issue 18)."""

from __future__ import annotations

from pathlib import Path

from backchannel import __version__
from backchannel.config import load_config
from backchannel.events import get_event
from backchannel.store import Database
from tests.helpers import run_cli

ANSWERS = [
    "https://swrb.example/about",  # contact
    "",  # database: the default file
    "",  # register the first event: yes
    "swrb13",
    "SWRB conference 2013",
    "swrb13 socialwork",
    "Pacific/Auckland",
    "2013-11-14",
    "2013-11-15",
    "https://mastodon.example https://scholar.example",
    "y",  # Bluesky
    "archivist.bsky.social",
    "",  # the default variable for its app password
    "y",  # mastodon.example does not answer (no network here): keep it anyway
    "y",  # nor scholar.example
]

FLAGS = [
    "--yes", "--contact", "https://swrb.example/about", "--event", "swrb13",
    "--title", "SWRB conference 2013", "--hashtag", "swrb13", "--hashtag", "socialwork",
    "--timezone", "Pacific/Auckland", "--start", "2013-11-14", "--end", "2013-11-15",
    "--mastodon", "https://mastodon.example", "--mastodon", "https://scholar.example",
    "--bluesky-handle", "archivist.bsky.social",
]  # fmt: skip


def _event_summary(config_path: Path) -> tuple[object, ...]:
    config = load_config(config_path)
    db = Database(config.database_url)
    try:
        with db.reading() as session:
            event = get_event(session, "swrb13")
            return (
                event.title,
                tuple(event.hashtags),
                event.timezone,
                event.starts_at.isoformat(),
                event.ends_at.isoformat(),
                tuple(sorted((s.platform, s.base_url) for s in event.sources)),
            )
    finally:
        db.dispose()


def test_guided_init_writes_a_config_and_registers_the_event(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run_cli("init", config=config, input="\n".join(ANSWERS) + "\n")
    assert result.exit_code == 0, result.output
    assert f"wrote {config}" in result.output
    assert "registered swrb13: SWRB conference 2013, #swrb13 #socialwork, 3 source(s)" in (
        result.output
    )
    assert "before collecting, put the app password in $BACKCHANNEL_BLUESKY_APP_PASSWORD" in (
        result.output
    )
    # Each server was asked once, as doctor asks; neither answered (no such host here).
    assert "https://mastodon.example: " in result.output and "Keep it anyway?" in result.output
    loaded = load_config(config)
    assert loaded.collect.user_agent == f"backchannel/{__version__} (+https://swrb.example/about)"
    assert loaded.export.contact == "https://swrb.example/about"
    assert loaded.bluesky.handle == "archivist.bsky.social"
    assert loaded.database_url == f"sqlite:///{tmp_path / 'backchannel.db'}"
    assert loaded.user_agent_for("https://mastodon.social")  # no longer the placeholder
    title, tags, zone, starts, ends, sources = _event_summary(config)
    assert (title, tags, zone) == ("SWRB conference 2013", ("swrb13", "socialwork"),
                                   "Pacific/Auckland")  # fmt: skip
    # Whole days in Auckland (NZDT, UTC+13).
    assert (starts, ends) == ("2013-11-13T11:00:00+00:00", "2013-11-15T11:00:00+00:00")
    assert sources == (
        ("bluesky", "https://bsky.social"),
        ("mastodon", "https://mastodon.example"),
        ("mastodon", "https://scholar.example"),
    )


def test_a_wrong_answer_is_explained_and_asked_again(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    answers = list(ANSWERS)
    answers[0:1] = ["me", "https://backchannel.example/about", "https://swrb.example/about"]
    at = answers.index("Pacific/Auckland")
    answers[at:at + 3] = ["Mars/Olympus_Mons", "Pacific/Auckland", "14/11/2013",
                          "2013-11-14", "2013-11-01", "2013-11-15"]  # fmt: skip
    result = run_cli("init", config=config, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    for error in (
        "Error: not a contact: 'me' (a web page such as https://your.site/about, or an email "
        "address)",
        "Error: give your own contact, not backchannel.example",
        "Error: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as Pacific/Auckland)",
        "Error: not a date or time: '14/11/2013' (use 2013-11-14 or 2013-11-14T09:30)",
        "Error: the event ends (2013-11-01) before it starts (2013-11-14)",
    ):
        assert error in result.output
    assert _event_summary(config)[2] == "Pacific/Auckland"


def test_yes_with_flags_gives_the_same_result_without_questions(tmp_path: Path) -> None:
    asked, flagged = tmp_path / "asked", tmp_path / "flagged"
    asked.mkdir(), flagged.mkdir()
    guided = run_cli("init", config=asked / "config.toml", input="\n".join(ANSWERS) + "\n")
    scripted = run_cli("init", *FLAGS, config=flagged / "config.toml")
    assert guided.exit_code == 0 and scripted.exit_code == 0, scripted.output
    assert "?" not in scripted.output  # no question was asked
    assert (asked / "config.toml").read_text() == (flagged / "config.toml").read_text()
    assert _event_summary(asked / "config.toml") == _event_summary(flagged / "config.toml")


def test_yes_without_a_contact_names_the_flag_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run_cli("init", "--yes", config=config)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: --contact is needed with --yes (or leave out --yes to be asked)"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_email_contact_and_no_event(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run_cli("init", "--yes", "--contact", "organiser@swrb.example", config=config)
    assert result.exit_code == 0, result.output
    loaded = load_config(config)
    assert (
        loaded.collect.user_agent == f"backchannel/{__version__} (+mailto:organiser@swrb.example)"
    )
    assert "registered" not in result.output
    listed = run_cli("event", "list", config=config)
    assert listed.exit_code == 0


def test_a_server_that_does_not_answer_is_dropped_unless_kept(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    answers = [*ANSWERS[:-2], "y", "n"]  # keep the first, drop the second
    result = run_cli("init", config=config, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    sources = _event_summary(config)[5]
    assert ("mastodon", "https://mastodon.example") in sources
    assert ("mastodon", "https://scholar.example") not in sources
