"""The studio against an attacker (issue 30): roles declared on every route, sessions
held on the server, a link that works once, a lockout that cannot be turned against a
person, no words from the address, history and revisions on the server, HTTPS."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from starlette.routing import Route

from backchannel.events import EventSpec, create_event
from backchannel.store import EventPost, Post
from backchannel.studio import create_app
from backchannel.studio.roles import ANYONE, CURATOR, ORGANISER, declared, needed_for
from tests.studio_kit import STORIES, TOKEN, Studio, add_account, sign_in, until_done


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
