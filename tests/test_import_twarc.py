"""``backchannel import`` of twarc captures (issue 35): v1.1 and twarc2 lines, twice,
cut and broken lines, ids as floats, non-ASCII and right-to-left text, consent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backchannel.store import Database, ImportRecord, Media, Post, PostSighting, Tombstone
from tests.helpers import run_cli, write_config
from tests.import_kit import archive_with_event
from tests.twarc_files import TAG, tweet_v1, tweet_v2, user_v1, user_v2, write_lines

ANA = user_v1("101", "ana_sw", "Ana Silva")
BEN = user_v1("102", "ben_pr", "بن رحیمی")  # right-to-left name


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Path:
    return archive_with_event(tmp_path, db_url, "swrb13", TAG, "2013-03-20", "2013-03-21")


def _import(config: Path, *files: Path, fmt: str = "auto") -> str:
    result = run_cli("import", "swrb13", *map(str, files), "--format", fmt, "--no-media",
                     "--wide", config=config)  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def _posts(db_url: str) -> dict[str, Post]:
    db = Database(db_url)
    try:
        with db.reading() as session:
            posts = session.scalars(select(Post).order_by(Post.uri)).all()
            for post in posts:
                _ = post.author.handle
            return {p.uri.rsplit("/", 1)[-1]: p for p in posts}
    finally:
        db.dispose()


def _row(output: str, name: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(name))
    return line.split()


def test_v1_tweets_become_posts_with_their_entities(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    lines = [
        # Emoji before the entities: offsets count code points, and &amp; is one "&".
        tweet_v1(
            "300000000000000001",
            f"Opening 🎉 keynote &amp; panel #{TAG} @ben_pr https://t.co/abc",
            ANA,
        ),  # fmt: skip
        tweet_v1("300000000000000002", f"نظارت پایدار است #{TAG}", BEN, field="full_text"),
        tweet_v1(
            "300000000000000003",
            "A long one " + "word " * 40 + f"#{TAG}",
            ANA,
            field="extended_tweet",
            in_reply_to_status_id_str="300000000000000001",
        ),  # fmt: skip
        # A retweet stands for its original (with its full text).
        tweet_v1(
            "300000000000000004",
            "RT @ana_sw: Opening…",
            BEN,
            retweeted_status=tweet_v1("300000000000000005", f"Original words #{TAG}", ANA),
        ),  # fmt: skip
    ]
    output = _import(config, write_lines(tmp_path / "capture.jsonl", lines))
    assert _row(output, "capture.jsonl")[:5] == ["capture.jsonl", "twarc", "4", "4", "0"]
    posts = _posts(db_url)
    assert sorted(posts) == ["300000000000000001", "300000000000000002", "300000000000000003",
                             "300000000000000005"]  # fmt: skip
    first = posts["300000000000000001"]
    assert first.platform == "twitter"
    assert first.uri == "https://twitter.com/i/web/status/300000000000000001"
    assert first.url == "https://twitter.com/ana_sw/status/300000000000000001"
    assert first.text.startswith("Opening 🎉 keynote & panel")
    assert "keynote &amp; panel" in first.html
    assert f'class="hashtag" href="https://twitter.com/hashtag/{TAG}"' in first.html
    assert (
        '<a class="mention" href="https://twitter.com/ben_pr" rel="nofollow noopener ugc">@ben_pr</a>'
        in first.html
    )
    assert '<a href="https://example.org/long/path"' in first.html
    assert first.author.handle == "ana_sw" and first.author.platform == "twitter"
    assert posts["300000000000000002"].text.startswith("نظارت پایدار است")
    assert posts["300000000000000002"].author.display_name == "بن رحیمی"
    third = posts["300000000000000003"]
    assert third.text.endswith(f"#{TAG}") and "…" not in third.text
    assert third.reply_to_uri == first.uri
    assert posts["300000000000000005"].text == f"Original words #{TAG}"


def test_twarc2_pages_streamed_and_flattened_tweets(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    page = {
        "data": [
            tweet_v2("400000000000000001", f"Page tweet #{TAG}", "201",
                     attachments={"media_keys": ["3_1"]}),  # fmt: skip
            tweet_v2("400000000000000002", f"RT @cat: quoted #{TAG}", "202",
                     referenced_tweets=[{"type": "retweeted", "id": "400000000000000003"}]),  # fmt: skip
        ],
        "includes": {
            "users": [user_v2("201", "cat"), user_v2("202", "dan")],
            "tweets": [tweet_v2("400000000000000003", f"The original #{TAG}", "201")],
            "media": [{"media_key": "3_1", "type": "photo", "alt_text": "A slide",
                       "url": "https://pbs.twimg.com/media/x.jpg", "width": 800, "height": 600}],
        },
        "errors": [{"resource_type": "tweet", "resource_id": "400000000000000009",
                    "title": "Not Found Error", "detail": "Could not find tweet"}],
        "meta": {"result_count": 2},
    }  # fmt: skip
    streamed = {"data": tweet_v2("400000000000000004", f"Streamed #{TAG}", "202"),
                "includes": {"users": [user_v2("202", "dan")]}, "matching_rules": []}  # fmt: skip
    flat = dict(tweet_v2("400000000000000005", f"Flat #{TAG}", "203"),
                author=user_v2("203", "eve"), __twarc={"version": "2.0"})  # fmt: skip
    output = _import(config, write_lines(tmp_path / "v2.jsonl", [page, streamed, flat]))
    row = _row(output, "v2.jsonl")
    assert row[2:5] == ["5", "4", "0"], output  # 4 tweets read and 1 error entry
    assert "deleted or suspended at the source 1" in output
    posts = _posts(db_url)
    assert sorted(posts) == ["400000000000000001", "400000000000000003", "400000000000000004",
                             "400000000000000005"]  # fmt: skip
    assert posts["400000000000000005"].author.handle == "eve"
    db = Database(db_url)
    try:
        with db.reading() as session:
            post = session.scalar(select(Post).where(Post.uri.endswith("/400000000000000001")))
            assert post is not None
            assert [(m.alt, m.width, m.remote_url) for m in post.media] == [
                ("A slide", 800, "https://pbs.twimg.com/media/x.jpg")]  # fmt: skip
    finally:
        db.dispose()


def test_importing_twice_changes_nothing(tmp_path: Path, config: Path, db_url: str) -> None:
    lines = [tweet_v1(f"3000000000000001{i:02d}", f"Tweet {i} #{TAG}", ANA) for i in range(12)]
    capture = write_lines(tmp_path / "twice.jsonl", lines)
    _import(config, capture)
    again = _import(config, capture)
    assert _row(again, "twice.jsonl")[2:5] == ["12", "0", "12"]
    db = Database(db_url)
    try:
        with db.reading() as session:
            assert session.scalar(select(func.count(Post.id))) == 12
            assert session.scalar(select(func.count(PostSighting.id))) == 12
            record = session.scalars(select(ImportRecord)).one()
            assert (record.read, record.imported, record.already) == (12, 0, 12)
            assert record.finished_at is not None and record.format == "twarc"
            servers = set(session.scalars(select(PostSighting.server)))
            assert servers == {record.server}
    finally:
        db.dispose()


def test_broken_and_cut_lines_are_named_and_the_rest_imported(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    lines = [
        tweet_v1("300000000000000201", f"Fine #{TAG}", ANA),
        "{this is not json",
        json.dumps(tweet_v1("1", f"Float id #{TAG}", ANA)).replace('"id_str": "1"', '"id_str": "3.0000000000002E+17"')
        .replace('"id": 1,', '"id": 3.0000000000002e+17,'),
        tweet_v1("300000000000000202", f"Also fine #{TAG}", BEN),
        tweet_v1("300000000000000203", f"Cut in the middle #{TAG}", BEN),
    ]  # fmt: skip
    output = _import(config, write_lines(tmp_path / "cut.jsonl", lines, cut_last=True))
    assert "cut.jsonl line 2: not JSON" in output
    assert "cut.jsonl line 3: id written as a float (digits lost)" in output
    assert "cut.jsonl line 5: cut short (the file ends inside it)" in output
    assert sorted(_posts(db_url)) == ["300000000000000201", "300000000000000202"]


def test_consent_window_and_hashtag_apply(tmp_path: Path, config: Path, db_url: str) -> None:
    hidden = user_v1("103", "private_one", protected=True)
    opted_out = user_v1("104", "nobot_one", description="Social worker. #nobot please")
    lines = [
        tweet_v1("300000000000000301", f"Protected #{TAG}", hidden),
        tweet_v1("300000000000000302", f"Opted out #{TAG}", opted_out),
        tweet_v1("300000000000000303", f"Withheld #{TAG}", ANA, withheld_in_countries=["DE"]),
        tweet_v1("300000000000000304", f"Too early #{TAG}", ANA,
                 created="Mon Mar 18 09:00:00 +0000 2013"),  # fmt: skip
        tweet_v1("300000000000000305", "No hashtag here", ANA),
        tweet_v1("300000000000000306", f"Kept #{TAG}", ANA),
        tweet_v1("300000000000000307", f"Deleted later #{TAG}", ANA),
        {"delete": {"status": {"id": 300000000000000307, "id_str": "300000000000000307",
                               "user_id_str": "101"}, "timestamp_ms": "1363771000000"}},
    ]  # fmt: skip
    output = _import(config, write_lines(tmp_path / "consent.jsonl", lines))
    for reason in ("not public 1", "opted out: #nobot in profile 1", "withheld 1",
                   "outside the event's time 1", "tag not in post 1"):  # fmt: skip
        assert reason in output, output
    assert "1 post(s) forgotten" in output
    assert sorted(_posts(db_url)) == ["300000000000000306"]
    db = Database(db_url)
    try:
        with db.reading() as session:
            assert session.scalar(select(func.count(Tombstone.id))) >= 1
    finally:
        db.dispose()
    # The deleted tweet stays out when the capture is imported again.
    _import(config, tmp_path / "consent.jsonl")
    assert sorted(_posts(db_url)) == ["300000000000000306"]


def test_a_file_in_no_known_format_is_a_clear_error(tmp_path: Path, config: Path) -> None:
    strange = tmp_path / "notes.txt"
    strange.write_text("just some words\n", encoding="utf-8")
    result = run_cli("import", "swrb13", str(strange), config=config)
    assert result.exit_code != 0
    assert "notes.txt: not a file backchannel recognises" in result.output
    missing = run_cli("import", "nosuch", str(strange), config=config)
    assert missing.exit_code != 0 and "nosuch" in missing.output


FIXTURES = Path(__file__).parent / "fixtures" / "twarc-csv"


def test_twarc2s_own_output_as_twarc_csv_tests_it(tmp_path: Path, db_url: str) -> None:
    """Two pages twarc2 wrote (vendored from twarc-csv's tests): a retweet whose original
    is in the page's includes, and a tweet withheld in a country."""
    config = write_config(tmp_path, db_url)
    assert run_cli("init", config=config).exit_code == 0
    assert run_cli("event", "add", "ev", "--title", "E", "--hashtag", "poiuytrewq", "--start",
                   "2021-05-01", "--end", "2021-05-20", "--timezone", "UTC",
                   config=config).exit_code == 0  # fmt: skip
    result = run_cli("import", "ev", str(FIXTURES / "two_tweets.jsonl"),
                     str(FIXTURES / "withheld-first-line.jsonl"), "--no-media", "--wide",
                     config=config)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "withheld 1" in result.output, result.output
    posts = _posts(db_url)
    assert sorted(posts) == ["1391677057810288641"]  # the retweeted original
    assert posts["1391677057810288641"].author.handle == "bibaigna96"
    db = Database(db_url)
    try:  # the provenance twarc2 wrote on each line: its version, when it retrieved
        with db.reading() as session:
            record = session.scalars(select(ImportRecord).order_by(ImportRecord.id)).first()
            assert record is not None and record.tool == "twarc 2.0.13"
            assert record.captured_at is not None
            assert record.captured_at.isoformat() == "2021-05-19T15:26:17+00:00"
    finally:
        db.dispose()
    assert run_cli("export", "ev", "--no-search", config=config).exit_code == 0
    about = (tmp_path / "site" / "ev" / "about.html").read_text(encoding="utf-8")
    assert "two_tweets.jsonl (twarc 2.0.13, captured 19 May 2021): 0 posts published" in about


def test_media_are_fetched_where_they_still_answer(
    tmp_path: Path, config: Path, db_url: str
) -> None:
    """A tweet's photo and avatar at an address that answers are stored; one whose
    address no longer answers keeps the archive's placeholder."""
    from backchannel.sandbox.images import png
    from tests.export_browser import serve

    served = tmp_path / "pbs"
    served.mkdir()
    (served / "slide.png").write_bytes(png("slide", 120, 90))
    (served / "face.png").write_bytes(png("face", 48, 48))
    with serve(served) as origin:
        ana = user_v1("101", "ana_sw", "Ana Silva", profile_image_url_https=f"{origin}face.png")
        gone = f"{origin}gone.png"

        def photo(url: str) -> dict[str, object]:
            return {"media": [{"url": "https://t.co/m", "type": "photo", "media_url_https": url,
                               "ext_alt_text": "A slide"}]}  # fmt: skip

        lines = [
            tweet_v1(
                "300000000000000801",
                f"With a slide #{TAG}",
                ana,
                extended_entities=photo(f"{origin}slide.png"),
            ),  # fmt: skip
            tweet_v1(
                "300000000000000802",
                f"Its slide is gone #{TAG}",
                ana,
                extended_entities=photo(gone),
            ),  # fmt: skip
        ]
        capture = write_lines(tmp_path / "media.jsonl", lines)
        result = run_cli("import", "swrb13", str(capture), "--wide", config=config)
    assert result.exit_code == 0, result.output
    assert "media: " in result.output and "stored" in result.output
    db = Database(db_url)
    try:
        with db.reading() as session:
            states = {m.remote_url.rsplit("/", 1)[-1]: m.fetch_state
                      for m in session.scalars(select(Media))}  # fmt: skip
    finally:
        db.dispose()
    assert states["slide.png"] == "done" and states["face.png"] == "done"
    assert states["gone.png"] != "done"
    assert run_cli("consent", "imported", "swrb13", "all", config=config).exit_code == 0
    exported = run_cli("export", "swrb13", "--no-search", config=config)
    assert exported.exit_code == 0, exported.output
    day = (tmp_path / "site" / "swrb13" / "2013-03-20.html").read_text(encoding="utf-8")
    assert "127.0.0.1" not in day  # nothing from the old addresses: local copies
    assert 'alt="A slide"' in day and "assets/media.svg" in day  # the lost one's placeholder
