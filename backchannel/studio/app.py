"""The studio's application and its curator's pages: sign-in, the post browser and the
story editor (the organiser's pages are in :mod:`backchannel.studio.organising`).

Every page works without JavaScript: each change is a form posted to the server, which
saves it as a new revision and answers with the page again, the change announced in a
status region for screen readers (said once, from the session). See
:mod:`backchannel.studio.security` for the Host check, the CSRF token and the headers,
:mod:`~backchannel.studio.sessions` and :mod:`~backchannel.studio.links` for signing in,
and :mod:`~backchannel.studio.roles` for who may open what.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from backchannel.consent import set_decision
from backchannel.curation import (
    StoryDoc,
    addresses,
    current_revision,
    format_story,
    get_story,
    list_revisions,
    list_stories,
    revision_markdown,
    save_story,
    schedule_of,
    set_state,
    story_doc,
    story_posts,
)
from backchannel.errors import ConflictError, InputError, NotFoundError
from backchannel.export import markdown_html, post_html
from backchannel.resources import templates_dir
from backchannel.store import Database, EventPost, Post, utcnow
from backchannel.studio import roles, security, sessions
from backchannel.studio.accounts import (
    TOO_SOON,
    WRONG_PASSWORD,
    check_password,
    has_accounts,
    wait_before_trying,
)
from backchannel.studio.browse import (
    PLATFORMS,
    SORTS,
    STATES,
    PostQuery,
    search_posts,
    section_windows,
    suggestions,
    thread_of,
    threads_for,
)
from backchannel.studio.collecting import Collector
from backchannel.studio.editing import History, apply_change
from backchannel.studio.importing import Importer
from backchannel.studio.links import make_link, use_link
from backchannel.studio.organising import OrganiserPages
from backchannel.studio.pages import event_named as _event
from backchannel.studio.publishing import Publisher
from backchannel.studio.roles import ANYONE, CURATOR, ORGANISER


def create_app(
    db: Database, token: str | None, port: int, hosts: frozenset[str] | None = None,
    config: Any = None,
) -> Any:  # fmt: skip
    """The studio as an ASGI application; the link ``token`` opens it once (see
    ``links``).
    Without ``config`` there is no preview or publishing (they need the site's
    settings)."""
    folder = templates_dir() / "studio"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(post_html=_post_html, markdown_html=markdown_html, urlencode=urlencode,
                       page_link=_page_link)  # fmt: skip
    publisher = collector = importer = None
    if config is not None:
        publisher = Publisher(db, config, Path(tempfile.mkdtemp(prefix="backchannel-preview-")))
        collector = Collector(db, config)
        importer = Importer(db, config)
    pages = _Pages(db, env, publisher, collector, importer)
    check = pages.admit
    # Deny by default: each route names the role it needs (see roles).
    routes = [
        roles.route("/login", pages.login, ANYONE, check, ("GET", "POST")),
        roles.route("/logout", pages.logout, ANYONE, check, ("POST",)),
        roles.route("/activity", pages.activity, ORGANISER, check),
        roles.route("/", pages.home, {"GET": CURATOR, "POST": ORGANISER}, check, ("GET", "POST")),
        roles.route("/events/{event}/organise", pages.organise, ORGANISER, check, ("GET", "POST")),
        roles.route("/events/{event}/import", pages.upload, ORGANISER, check, ("POST",)),
        roles.route("/events/{event}/posts", pages.posts, CURATOR, check, ("GET", "POST")),
        roles.route("/events/{event}/stories", pages.stories, CURATOR, check, ("GET", "POST")),
        roles.route("/events/{event}/stories/{story}", pages.editor, CURATOR, check,
                    ("GET", "POST")),
        roles.route("/events/{event}/preview", pages.preview, CURATOR, check, ("GET", "POST")),
        roles.route("/events/{event}/publish", pages.publish, ORGANISER, check, ("GET", "POST")),
        roles.route("/events/{event}/forget", pages.forget, ORGANISER, check, ("GET", "POST")),
        roles.mount("/static", StaticFiles(directory=str(folder / "static")), ANYONE, check,
                    name="static"),
    ]  # fmt: skip
    if publisher is not None:  # the preview and the published site, to signed-in people
        routes += [
            roles.mount("/preview", StaticFiles(directory=str(publisher.preview_dir), html=True),
                        CURATOR, check),
            roles.mount("/site", StaticFiles(directory=str(config.site_dir), html=True,
                                             check_dir=False), CURATOR, check),
        ]  # fmt: skip
    if token:  # the link printed at start (more with `backchannel studio link`)
        with db.writing() as session:
            make_link(session, utcnow(), token)
    public = config.studio.public_url if config is not None else ""
    middleware = [
        Middleware(security.Guard, hosts=hosts or security.allowed_hosts(port)),
        Middleware(sessions.ServerSessions, db=db, limits=sessions.Limits.from_config(config),
                   always_secure=public.startswith("https://")),
    ]  # fmt: skip
    return Starlette(
        routes=routes, middleware=middleware,
        exception_handlers={NotFoundError: _not_found, InputError: _bad_input},
    )  # fmt: skip


async def _not_found(request: Request, exc: Exception) -> Response:
    return security.refused(f"Not found: {exc}", 404)


async def _bad_input(request: Request, exc: Exception) -> Response:
    return security.refused(str(exc), 400)


def _page_link(request: Request, page: int) -> str:
    """This page's address with its filters, at another page of results."""
    params = {k: v for k, v in request.query_params.items() if k != "page"}
    return "?" + urlencode({**params, "page": page})


def _post_html(post: Post) -> Any:
    # The exporter's path: checked (re-cleaned if need be); no remote image survives.
    return post_html(post.html or "", {}, {}, "")


class _Pages(OrganiserPages):
    async def logout(self, request: Request) -> Response:
        if await self._form(request) is None:  # a foreign page must not sign anyone out
            return security.refused("The form's CSRF token is missing or wrong: reload.")
        if security.who(request) is not None:
            with self.db.writing() as session:
                self._log(session, request, "log out", "")
        sessions.log_out(self.db, request)
        with self.db.reading() as session:
            accounts = has_accounts(session)
        return self.render(request, "denied.html", signed_out=True, accounts=accounts)

    async def login(self, request: Request) -> Response:
        if "token" in request.query_params:  # a sign-in link: an organiser, once
            with self.db.writing() as session:
                name = use_link(session, request.query_params["token"][:200], utcnow())
                if name is not None:
                    self._log(session, request, "log in", "with a link", who=name)
            if name is None:
                with self.db.reading() as session:
                    accounts = has_accounts(session)
                return self.render(request, "denied.html", 403, bad_token=True, accounts=accounts)
            sessions.log_in(self.db, request, name, "organiser")
            return RedirectResponse("/", status_code=303)
        with self.db.reading() as session:
            if not has_accounts(session):
                return self.render(request, "denied.html", 403)
        error, name = None, ""
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            name = form.get("name", "")[:100]
            address = sessions.client_address(request)
            # From here to the log entry nothing awaits: two guesses cannot both pass
            # the wait before either is logged.
            with self.db.reading() as session:  # no write lock while Argon2 works
                wait = wait_before_trying(session, name, address, utcnow())
                user = None if wait else check_password(session, name, form.get("password", ""))
                found = (
                    (user.name, user.role, sessions.account_key(user.id, user.created_at))
                    if user
                    else None
                )
            action = TOO_SOON if wait else "log in" if found else WRONG_PASSWORD
            with self.db.writing() as session:  # every attempt, in the log
                self._log(session, request, action, "", who=name)
            if wait:  # guessing: wait, whatever the password
                seconds = math.ceil(wait.total_seconds())
                return PlainTextResponse(
                    f"Too many wrong passwords from here: try again in {seconds} second(s).",
                    429, headers={"retry-after": str(seconds)},
                )  # fmt: skip
            if found is not None:
                sessions.log_in(self.db, request, *found)
                return RedirectResponse("/", status_code=303)
            error = "That name and password do not match an account."
        sessions.ensure_csrf(request)
        return self.render(request, "login.html", 400 if error else 200, error=error, typed=name)

    async def posts(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._post_action(request)
        query = _query(request)
        said = sessions.take_flash(self.db, request)
        with self.db.reading() as session:
            event = _event(session, request.path_params["event"])
            found = search_posts(session, event, query)
            threads = threads_for(session, event, [post for post, _ in found.posts])
            return self.render(request, "posts.html", event=event, found=found, query=query,
                               threads=threads,
                               sorts=SORTS, states=STATES, platforms=PLATFORMS,
                               sessions=[s.title for s in schedule_of(event)],
                               said=said,
                               role=security.role(request))  # fmt: skip

    async def _post_action(self, request: Request) -> Response:
        """Hide, feature or include a post (curators too); leave its author out of the
        event (organisers only). The page comes back with what was done, or why not."""
        slug = request.path_params["event"]
        form = await self._form(request)
        if form is None:
            return security.refused("The form's CSRF token is missing or wrong: reload.")
        action, address = form.get("action", ""), form.get("address", "")
        if action == "deny" and security.role(request) != "organiser":
            return security.refused("Only an organiser may leave an author out of an event.")
        try:
            with self.db.writing() as session:
                if action == "deny":
                    handle = form.get("handle", "")
                    set_decision(session, slug, handle, "deny", "left out in the studio")
                    said = f"@{handle} is left out of this event from the next export."
                elif action in ("hidden", "featured", "included"):
                    reason = form.get("reason", "").strip() or None
                    if action == "hidden" and not reason:
                        raise InputError("reason: say why the post is hidden")
                    set_state(session, address, action, reason, slug)
                    said = f"Post {action if action != 'included' else 'included again'}."
                else:
                    raise InputError(f"unknown action {action!r}")
                self._log(session, request, action, address or form.get("handle", ""))
        except InputError as exc:
            said = f"Not done: {exc}"
        sessions.flash(self.db, request, said)
        back = urlencode({k: v for k, v in request.query_params.items() if k != "said"})
        return RedirectResponse(f"/events/{quote(slug)}/posts" + (f"?{back}" if back else ""), 303)

    async def stories(self, request: Request) -> Response:
        slug = request.path_params["event"]
        error, error_field, fields = None, None, {}
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            fields = form
            doc = StoryDoc(form.get("title", "").strip(), form.get("slug", "").strip(), slug)
            try:
                with self.db.writing() as session:
                    event = _event(session, slug)
                    if not doc.title:
                        raise InputError("a story needs a title", field="title")
                    if not doc.slug:
                        raise InputError("a story needs a slug: its address", field="slug")
                    if current_revision(session, event.id, doc.slug):
                        raise InputError(f"a story {doc.slug!r} exists already", field="slug")
                    save_story(session, format_story(doc), security.who(request) or "", 0,
                               event.id)  # fmt: skip
                    self._log(session, request, "create story", f"{slug}/{doc.slug}")
                return RedirectResponse(_editor_url(slug, doc.slug), status_code=303)
            except InputError as exc:
                error, error_field = str(exc), exc.field
        with self.db.reading() as session:
            event = _event(session, slug)
            stories = list_stories(session, slug)
            return self.render(request, "stories.html", 400 if error else 200, event=event,
                               stories=stories, error=error, error_field=error_field,
                               fields=fields)  # fmt: skip

    async def editor(self, request: Request) -> Response:
        slug, story_slug = request.path_params["event"], request.path_params["story"]
        said, error, conflict, form = None, None, None, {}
        if request.method == "POST":
            posted = await self._form(request)
            if posted is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            form = posted
            try:
                base = int(form["revision"]) if form.get("revision", "").isdigit() else -1
                action = form.get("action", "")
                with self.db.writing() as session:
                    event = _event(session, slug)
                    history = History(session, security.who(request) or "", event.id, story_slug)
                    if action == "add_thread":  # the whole thread, then as add_posts
                        post = addresses.resolve(session, form.get("address", ""))
                        if post is None:
                            raise InputError("address: no archived post there")
                        thread = thread_of(session, event, post)
                        form = {**form, "action": "add_posts",
                                "addresses": "\n".join(p.uri for p in thread)}  # fmt: skip
                    if action in ("undo", "redo", "restore"):
                        number, said = history.target(action, base, form.get("number", ""))
                        markdown = revision_markdown(session, event.id, story_slug, number)
                    else:
                        doc = story_doc(session, get_story(session, slug, story_slug))
                        said = apply_change(doc, form)
                        markdown = format_story(doc)
                    save_story(session, markdown, security.who(request) or "", base, event.id)
                    history.moved(action, base)
                    self._log(session, request, action, f"{slug}/{story_slug}")
                sessions.flash(self.db, request, said)
                target = _editor_url(slug, story_slug, q=form.get("q", ""))
                return RedirectResponse(target, status_code=303)
            except ConflictError as exc:
                conflict = str(exc)
            except InputError as exc:
                error = str(exc)
        said = sessions.take_flash(self.db, request) if request.method == "GET" else None
        with self.db.reading() as session:
            event = _event(session, slug)
            story = get_story(session, slug, story_slug)
            posts = story_posts(session, story)
            items = list(zip(story_doc(session, story, posts).blocks, posts, strict=True))
            held_uris = frozenset(post.uri for _, post in items if post is not None)
            # A post hidden since it was placed blocks every save until it goes: say so.
            hidden_ids = set(
                session.scalars(
                    select(EventPost.post_id).where(
                        EventPost.event_id == event.id, EventPost.state == "hidden",
                        EventPost.post_id.in_([p.id for _, p in items if p is not None]),
                    )
                )
            )  # fmt: skip
            show_held = request.query_params.get("held") == "show"
            query = PostQuery(
                text=request.query_params.get("q", form.get("q", "")),
                has_replies=request.query_params.get("replies") == "1",
                leave_out=frozenset() if show_held else held_uris,
            )
            found = search_posts(session, event, query)
            held = {post.id for _, post in items if post is not None}
            suggested = {
                n: (end, suggestions(session, event, start, stop, held_uris))
                for n, (end, start, stop) in section_windows(event, items).items()
            }
            status = 409 if conflict else 400 if error else 200
            history = History(session, security.who(request) or "", event.id, story_slug)
            return self.render(
                request, "editor.html", status, event=event, story=story, items=items,
                can_undo=history.can("undo"), can_redo=history.can("redo"),
                revision=current_revision(session, event.id, story_slug),
                revisions=list_revisions(session, event.id, story_slug)[:10], found=found,
                query=query, held=held, said=said, error=error, conflict=conflict, form=form,
                show_held=show_held, suggested=suggested, hidden_ids=hidden_ids,
                headings=[(n, b.text) for n, (b, _) in enumerate(items) if b.kind == "heading"],
            )  # fmt: skip


def _query(request: Request) -> PostQuery:
    params = request.query_params
    page = params.get("page", "1")
    return PostQuery(
        text=params.get("q", "")[:200], day=params.get("day", "")[:10],
        platform=params.get("platform", ""), state=params.get("state", ""),
        author=params.get("author", "")[:300], has_media=params.get("media") == "1",
        has_replies=params.get("replies") == "1", session=params.get("session", "")[:300],
        sort=params.get("sort", "time"), page=int(page) if page.isdigit() else 1,
    )  # fmt: skip


def _editor_url(event: str, story: str, **params: str) -> str:
    kept = {k: v for k, v in params.items() if v}
    suffix = f"?{urlencode(kept)}" if kept else ""
    return f"/events/{quote(event)}/stories/{quote(story)}{suffix}"
