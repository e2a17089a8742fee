"""Consent end to end (issue 9): every signal planted in a sandbox world served over
real HTTP, collected by the real collectors, stored, exported with Pagefind; allow and
deny entries; the home-server lookup budget; a stricter setting after collection;
``forget`` on an author and on a post."""

from __future__ import annotations

import csv
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from backchannel.collect.service import collect
from backchannel.config import load_config
from backchannel.export import ExportOptions, export_site
from backchannel.sandbox.mastodon_server import MastodonSandbox
from backchannel.sandbox.mastodon_world import MastodonWorld
from backchannel.store.db import Database
from backchannel.store.models import (
    Author,
    Cursor,
    Exclusion,
    Media,
    Post,
    Story,
    StoryItem,
    Tombstone,
)
from tests.factories import T0, registered_event
from tests.helpers import run_cli, write_config
from tests.test_export import search_index_text, site_files

# username -> (home, account attributes, the reason it is left out or None)
PEOPLE: dict[str, tuple[str, dict[str, object], str | None]] = {
    "keeper": ("src.example", {}, None),
    "colleague": ("src.example", {}, None),
    "hidden": ("home.example", {"noindex": True}, "opted out: noindex"),
    "nobotter": ("src.example", {"note": "Social worker. #NoBot"}, "opted out: #nobot in profile"),
    "archless": (
        "src.example",
        {"fields": [("Archive", "#noarchive")]},
        "opted out: #noarchive in profile",
    ),
    "noindexer": ("src.example", {"note": "#noindex thanks"}, "opted out: #noindex in profile"),
    "searchless": ("src.example", {"note": "Hi #nosearch"}, "opted out: #nosearch in profile"),
    "banned": ("home.example", {"suspended": True}, "opted out: suspended"),
    "muted": ("src.example", {"limited": True}, "opted out: limited"),
    "robot": ("src.example", {"bot": True}, "bot"),
    "private": ("src.example", {"indexable": False}, None),  # pages only
}
POSTS_EACH = 3


def word(username: str, n: int) -> str:
    return f"zq{username}word{n}"


def world() -> MastodonWorld:
    w = MastodonWorld()
    for name in ("src.example", "home.example"):
        w.add_instance(name)
    w.sources = ["src.example"]
    for username, (home, attrs, _) in PEOPLE.items():
        seen = ["src.example"] if home != "src.example" else []
        w.add_account(username, home, seen_by=seen, display_name=username.title(), **attrs)  # type: ignore[arg-type]
        for n in range(POSTS_EACH):
            w.add_post(
                f"{username}@{home}",
                f"{word(username, n)} at the keynote #swrs26",
                created_at=T0 + timedelta(minutes=10 * n + len(username)),
                key=f"{username}-{n}",
            )
    return w


@pytest.fixture
def env(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    with MastodonSandbox(world()) as sandbox:
        src = sandbox.url("src.example")
        config_path = write_config(
            tmp_path,
            db_url,
            '[archive]\nsite_dir = "site"\nmedia_dir = "media"\n'
            '[export]\ncontact = "privacy@swrs.example"\n'
            "[collect]\ntimeout = 5.0\nretries = 2\nbackoff_cap = 0.5\n",
        )
        db = Database(db_url)
        db.init()
        registered_event(db, mastodon=(src,))
        yield sandbox, load_config(config_path), config_path, db
        db.dispose()


def _collect(db: Database, config) -> None:  # type: ignore[no-untyped-def]
    results = collect(db, config, "swrs26", clock=lambda: T0 + timedelta(days=3))
    assert all(r.status == "ok" for r in results), [r.error for r in results]


def _stored_words(db: Database) -> set[str]:
    with db.reading() as session:
        texts = session.scalars(select(Post.text))
        return {t.split()[0] for t in texts}


def _export(db: Database, config) -> Path:  # type: ignore[no-untyped-def]
    export_site(db, ExportOptions.from_config(config), ["swrs26"])
    return config.site_dir


def _lookups(sandbox: MastodonSandbox) -> int:
    return len(sandbox.instances["home.example"].requests_to("/api/v1/accounts/lookup"))


def test_every_signal_keeps_its_author_out_and_an_allow_entry_brings_one_back(env) -> None:  # type: ignore[no-untyped-def]
    sandbox, config, config_path, db = env
    _collect(db, config)
    kept = {u for u, (_, _, reason) in PEOPLE.items() if reason is None}
    assert _stored_words(db) == {word(u, n) for u in kept for n in range(POSTS_EACH)}
    # Each exclusion is recorded with its reason, and the author only by handle.
    with db.reading() as session:
        rows = session.execute(select(Exclusion.reason, Exclusion.author_handle)).all()
        assert session.scalar(select(func.count()).select_from(Author)) == len(kept)
    expected = {r: POSTS_EACH for _, (_, _, r) in PEOPLE.items() if r}
    assert {r: sum(1 for x, _ in rows if x == r) for r in expected} == expected
    assert all(handle and "zq" not in handle for _, handle in rows)

    # The noindex lookup: one request per author on their home server, not per post,
    # and none within the time to live, not even for authors never stored.
    home_authors = [u for u, (home, _, _) in PEOPLE.items() if home == "home.example"]
    assert _lookups(sandbox) == len(home_authors)
    with db.writing() as session:
        session.execute(delete(Cursor))  # read everything again
    _collect(db, config)
    assert _lookups(sandbox) == len(home_authors)

    # The export: indexable false is on the pages, not in search nor data downloads.
    site = _export(db, config)
    pages = "\n".join(
        v.decode("utf-8", "replace")
        for k, v in site_files(site, skip_search=True).items()
        if k.endswith(".html")
    )
    data = (site / "swrs26/posts.csv").read_text("utf-8")
    index = search_index_text(site)
    assert word("keeper", 0) in pages and word("keeper", 0) in data and word("keeper", 0) in index
    assert word("private", 0) in pages
    assert word("private", 0) not in data and word("private", 0) not in index
    for username, (_, _, reason) in PEOPLE.items():
        if reason:
            assert word(username, 0) not in pages + data + index, username
    # The About page explains: contact, policy, removal, counts by reason, no names.
    about = (site / "swrs26/about.html").read_text("utf-8")
    assert "privacy@swrs.example" in about and "Asking for removal" in about
    assert "<td>opted out: suspended</td><td>3</td>" in about
    assert "<td>bot</td><td>3</td>" in about
    for username in PEOPLE:
        assert f"{username}@" not in about.lower() and username.title() not in about
    assert 'href="about.html"' in (site / "swrs26/index.html").read_text("utf-8")
    assert (site / "about.html").is_file()

    # The organiser's report: counts; handles only with --names.
    report = run_cli("consent", "report", "swrs26", config=config_path)
    assert report.exit_code == 0, report.output
    assert "opted out: noindex" in report.output and "hidden@" not in report.output
    named = run_cli("consent", "report", "swrs26", "--names", config=config_path)
    handle = next(w for w in named.output.split() if w.startswith("hidden@"))

    # The author gave consent directly: an allow entry brings their posts back.
    allowed = run_cli("consent", "allow", "swrs26", handle, "--note", "email", config=config_path)
    assert allowed.exit_code == 0, allowed.output
    with db.reading() as session:  # the allow entry makes the next collection re-read
        assert session.scalar(select(func.count()).select_from(Cursor)) == 0
    _collect(db, config)
    assert word("hidden", 1) in _stored_words(db)
    with db.reading() as session:
        reasons = set(session.scalars(select(Exclusion.reason)))
    assert "opted out: noindex" not in reasons


def test_a_stricter_setting_after_collection_changes_the_next_export(env) -> None:  # type: ignore[no-untyped-def]
    _, config, config_path, db = env
    _collect(db, config)
    site = _export(db, config)
    assert word("keeper", 2) in (site / "swrs26/posts.csv").read_text("utf-8")
    assert run_cli("consent", "deny", "swrs26", f"keeper@{_domain(db, 'keeper')}",
                   config=config_path).exit_code == 0  # fmt: skip
    site = _export(db, config)
    everything = b"".join(site_files(site).values()).decode("utf-8", "replace")
    assert word("keeper", 2) not in everything
    about = (site / "swrs26/about.html").read_text("utf-8")
    assert "<td>denied by organiser</td><td>3</td>" in about
    # Then opt-in: nobody is on the allow list, so nothing is published.
    assert run_cli("consent", "policy", "swrs26", "opt-in", config=config_path).exit_code == 0
    site = _export(db, config)
    rows = list(csv.reader((site / "swrs26/posts.csv").open(encoding="utf-8")))
    assert len(rows) == 1  # the header only
    assert "not on the opt-in list" in (site / "swrs26/about.html").read_text("utf-8")


def _domain(db: Database, username: str) -> str:
    with db.reading() as session:
        handle = session.scalar(select(Author.handle).where(Author.handle.startswith(username)))
    assert handle
    return handle.split("@", 1)[1]


def _plant_media(db: Database, config, username: str, content: bytes) -> Path:  # type: ignore[no-untyped-def]
    """A stored local copy for the first post of ``username`` (what issue 8 downloads)."""
    sha = hashlib.sha256(content).hexdigest()
    relative = f"{sha[:2]}/{sha}.png"
    path = config.media_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    with db.writing() as session:
        post = session.scalar(select(Post).where(Post.text.startswith(word(username, 0))))
        session.add(Media(post_id=post.id, kind="image", sha256=sha, local_path=relative,
                          content_type="image/png", fetch_state="done", alt="slide"))  # fmt: skip
    return path


def test_forget_an_author_and_a_post_everywhere(env) -> None:  # type: ignore[no-untyped-def]
    _, config, config_path, db = env
    _collect(db, config)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    mine = _plant_media(db, config, "keeper", png)
    _plant_media(db, config, "colleague", png)  # the same file: shared, must stay
    other = _plant_media(db, config, "colleague", b"\x89PNG\r\n\x1a\n" + b"1" * 64)
    with db.writing() as session:
        first = session.scalar(select(Post).where(Post.text.startswith(word("keeper", 0))))
        story = Story(event_id=1, slug="day-one", title="Day one")
        story.items = [StoryItem(position=0, kind="post", post_id=first.id, post_ref=first.url,
                                 annotation="great point")]  # fmt: skip
        session.add(story)
        colleague_url = session.scalar(
            select(Post.url).where(Post.text.startswith(word("colleague", 1)))
        )
    site = _export(db, config)
    assert word("keeper", 0) in (site / "swrs26/story-day-one.html").read_text("utf-8")
    assert word("colleague", 1) in search_index_text(site)

    handle = f"keeper@{_domain(db, 'keeper')}"
    result = run_cli("forget", "--author", handle, "--reason", "email", config=config_path)
    assert result.exit_code == 0, result.output
    assert "re-exported swrs26" in result.output
    result = run_cli("forget", "--post", colleague_url, config=config_path)
    assert result.exit_code == 0, result.output

    gone = [word("keeper", n) for n in range(POSTS_EACH)] + [word("colleague", 1)]
    with db.reading() as session:
        texts = " ".join(session.scalars(select(Post.text)))
        assert not session.scalars(select(Author).where(Author.handle == handle)).all()
        item = session.scalar(select(StoryItem))
        assert (item.kind, item.post_id, item.post_ref, item.annotation) == (
            "removed",
            None,
            None,
            None,
        )
        stones = session.scalars(select(Tombstone.key_sha256)).all()
    assert not any(w in texts for w in gone)
    assert word("colleague", 0) in texts
    assert handle not in " ".join(stones) and len(stones) == 3  # author uri, handle, post
    assert not mine.exists() or mine == _shared(config, png)
    assert _shared(config, png).exists() and other.exists()  # still used by other posts
    everything = b"".join(site_files(site, skip_search=True).values()).decode("utf-8", "replace")
    index = search_index_text(site)
    for w in gone:
        assert w not in everything and w not in index, w
    assert "keeper" not in everything.lower()
    assert word("colleague", 0) in everything
    story_page = (site / "swrs26/story-day-one.html").read_text("utf-8")
    assert 'class="removed"' in story_page and "great point" not in story_page

    # A new collection does not bring them back.
    with db.writing() as session:
        session.execute(delete(Cursor))
    _collect(db, config)
    with db.reading() as session:
        texts = " ".join(session.scalars(select(Post.text)))
    assert not any(w in texts for w in gone)
    listing = run_cli("forget", "--list", config=config_path)
    assert listing.exit_code == 0 and "email" in listing.output and "post" in listing.output


def _shared(config, content: bytes) -> Path:  # type: ignore[no-untyped-def]
    sha = hashlib.sha256(content).hexdigest()
    return config.media_dir / f"{sha[:2]}/{sha}.png"


def test_forget_deletes_a_file_no_other_row_uses(env) -> None:  # type: ignore[no-untyped-def]
    _, config, config_path, db = env
    _collect(db, config)
    path = _plant_media(db, config, "keeper", b"\x89PNG\r\n\x1a\n" + b"2" * 64)
    handle = f"keeper@{_domain(db, 'keeper')}"
    result = run_cli("forget", "--author", handle, config=config_path)
    assert result.exit_code == 0, result.output
    assert not path.exists()
    assert (
        "none of its events is published" in result.output
    )  # no site folder yet: nothing to re-export
