"""The studio's pages: events, the post browser and the story editor.

Every page works without JavaScript: each change is a form posted to the server, which
saves it as a new revision and answers with the page again, the change announced in a
status region for screen readers. See :mod:`backchannel.studio.security` for the
token, the session, the Host check, the CSRF token and the headers.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from backchannel.collect import status
from backchannel.consent import decisions, forget, forget_preview, set_decision
from backchannel.curation import (
    StoryDoc,
    addresses,
    current_revision,
    format_story,
    get_story,
    list_revisions,
    list_stories,
    parse_schedule,
    revision_markdown,
    save_story,
    schedule_of,
    schedule_toml,
    set_schedule,
    set_state,
    story_doc,
)
from backchannel.errors import ConflictError, InputError, NotFoundError
from backchannel.events import EventSpec, add_source, create_event, get_event
from backchannel.export import markdown_html, post_html
from backchannel.media import prune
from backchannel.resources import templates_dir
from backchannel.store import Database, Event, Post, StudioAction
from backchannel.studio import security
from backchannel.studio.accounts import check_password, has_accounts
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
from backchannel.studio.publishing import Publisher

MAX_FAILURES = 5  # wrong passwords for one name ...
LOCKOUT_SECONDS = 900.0  # ... within this long lock that name out for the rest of it


def create_app(
    db: Database, token: str, port: int, hosts: frozenset[str] | None = None,
    config: Any = None,
) -> Any:  # fmt: skip
    """The studio as an ASGI application; ``token`` opens it (see ``security``).
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
    publisher = collector = None
    if config is not None:
        publisher = Publisher(db, config, Path(tempfile.mkdtemp(prefix="backchannel-preview-")))
        collector = Collector(db, config)
    pages = _Pages(db, token, env, publisher, collector)
    routes = [
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/", pages.home, methods=["GET", "POST"]),
        Route("/events/{event}/organise", pages.organise, methods=["GET", "POST"]),
        Route("/events/{event}/posts", pages.posts, methods=["GET", "POST"]),
        Route("/events/{event}/stories", pages.stories, methods=["GET", "POST"]),
        Route("/events/{event}/stories/{story}", pages.editor, methods=["GET", "POST"]),
        Route("/events/{event}/publish", pages.publish, methods=["GET", "POST"]),
        Route("/events/{event}/forget", pages.forget, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(folder / "static")), name="static"),
    ]
    if publisher is not None:  # the preview and the published site, to signed-in people
        routes += [
            Mount("/preview", security.SignedIn(
                StaticFiles(directory=str(publisher.preview_dir), html=True))),
            Mount("/site", security.SignedIn(
                StaticFiles(directory=str(config.site_dir), html=True, check_dir=False))),
        ]  # fmt: skip
    middleware = [
        Middleware(security.Guard, hosts=hosts or security.allowed_hosts(port)),
        Middleware(
            SessionMiddleware, secret_key=security.new_secret(),
            session_cookie=security.SESSION_COOKIE, same_site="strict", https_only=False,
        ),
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
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "said")}
    return "?" + urlencode({**params, "page": page})


def _post_html(post: Post) -> Any:
    # The exporter's path: checked (re-cleaned if need be); no remote image survives.
    return post_html(post.html or "", {}, {}, "")


class _Pages:
    def __init__(
        self, db: Database, token: str, env: Environment, publisher: Publisher | None,
        collector: Collector | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.token = token
        self.env = env
        self.publisher = publisher
        self.collector = collector
        self.failures: dict[str, list[float]] = {}  # name -> times of wrong passwords

    # -- helpers ------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(request=request, csrf=security.csrf_token(request),
                       who=security.who(request))  # fmt: skip
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def _denied(self, request: Request) -> Response | None:
        if security.who(request) is None:
            return self.render(request, "denied.html", 403)
        return None

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The posted form, or None when its CSRF token is not this session's."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not security.same(fields.get("csrf"), security.csrf_token(request)):
            return None
        return fields

    def _log(self, session: Any, request: Request, action: str, target: str) -> None:
        session.add(StudioAction(who=security.who(request) or "", action=action, target=target))

    # -- pages --------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        if "token" in request.query_params:  # the secret link: this machine's organiser
            if not security.same(request.query_params.get("token"), self.token):
                return self.render(request, "denied.html", 403, bad_token=True)
            security.log_in(request, "organiser", "organiser")
            with self.db.writing() as session:
                self._log(session, request, "log in", "")
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
            now = time.monotonic()
            recent = [t for t in self.failures.get(name, []) if now - t < LOCKOUT_SECONDS]
            if len(recent) >= MAX_FAILURES:  # guessing: wait, whatever the password
                return security.refused(
                    f"Too many wrong passwords for {name!r}: try again in "
                    f"{int((LOCKOUT_SECONDS - (now - recent[0])) // 60) + 1} minutes.", 429
                )  # fmt: skip
            with self.db.reading() as session:
                user = check_password(session, name, form.get("password", ""))
                found = (user.name, user.role) if user else None
            self.failures[name] = recent if found else [*recent, now]
            if found is not None:
                security.log_in(request, *found)
                with self.db.writing() as session:
                    self._log(session, request, "log in", "")
                return RedirectResponse("/", status_code=303)
            error = "That name and password do not match an account."
        security.ensure_csrf(request)
        return self.render(request, "login.html", 400 if error else 200, error=error, typed=name)

    async def home(self, request: Request) -> Response:
        """The events; an organiser adds one here, checked as `event add` checks it."""
        if denied := self._denied(request):
            return denied
        error, fields = None, {}
        if request.method == "POST":
            if security.role(request) != "organiser":
                return security.refused("Only an organiser may add an event.")
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            fields = form
            spec = EventSpec(
                slug=form.get("slug", "").strip(), title=form.get("title", "").strip(),
                hashtags=form.get("hashtags", "").replace(",", " ").split(),
                start=form.get("start", ""), end=form.get("end", ""),
                timezone=form.get("timezone", "").strip(),
                description=form.get("description", "").strip(),
                mastodon=form.get("mastodon", "").split(),
            )  # fmt: skip
            try:
                with self.db.writing() as session:
                    create_event(session, spec)
                    self._log(session, request, "add event", spec.slug)
                return RedirectResponse(f"/events/{quote(spec.slug)}/organise", 303)
            except InputError as exc:
                error = str(exc)
        with self.db.reading() as session:
            events = list(session.query(Event).order_by(Event.starts_at))
            facts = None
            if security.role(request) == "organiser" and self.publisher is not None:
                facts = status(session, self.publisher.config)  # as `status` gives it
            return self.render(request, "home.html", 400 if error else 200, events=events,
                               role=security.role(request), error=error, fields=fields,
                               facts=facts)  # fmt: skip

    async def organise(self, request: Request) -> Response:
        """An event's status (as `status` gives it), collect now, sources, consent."""
        if denied := self._denied(request):
            return denied
        if security.role(request) != "organiser":
            return security.refused("Only an organiser may run an event.")
        if self.collector is None or self.publisher is None:
            return security.refused("This studio was started without the archive's settings.", 404)
        slug = request.path_params["event"]
        said, error, typed = request.query_params.get("said"), None, None
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            action = form.get("action", "")
            typed = form.get("schedule") if action == "schedule" else None
            try:
                with self.db.writing() as session:
                    event = _event(session, slug)
                    if action == "collect":
                        said = "Collecting now."
                    elif action == "add_source":
                        source = add_source(session, event, form.get("platform", "mastodon"),
                                            form.get("url", ""))  # fmt: skip
                        said = f"Added {source.platform} at {source.base_url}."
                    elif action == "edit":  # what the archive shows; not what is collected
                        title = " ".join(form.get("title", "").split())
                        if not title:
                            raise InputError("an event needs a title")
                        event.title, event.description = title, form.get("description", "").strip()
                        said = "The event's title and description are saved."
                    elif action == "schedule":
                        sessions = parse_schedule(form.get("schedule", ""), event)
                        set_schedule(event, sessions)
                        said = f"The schedule has {len(sessions)} session(s)."
                    elif action in ("allow", "deny"):
                        handle = form.get("handle", "")
                        set_decision(session, slug, handle, action, form.get("note") or None)
                        said = f"@{handle.lstrip('@')}: {action}."
                    else:
                        raise InputError(f"unknown action {action!r}")
                    self._log(session, request, action, slug)
                if action == "collect":
                    self.collector.start(slug)
                return RedirectResponse(
                    f"/events/{quote(slug)}/organise?{urlencode({'said': said})}", 303
                )
            except InputError as exc:
                error = str(exc)
        with self.db.reading() as session:
            event = _event(session, slug)
            facts = status(session, self.publisher.config, slug).events[0]
            return self.render(
                request, "organise.html", 400 if error else 200, event=event, facts=facts,
                decisions=decisions(session, slug), run=self.collector.state(slug),
                schedule=typed if error and typed is not None else schedule_toml(event),
                said=said, error=error,
            )  # fmt: skip

    async def posts(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        if request.method == "POST":
            return await self._post_action(request)
        query = _query(request)
        with self.db.reading() as session:
            event = _event(session, request.path_params["event"])
            found = search_posts(session, event, query)
            threads = threads_for(session, event, [post for post, _ in found.posts])
            return self.render(request, "posts.html", event=event, found=found, query=query,
                               threads=threads,
                               sorts=SORTS, states=STATES, platforms=PLATFORMS,
                               sessions=[s.title for s in schedule_of(event)],
                               said=request.query_params.get("said"),
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
        back = {k: v for k, v in request.query_params.items()} | {"said": said}
        return RedirectResponse(f"/events/{quote(slug)}/posts?{urlencode(back)}", 303)

    async def publish(self, request: Request) -> Response:
        """Start a preview or a publication of the event (POST), or show its progress."""
        if denied := self._denied(request):
            return denied
        slug = request.path_params["event"]
        kind = "preview" if request.query_params.get("kind") == "preview" else "publish"
        if self.publisher is None:
            return security.refused("This studio was started without a site to publish.", 404)
        with self.db.reading() as session:
            event = _event(session, slug)
        if request.method == "POST":
            if await self._form(request) is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            self.publisher.start(kind, slug)
            with self.db.writing() as session:
                self._log(session, request, kind, slug)
            return RedirectResponse(f"/events/{quote(slug)}/publish?kind={kind}", 303)
        run = self.publisher.state(kind, slug)
        root = "/preview" if kind == "preview" else "/site"
        return self.render(request, "publish.html", event=event, run=run, kind=kind,
                           result=f"{root}/{quote(slug)}/index.html")  # fmt: skip

    async def forget(self, request: Request) -> Response:
        """Forget a post or an author everywhere (organisers only): first a page that
        says what will be removed, then, with a reason, the removal itself."""
        if denied := self._denied(request):
            return denied
        if security.role(request) != "organiser":
            return security.refused("Only an organiser may forget a post or an author.")
        if self.publisher is None:
            return security.refused("This studio was started without the archive's settings.", 404)
        slug = request.path_params["event"]
        source = request.query_params if request.method == "GET" else await request.form()
        target = {
            "post_ref": str(source.get("post", "")) or None,
            "handle": str(source.get("author", "")) or None,
        }
        error, done = None, None
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            reason = form.get("reason", "").strip()
            if not reason:
                error = "reason: say why (kept with the tombstone, never the content)"
            else:
                config = self.publisher.config
                try:
                    done = forget(self.db, config, reason=reason, **target)
                    done.media_files += prune(self.db, config.media_dir)
                    with self.db.writing() as session:
                        self._log(session, request, "forget", "a post or an author")
                except InputError as exc:
                    error = str(exc)
        with self.db.writing() as session:
            event = _event(session, slug)
            preview = None
            if done is None:
                try:
                    preview = forget_preview(session, **target)
                except InputError as exc:
                    error = str(exc)
            return self.render(request, "forget.html", 400 if error else 200, event=event,
                               preview=preview, done=done, error=error, target=target)  # fmt: skip

    async def stories(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        slug = request.path_params["event"]
        error, fields = None, {}
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            fields = form
            doc = StoryDoc(form.get("title", "").strip(), form.get("slug", "").strip(), slug)
            try:
                with self.db.writing() as session:
                    event = _event(session, slug)
                    if current_revision(session, event.id, doc.slug):
                        raise InputError(f"slug: a story {doc.slug!r} exists already")
                    save_story(session, format_story(doc), security.who(request) or "", 0,
                               event.id)  # fmt: skip
                    self._log(session, request, "create story", f"{slug}/{doc.slug}")
                return RedirectResponse(_editor_url(slug, doc.slug), status_code=303)
            except InputError as exc:
                error = str(exc)
        with self.db.reading() as session:
            event = _event(session, slug)
            stories = list_stories(session, slug)
            return self.render(request, "stories.html", 400 if error else 200, event=event,
                               stories=stories, error=error, fields=fields)  # fmt: skip

    async def editor(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        slug, story_slug = request.path_params["event"], request.path_params["story"]
        said, error, conflict, form = request.query_params.get("said"), None, None, {}
        if request.method == "POST":
            posted = await self._form(request)
            if posted is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            form = posted
            try:
                history = History(request.session, f"{slug}/{story_slug}")
                base = int(form["revision"]) if form.get("revision", "").isdigit() else -1
                action = form.get("action", "")
                with self.db.writing() as session:
                    event = _event(session, slug)
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
                    self._log(session, request, action, f"{slug}/{story_slug}")
                history.moved(action, base)  # once saved
                target = _editor_url(slug, story_slug, said=said, q=form.get("q", ""))
                return RedirectResponse(target, status_code=303)
            except ConflictError as exc:
                conflict = str(exc)
            except InputError as exc:
                error = str(exc)
        with self.db.reading() as session:
            event = _event(session, slug)
            story = get_story(session, slug, story_slug)
            doc = story_doc(session, story)
            items = [(block, _post_for(session, block.ref)) for block in doc.blocks]
            held_uris = frozenset(post.uri for _, post in items if post is not None)
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
            history = History(request.session, f"{slug}/{story_slug}")
            return self.render(
                request, "editor.html", status, event=event, story=story, items=items,
                can_undo=history.can("undo"), can_redo=history.can("redo"),
                revision=current_revision(session, event.id, story_slug),
                revisions=list_revisions(session, event.id, story_slug)[:10], found=found,
                query=query, held=held, said=said, error=error, conflict=conflict, form=form,
                show_held=show_held, suggested=suggested,
                headings=[(n, b.text) for n, (b, _) in enumerate(items) if b.kind == "heading"],
            )  # fmt: skip


def _event(session: Any, slug: str) -> Event:
    try:
        return get_event(session, slug)
    except NotFoundError:
        raise
    except InputError as exc:  # a slug that is not even well formed
        raise NotFoundError(str(exc)) from exc


def _post_for(session: Any, ref: str) -> Post | None:
    return addresses.resolve(session, ref) if ref else None


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
