"""The studio against an attacker (issue 30): roles declared on every route, sessions
held on the server, a link that works once, a lockout that cannot be turned against a
person, no words from the address, history and revisions on the server, HTTPS."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Route
from starlette.testclient import TestClient

from backchannel.curation import (
    Block,
    format_story,
    get_story,
    list_stories,
    revision_markdown,
    save_story,
    story_doc,
)
from backchannel.curation.deltas import apply_delta, make_delta
from backchannel.events import EventSpec, create_event
from backchannel.store import (
    Database,
    Event,
    EventPost,
    Post,
    StoryRevision,
    StudioAction,
    StudioSession,
    utcnow,
)
from backchannel.studio import create_app, make_link
from backchannel.studio.roles import ANYONE, CURATOR, ORGANISER, declared, needed_for
from backchannel.studio.sessions import COOKIE
from tests.export_fixture import build_fixture
from tests.helpers import run_cli, write_config
from tests.studio_kit import (
    EDITOR,
    ORIGIN,
    STORIES,
    TOKEN,
    Studio,
    add_account,
    make_studio,
    new_story,
    open_when_up,
    served,
    sign_in,
    until_done,
)


def _walkable(path: str) -> str:
    return path.replace("{event}", "swrb13").replace("{story}", "day-one")


def test_every_route_declares_its_role_and_an_undeclared_one_is_found(
    organising: Studio,
) -> None:
    app = organising.client.app
    routes = declared(app)
    assert len(routes) >= 14 and all(role is not None for *_, role in routes), routes
    app.router.routes.append(Route("/forgotten", lambda request: None))  # type: ignore[attr-defined]
    assert ("/forgotten", frozenset({"GET"}), None) in declared(app)
    app.router.routes.pop()  # type: ignore[attr-defined]
    bare = create_app(organising.db, TOKEN, 8765)  # without the archive's settings too
    assert all(role is not None for *_, role in declared(bare))


def test_signed_out_people_and_curators_get_only_what_their_role_allows(
    organising: Studio, tmp_path: Path
) -> None:
    studio, config = organising, tmp_path / "config.toml"
    app = studio.client.app
    for path, methods, role in declared(app):
        for method in methods:
            if needed_for(role, method) == ANYONE:  # type: ignore[arg-type]
                continue
            answer = studio.client.request(method, _walkable(path) + ("/x" if path in (
                "/preview", "/site") else ""))  # fmt: skip
            assert answer.status_code == 403, (method, path)  # signed out
    add_account(studio, config, "aroha", "curator")
    assert sign_in(studio, "aroha") == 303
    token = studio.csrf(STORIES)
    for path, methods, role in declared(app):
        if path in ("/static", "/preview", "/site", "/login", "/logout"):
            continue
        for method in methods:
            answer = studio.client.request(method, _walkable(path),
                                           data={"csrf": token} if method == "POST" else None)  # fmt: skip
            if needed_for(role, method) == ORGANISER:  # type: ignore[arg-type]
                assert answer.status_code == 403, (method, path)
                assert "Only an organiser may do this" in answer.text
            else:
                assert needed_for(role, method) == CURATOR  # type: ignore[arg-type]
                assert answer.status_code != 403, (method, path, answer.text)


def test_a_curator_previews_but_may_not_publish(organising: Studio, tmp_path: Path) -> None:
    studio, site = organising, tmp_path / "site"
    add_account(studio, tmp_path / "config.toml", "aroha", "curator")
    assert sign_in(studio, "aroha") == 303
    stories = studio.client.get(STORIES).text
    assert 'action="/events/swrb13/preview"' in stories
    assert 'action="/events/swrb13/publish"' not in stories  # not offered either
    token = studio.csrf(STORIES)
    refused = studio.client.post("/events/swrb13/publish", data={"csrf": token})
    assert refused.status_code == 403 and "Only an organiser may do this" in refused.text
    assert not site.exists()
    started = studio.client.post("/events/swrb13/preview", data={"csrf": token})
    assert started.status_code == 303 and "Done:" in until_done(studio, "preview")
    assert studio.client.get("/preview/swrb13/index.html").status_code == 200
    assert not site.exists()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_forget_in_an_unpublished_event_leaves_the_site_byte_identical(
    organising: Studio, tmp_path: Path
) -> None:
    studio, db, site = organising, organising.db, tmp_path / "site"
    studio.login()
    token = studio.csrf(STORIES)
    assert studio.client.post("/events/swrb13/publish", data={"csrf": token}).status_code == 303
    assert "Done:" in until_done(studio, "publish")
    with db.writing() as session:  # a second event, never published, holding one post
        quiet = create_event(session, EventSpec(slug="quiet", title="Quiet", hashtags=["q"],
                                                start="2013-11-14", end="2013-11-15",
                                                timezone="UTC"))  # fmt: skip
        moved = session.scalars(select(EventPost).order_by(EventPost.post_id)).first()
        assert moved is not None
        moved.event_id = quiet.id
        uri = session.get(Post, moved.post_id).uri  # type: ignore[union-attr]
    before = _files(site)
    form = {"csrf": studio.csrf(STORIES), "post": uri, "reason": "asked to"}
    done = studio.client.post("/events/quiet/forget", data=form)
    assert done.status_code == 200, done.text
    assert "None of its events is published, so the site is as it was." in done.text
    assert _files(site) == before
    assert not (site / "quiet").exists()


# -- 1. sessions held on the server ------------------------------------------------------


def _copy(studio: Studio) -> TestClient:
    """Another browser holding a copy of this one's cookies."""
    other = TestClient(studio.client.app, base_url=ORIGIN, follow_redirects=False)
    for name, value in studio.client.cookies.items():
        other.cookies.set(name, value)
    return other


def test_a_cookie_copied_before_sign_out_is_refused_after_it(studio: Studio) -> None:
    studio.login()
    value = studio.client.cookies.get(COOKIE)
    assert value and len(value) < 100  # a random key, nothing else
    copied = _copy(studio)
    token = studio.csrf(STORIES)
    assert copied.get(STORIES).status_code == 200
    assert studio.client.post("/logout", data={"csrf": token}).status_code == 200
    assert copied.get(STORIES).status_code == 403
    change = copied.post(STORIES, data={"csrf": token, "title": "Late", "slug": "late"})
    assert change.status_code == 403
    with studio.db.reading() as session:
        assert session.scalars(select(StudioSession)).all() == []
        assert "late" not in [s.slug for s in list_stories(session, "swrb13")]


def test_sessions_end_when_idle_too_old_or_ended_from_the_command_line(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "curator")
    assert (
        sign_in(
            studio,
            "aroha",
        )
        == 303
    )
    listed = run_cli("studio", "sessions", config=config)
    assert listed.exit_code == 0 and re.search(r"\n\s*1\s+aroha\s+curator\s", listed.output)
    assert "testclient" in listed.output  # the browser's user agent
    for field, limit in (
        ("last_seen", timedelta(minutes=481)),
        ("created_at", timedelta(hours=73)),
    ):
        assert studio.client.get(STORIES).status_code == 200
        with studio.db.writing() as session:
            row = session.scalars(select(StudioSession)).one()
            setattr(row, field, getattr(row, field) - limit)
        assert studio.client.get(STORIES).status_code == 403, field
        assert sign_in(studio, "aroha") == 303
    assert studio.client.get(STORIES).status_code == 200
    ended = run_cli("studio", "sessions", "end", "--all", config=config)
    assert ended.exit_code == 0 and "ended 1 session(s)" in ended.output
    assert studio.client.get(STORIES).status_code == 403
    assert run_cli("studio", "sessions", config=config).output.strip() == "no sessions"
    assert sign_in(studio, "aroha") == 303
    role = run_cli("studio", "user", "role", "aroha", "--role", "organiser", config=config)
    assert role.exit_code == 0 and "their sessions ended" in role.output
    assert studio.client.get(STORIES).status_code == 403
    assert sign_in(studio, "aroha") == 303
    assert studio.client.get("/events/swrb13/organise").status_code in (200, 404)


# -- 2. the link works once ------------------------------------------------------------


def test_the_link_works_once_and_a_new_one_is_made_without_a_restart(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    first = studio.client.get(f"/login?token={TOKEN}")
    assert first.status_code == 303
    again = TestClient(studio.client.app, base_url=ORIGIN, follow_redirects=False)
    used = again.get(f"/login?token={TOKEN}")
    assert used.status_code == 403 and "studio link" in used.text
    made = run_cli("studio", "link", "--port", "8765", config=config)
    assert made.exit_code == 0, made.output
    link = made.output.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:8765/login\?token=[\w-]{40,}", link)
    path = link.removeprefix(ORIGIN)
    assert again.get(path).status_code == 303
    assert TestClient(studio.client.app, base_url=ORIGIN).get(path).status_code == 403
    with studio.db.reading() as session:
        names = session.scalars(
            select(StudioAction.who).where(StudioAction.action == "log in")
        ).all()
    assert len(names) == 2 and names[0] != names[1]  # two people, told apart
    assert all(re.fullmatch(r"link made at [\d-]+ [\d:]+ UTC \(#\d+\)", n) for n in names)


# -- 5. a lockout that cannot be turned against a person --------------------------------


def _from(studio: Studio, address: str) -> Studio:
    """The same studio, reached from another address."""
    client = TestClient(studio.client.app, base_url=ORIGIN, follow_redirects=False,
                        client=(address, 40000))  # fmt: skip
    return Studio(client, studio.db)


def _try(studio: Studio, name: str, password: str) -> httpx.Response:
    form = {"csrf": studio.csrf("/login"), "name": name, "password": password}
    return studio.client.post("/login", data=form)


def test_five_wrong_passwords_from_one_address_do_not_refuse_the_right_one_from_another(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "organiser")
    attacker, aroha = _from(studio, "203.0.113.9"), _from(studio, "198.51.100.4")
    answers = []
    for n in range(5):
        if n:  # each try after the wait the last one earned
            with studio.db.writing() as session:
                for action in session.scalars(select(StudioAction)):
                    action.at -= timedelta(minutes=1)
        answers.append(_try(attacker, "aroha", "a wrong guess, again"))
    assert [a.status_code for a in answers] == [400] * 5
    assert _try(aroha, "aroha", "a long enough secret").status_code == 303  # at once
    slowed = _try(attacker, "aroha", "a long enough secret")  # the right one, too soon
    assert slowed.status_code == 429 and "try again in" in slowed.text
    assert 0 < int(slowed.headers["retry-after"]) <= 4
    restarted = make_studio(studio.db)  # a restart forgets nothing: it is in the log
    with restarted.client:
        assert _try(_from(restarted, "203.0.113.9"), "mere", "a guess").status_code == 429
    with studio.db.reading() as session:
        logged = session.execute(select(StudioAction.who, StudioAction.action,
                                        StudioAction.address)).all()  # fmt: skip
    assert logged == [("aroha", "wrong password", "203.0.113.9")] * 5 + [
        ("aroha", "log in", "198.51.100.4"),
        ("aroha", "sign-in too soon", "203.0.113.9"),
        ("mere", "sign-in too soon", "203.0.113.9"),
    ]


def test_the_delays_grow_by_address_and_stay_short_for_a_name(
    with_accounts: tuple[Studio, Path],
) -> None:
    studio, config = with_accounts
    add_account(studio, config, "aroha", "organiser")
    now = utcnow()
    with studio.db.writing() as session:  # wrong passwords logged a minute ago
        session.add_all(StudioAction(who="x", action="wrong password", address="192.0.2.1",
                                     at=now - timedelta(minutes=1)) for _ in range(12))  # fmt: skip
    from_there = _try(_from(studio, "192.0.2.1"), "anyone", "a guess")
    waited = int(re.search(r"try again in (\d+) second", from_there.text).group(1))  # type: ignore[union-attr]
    assert from_there.status_code == 429 and 440 < waited <= 452  # 2**9 s, less the minute
    with studio.db.writing() as session:  # 30 wrong guesses at aroha, from 30 addresses
        session.add_all(StudioAction(who="aroha", action="wrong password",
                                     address=f"10.0.0.{n}", at=utcnow()) for n in range(30))  # fmt: skip
    elsewhere = _try(_from(studio, "198.51.100.4"), "aroha", "a long enough secret")
    assert elsewhere.status_code == 429
    seconds = int(re.search(r"try again in (\d+) second", elsewhere.text).group(1))  # type: ignore[union-attr]
    assert seconds <= 60  # never the quarter of an hour an address can earn


# -- 6. nothing from the address shown as the studio's words ----------------------------


def test_a_said_text_in_the_address_is_not_shown_but_a_change_is_said_once(
    studio: Studio,
) -> None:
    studio.login()
    posts = "/events/swrb13/posts"
    forged = studio.client.get(posts, params={"said": "Your session expired: call 555-0100"})
    assert forged.status_code == 200 and "555-0100" not in forged.text
    with studio.db.reading() as session:
        uri = session.scalars(select(Post.uri).order_by(Post.created_at)).first()
    hidden = studio.client.post(posts, data={"csrf": studio.csrf(posts), "action": "hidden",
                                             "address": uri, "reason": "asked to"})  # fmt: skip
    assert hidden.status_code == 303 and "said" not in hidden.headers["location"]
    assert "Post hidden." in studio.client.get(hidden.headers["location"]).text
    assert "Post hidden." not in studio.client.get(hidden.headers["location"]).text


# -- 7. the cookie stays small ---------------------------------------------------------


def test_the_cookie_stays_under_1_kb_after_50_stories_edited(studio: Studio) -> None:
    studio.login()
    for n in range(50):
        made = studio.client.post(STORIES, data={"csrf": studio.csrf(STORIES),
                                                 "title": f"Story {n}", "slug": f"s{n}"})  # fmt: skip
        assert made.status_code == 303
        editor = made.headers["location"]
        changed = studio.change(editor, action="add_heading", text=f"Part {n}")
        assert changed.status_code == 303
        assert studio.client.get(editor).status_code == 200
    header = "; ".join(f"{k}={v}" for k, v in studio.client.cookies.items())
    assert len(header) < 1024
    undone = studio.change(editor, action="undo")  # the history is on the server
    assert undone.status_code == 303 and "Undone." in studio.client.get(editor).text


# -- 8. HTTPS ----------------------------------------------------------------------------


def test_the_cookie_is_secure_over_https_and_not_over_plain_http(studio: Studio) -> None:
    plain = studio.client.get(f"/login?token={TOKEN}")
    assert "HttpOnly" in plain.headers["set-cookie"]
    assert "Secure" not in plain.headers["set-cookie"]
    with studio.db.writing() as session:
        token = make_link(session, utcnow())
    https = TestClient(studio.client.app, base_url="https://127.0.0.1:8765",
                       follow_redirects=False)  # fmt: skip
    answer = https.get(f"/login?token={token}")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "; Secure" in cookie and "SameSite=Strict" in cookie


def test_behind_a_proxy_the_forwarded_https_makes_the_cookie_secure(
    db_url: str, tmp_path: Path
) -> None:
    url = db_url
    build_fixture(url).dispose()
    config = write_config(tmp_path, url)
    with served(config) as (port, link), httpx.Client(timeout=5) as client:
        first = open_when_up(client, link.replace("/login", "/static/studio.css"))
        assert first.status_code == 200
        answer = client.get(link, headers={"x-forwarded-proto": "https"})
        assert answer.status_code == 303 and "; Secure" in answer.headers["set-cookie"]
        made = run_cli("studio", "link", "--port", str(port), config=config)
        plain = client.get(made.output.strip())
        assert plain.status_code == 303 and "Secure" not in plain.headers["set-cookie"]
        assert client.get(link).status_code == 403  # the first link, used already


def test_a_public_url_needs_accounts_and_is_the_links_address(db_url: str, tmp_path: Path) -> None:
    url = db_url
    build_fixture(url).dispose()
    config = write_config(tmp_path, url, '[studio]\npublic_url = "https://studio.example.org"\n')
    refused = run_cli("studio", "--no-browser", config=config)
    assert refused.exit_code == 1
    assert "studio.public_url https://studio.example.org: other machines may reach" in (
        refused.output)  # fmt: skip
    made = run_cli("studio", "link", config=config)
    assert re.fullmatch(r"https://studio\.example\.org/login\?token=\S+", made.output.strip())
    bad = write_config(tmp_path, url, '[studio]\npublic_url = "http://studio.example.org/x"\n')
    wrong = run_cli("studio", "link", config=bad)
    assert wrong.exit_code != 0 and "studio.public_url" in wrong.output


# -- 7. revisions stored as the change ---------------------------------------------------


def _stored_bytes(db: Database) -> int:
    with db.reading() as session:
        rows = session.execute(select(StoryRevision.markdown, StoryRevision.delta)).all()
    return sum(len((m or "").encode()) + len((d or "").encode()) for m, d in rows)


def test_a_change_to_a_story_with_a_1_mb_text_block_stores_under_10_kb(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    paragraph = "People **arrived** from all over, and said so at length. " * 2
    block = "\n".join(f"{paragraph}{n}" for n in range(1_000_000 // len(paragraph)))
    assert len(block.encode()) > 1_000_000  # more than a form field takes: as a file would
    with studio.db.writing() as session:
        event_id = session.scalar(select(Event.id).where(Event.slug == "swrb13"))
        doc = story_doc(session, get_story(session, "swrb13", "notes"))
        doc.blocks.append(Block("text", 0, text=block))
        assert save_story(session, format_story(doc), "an import", 1, event_id) == 2
    texts = {}
    with studio.db.reading() as session:
        texts[2] = revision_markdown(session, event_id, "notes", 2)
    for n, change in enumerate(({"action": "add_heading", "text": "Keynote"},
                                {"action": "up", "index": "1"},
                                {"action": "add_heading", "text": "Lunch"}), start=3):  # fmt: skip
        before = _stored_bytes(studio.db)
        assert studio.change(EDITOR, **change).status_code == 303
        assert _stored_bytes(studio.db) - before < 10_000, change
        with studio.db.reading() as session:
            texts[n] = revision_markdown(session, event_id, "notes", n)
    with studio.db.reading() as session:  # every revision comes back whole
        for number, text in texts.items():
            assert revision_markdown(session, event_id, "notes", number) == text
    assert "Keynote" in texts[3] and block.splitlines()[-1] in texts[5]
    restored = studio.change(EDITOR, action="restore", number="2")
    assert restored.status_code == 303
    with studio.db.reading() as session:
        assert revision_markdown(session, event_id, "notes", 6) == texts[2]


def test_a_story_over_the_limit_is_refused_and_says_so(studio: Studio) -> None:
    studio.login()
    new_story(studio)
    part = "A sentence of the story, long enough to add up.\n" * 18_000  # 0.9 MB
    for _ in range(2):
        assert studio.change(EDITOR, action="add_text", text=part).status_code == 303
    refused = studio.change(EDITOR, action="add_text", text=part)  # 2.7 MB in all
    assert refused.status_code == 400
    assert "a story holds at most 2,000,000" in html.unescape(refused.text)
    with studio.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(StoryRevision)) == 3


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", ""),
        ("", "a\nb"),
        ("a\nb\n", ""),
        ("one\ntwo\nthree\n", "one\n2\nthree\nfour"),
        ("x\r\ny\r\n", "x\r\nz\r\ny\r\n"),
        ("same\n" * 5 + "end", "start\n" + "same\n" * 5),
        ("a\nb\nc\nd\ne\n", "e\nd\nc\nb\na\n"),
    ],
)
def test_a_delta_turns_one_text_into_the_other_exactly(old: str, new: str) -> None:
    assert apply_delta(old, make_delta(old, new)) == new
    assert apply_delta(new, make_delta(new, old)) == old
