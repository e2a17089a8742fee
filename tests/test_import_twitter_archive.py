"""``backchannel import`` of a Twitter archive's tweets.js (issue 35): every number a
string, no user object (account.js beside it), the owner's consent recorded, a file
cut short, twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from backchannel.store import ConsentOverride, Database, Post
from tests.helpers import run_cli
from tests.import_kit import archive_with_event

TAG = "swrb13"


def archive_tweet(tweet_id: str, text: str, created: str = "Wed Mar 20 14:00:00 +0000 2013",
                  **extra: str) -> dict[str, object]:  # fmt: skip
    start = text.find("#" + TAG)
    return {"tweet": {
        "id": tweet_id, "id_str": tweet_id, "full_text": text, "created_at": created,
        "lang": "en", "retweet_count": "4", "favorite_count": "7", "truncated": False,
        "display_text_range": ["0", str(len(text))],
        "entities": {"hashtags": [{"text": TAG, "indices": [str(start), str(start + 7)]}]
                     if start >= 0 else [], "urls": [], "user_mentions": [], "symbols": []},
        **extra,
    }}  # fmt: skip


def write_archive(folder: Path, tweets: list[dict[str, object]], cut: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    account = [{"account": {"accountId": "7001", "username": "ana_sw",
                            "accountDisplayName": "Ana Silva", "createdVia": "web"}}]  # fmt: skip
    (folder / "account.js").write_text("window.YTD.account.part0 = " + json.dumps(account, indent=2),
                                       encoding="utf-8")  # fmt: skip
    profile = [{"profile": {"description": {"bio": "Social worker. #nobot", "location": "Leeds"}}}]
    (folder / "profile.js").write_text("window.YTD.profile.part0 = " + json.dumps(profile),
                                       encoding="utf-8")  # fmt: skip
    text = "window.YTD.tweets.part0 = " + json.dumps(tweets, indent=2, ensure_ascii=False)
    if cut:
        text = text[: text.rfind('"full_text"')]
    path = folder / "tweets.js"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrb13", TAG, "2013-03-20", "2013-03-21")


def test_an_archive_imports_its_owners_tweets_with_their_consent(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    tweets = [
        archive_tweet("312000000000000001", f"Kia ora koutou, ngā mihi #{TAG}"),
        archive_tweet("312000000000000002", f"RT @ben_pr: their words #{TAG}"),
        archive_tweet(
            "312000000000000003", f"A year later #{TAG}", created="Thu Mar 20 14:00:00 +0000 2014"
        ),  # fmt: skip
        archive_tweet(
            "312000000000000004",
            f"Replying &gt; agreeing #{TAG}",
            in_reply_to_status_id_str="312000000000000001",
        ),  # fmt: skip
        archive_tweet("312000000000000005", f"Cut off #{TAG}"),
    ]
    path = write_archive(tmp_path / "twitter-2022" / "data", tweets, cut=True)
    result = run_cli("import", "swrb13", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("tweets.js"))
    assert row.split()[1:5] == ["twitter-archive", "5", "2", "0"], result.output
    assert "tweets.js: ana_sw: allowed (sent their own archive)" in result.output
    assert "retweet (its original is not in the archive) 1" in result.output
    assert "outside the event's time 1" in result.output
    assert "cut short, or not JSON, from here on" in result.output
    db = Database(db_url)
    try:
        with db.reading() as session:
            posts = {p.uri.rsplit("/", 1)[-1]: p for p in session.scalars(select(Post))}
            assert sorted(posts) == ["312000000000000001", "312000000000000004"]
            first = posts["312000000000000001"]
            assert (first.author.handle, first.author.display_name) == ("ana_sw", "Ana Silva")
            assert first.text == f"Kia ora koutou, ngā mihi #{TAG}"
            assert (first.repost_count, first.like_count) == (4, 7)
            assert posts["312000000000000004"].text == f"Replying > agreeing #{TAG}"
            assert posts["312000000000000004"].reply_to_uri == first.uri
            override = session.scalars(select(ConsentOverride)).one()
            assert (override.handle, override.decision) == ("ana_sw", "allow")
    finally:
        db.dispose()
    # Their consent, recorded: published although the story-only default holds back
    # imported posts, and although their bio says #nobot.
    exported = run_cli("export", "swrb13", "--no-search", config=config)
    assert exported.exit_code == 0, exported.output
    day = (tmp_path / "site" / "swrb13" / "2013-03-20.html").read_text(encoding="utf-8")
    assert "/status/312000000000000001" in day and "/status/312000000000000004" in day
    again = run_cli("import", "swrb13", str(path), "--no-media", "--wide", config=config)
    assert "the event's allow entry stands" in again.output
    assert [line for line in again.output.splitlines()
            if line.startswith("tweets.js ")][0].split()[2:5] == ["5", "0", "2"]  # fmt: skip


def test_an_organisers_deny_entry_stands(tmp_path: Path, config: Path, db_url: str) -> None:
    assert run_cli("consent", "deny", "swrb13", "ana_sw", config=config).exit_code == 0
    path = write_archive(tmp_path / "data", [archive_tweet("312000000000000011", f"Hi #{TAG}")])
    result = run_cli("import", "swrb13", str(path), "--no-media", "--wide", config=config)
    assert result.exit_code == 0, result.output
    assert "the event's deny entry stands" in result.output
    assert "denied by organiser 1" in result.output


def test_tweets_js_without_its_account_is_refused(tmp_path: Path, config: Path) -> None:
    path = write_archive(tmp_path / "data", [archive_tweet("312000000000000021", f"Hi #{TAG}")])
    (path.parent / "account.js").unlink()
    result = run_cli("import", "swrb13", str(path), config=config)
    assert result.exit_code != 0
    assert "no account.js beside it" in result.output
