"""The organiser's pages: the events (and adding one), an event's page (status,
collect now, import, sources, sessions, consent), preview and publish, and forget."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from backchannel.collect import probe_server, status
from backchannel.consent import decisions, forget, forget_preview, set_decision
from backchannel.curation import parse_schedule, schedule_toml, set_schedule
from backchannel.errors import InputError
from backchannel.event_edits import FIELD_NAMES, EditResult, EventChanges, edit_event
from backchannel.events import EventSpec, add_source, create_event, duration_text, parse_source_url
from backchannel.importers import FORMATS
from backchannel.media import prune
from backchannel.store import Event, StudioAction
from backchannel.studio import security, sessions
from backchannel.studio.importing import safe_name
from backchannel.studio.pages import BasePages
from backchannel.studio.pages import event_named as _event

ACTIVITY_SHOWN = 200  # the newest actions the activity page lists


class OrganiserPages(BasePages):
    async def home(self, request: Request) -> Response:
        """The events; an organiser adds one here, checked as `event add` checks it."""
        error, error_field, fields = None, None, {}
        if request.method == "POST":
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
                error, error_field = str(exc), exc.field
        with self.db.reading() as session:
            events = list(session.scalars(select(Event).order_by(Event.starts_at)))
            facts = None
            if security.role(request) == "organiser" and self.publisher is not None:
                facts = status(session, self.publisher.config)  # as `status` gives it
            return self.render(request, "home.html", 400 if error else 200, events=events,
                               role=security.role(request), error=error, fields=fields,
                               error_field=error_field,
                               facts=facts)  # fmt: skip

    async def _check_server(self, slug: str, form: dict[str, str]) -> None:
        """A Mastodon-API server is asked once, as `doctor` asks it (off the event loop),
        before it becomes a source; one that does not answer is added only when the
        organiser ticks "Keep it anyway"."""
        if form.get("platform", "mastodon") != "mastodon" or form.get("keep"):
            return
        assert self.publisher is not None
        url = parse_source_url(form.get("url", ""))
        with self.db.reading() as session:
            hashtag = _event(session, slug).hashtags[0]
        check = await run_in_threadpool(probe_server, self.publisher.config, slug, "mastodon",
                                        url, hashtag)  # fmt: skip
        if not check.ok:
            raise InputError(f"{url}: {check.text}. Check the address, or tick “Keep it "
                             "anyway” to add it all the same.", field="url")  # fmt: skip

    async def organise(self, request: Request) -> Response:
        """An event's status (as `status` gives it), collect now, sources, consent."""
        if self.collector is None or self.publisher is None:
            return security.refused("This studio was started without the archive's settings.", 404)
        slug = request.path_params["event"]
        said, error, error_field = None, None, None
        typed: dict[str, str] = {}
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return security.refused("The form's CSRF token is missing or wrong: reload.")
            action = form.get("action", "")
            typed = form
            try:
                if action == "add_source":
                    await self._check_server(slug, form)
                with self.db.writing() as session:
                    event = _event(session, slug)
                    if action == "collect":
                        said = "Collecting now."
                    elif action == "add_source":
                        source = add_source(session, event, form.get("platform", "mastodon"),
                                            form.get("url", ""))  # fmt: skip
                        said = f"Added {source.platform} at {source.base_url}."
                    elif action == "edit":
                        said = _edited(edit_event(session, event, _changes(form)))
                    elif action == "schedule":
                        talks = parse_schedule(form.get("schedule", ""), event)
                        set_schedule(event, talks)
                        said = f"The schedule has {len(talks)} session(s)."
                    elif action in ("allow", "deny"):
                        handle = form.get("handle", "")
                        set_decision(session, slug, handle, action, form.get("note") or None)
                        said = f"@{handle.lstrip('@')}: {action}."
                    else:
                        raise InputError(f"unknown action {action!r}")
                    self._log(session, request, action, slug)
                if action == "collect":
                    self.collector.start(slug)
                sessions.flash(self.db, request, said)
                return RedirectResponse(f"/events/{quote(slug)}/organise", 303)
            except InputError as exc:
                error, error_field = str(exc), exc.field or _FIELD_OF.get(action)
        said = said or sessions.take_flash(self.db, request)
        run = self.collector.state(slug)  # first: see Collector.state
        imported = self.importer.state(slug) if self.importer is not None else None
        with self.db.reading() as session:
            event = _event(session, slug)
            facts = status(session, self.publisher.config, slug).events[0]
            return self.render(
                request, "organise.html", 400 if error else 200, event=event, facts=facts,
                decisions=decisions(session, slug), run=run, imported=imported,
                formats=("auto", *FORMATS),
                schedule=typed["schedule"] if error and "schedule" in typed else schedule_toml(event),
                edit=typed if error and typed.get("action") == "edit" else event_fields(event),
                typed=typed if error else {},
                said=said, error=error, error_field=error_field,
            )  # fmt: skip

    async def upload(self, request: Request) -> Response:
        """Files to import into the event, posted as a form (see :mod:`.importing`)."""
        if self.importer is None or self.publisher is None:
            return security.refused("This studio was started without the archive's settings.", 404)
        slug = request.path_params["event"]
        with self.db.reading() as session:
            _event(session, slug)  # a 404 for an unknown event
        limit = int(self.publisher.config.studio.import_max_mb * 1024 * 1024)
        size = request.headers.get("content-length", "")
        if not size.isdigit():
            return security.refused("An upload must say its size (Content-Length).", 411)
        if int(size) > limit:
            return security.refused(
                f"The files are larger than this studio takes ({limit // 2**20} MB, [studio] "
                "import_max_mb): import them with `backchannel import` on the server.", 413)  # fmt: skip
        form = await request.form(max_files=20, max_fields=10)
        if not security.same(str(form.get("csrf") or ""), security.csrf_token(request)):
            return security.refused("The form's CSRF token is missing or wrong: reload.")
        chosen = str(form.get("format") or "auto")
        uploads = [v for k, v in form.multi_items() if k == "file" and isinstance(v, UploadFile)]
        uploads = [u for u in uploads if u.filename]
        if chosen not in ("auto", *FORMATS) or not uploads:
            sessions.flash(self.db, request, "Choose a file to import (and a format it is in).")
            return RedirectResponse(f"/events/{quote(slug)}/organise", 303)
        folder = self.importer.folder(slug)
        paths = []
        for upload in uploads:
            path = folder / safe_name(upload.filename or "")
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    out.write(chunk)
            paths.append(path)
        started = self.importer.start(slug, paths, chosen)
        with self.db.writing() as session:
            self._log(session, request, "import", f"{slug}: {', '.join(p.name for p in paths)}")
        sessions.flash(self.db, request, "Importing now." if started
                       else "An import is running already: try again when it has finished.")  # fmt: skip
        return RedirectResponse(f"/events/{quote(slug)}/organise", 303)

    async def activity(self, request: Request) -> Response:
        """What was done in the studio, newest first (organisers only): the action log."""
        with self.db.reading() as session:
            actions = session.scalars(
                select(StudioAction).order_by(StudioAction.at.desc(), StudioAction.id.desc())
                .limit(ACTIVITY_SHOWN)
            ).all()  # fmt: skip
            return self.render(request, "activity.html", actions=actions, shown=ACTIVITY_SHOWN)

    async def preview(self, request: Request) -> Response:
        """Start a preview of the event (POST), or show its progress (curators too)."""
        return await self._export(request, "preview")

    async def publish(self, request: Request) -> Response:
        """Publish the event into the site (POST), or show its progress (organisers:
        the organiser answers for consent)."""
        return await self._export(request, "publish")

    async def _export(self, request: Request, kind: str) -> Response:
        slug = request.path_params["event"]
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
            return RedirectResponse(f"/events/{quote(slug)}/{kind}", 303)
        run = self.publisher.state(kind, slug)
        root = "/preview" if kind == "preview" else "/site"
        return self.render(request, "publish.html", event=event, run=run, kind=kind,
                           result=f"{root}/{quote(slug)}/index.html")  # fmt: skip

    async def forget(self, request: Request) -> Response:
        """Forget a post or an author everywhere (organisers only): first a page that
        says what will be removed, then, with a reason, the removal itself."""
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


# The field of each of the page's forms that a wrong value comes from.
_FIELD_OF = {"add_source": "url", "schedule": "schedule", "allow": "handle", "deny": "handle"}

# The edit form's fields, as EventChanges names them (the window in local wall-clock time).
_EDITABLE = ("title", "description", "hashtags", "start", "end", "timezone",
             "margin_before", "margin_after", "policy")  # fmt: skip


def event_fields(event: Event) -> dict[str, str]:
    """The edit form filled in with what the event has; sent back unchanged, it changes
    nothing (an end at midnight is the same moment as the whole day before it)."""
    zone = ZoneInfo(event.timezone)
    return {
        "title": event.title,
        "description": event.description,
        "hashtags": " ".join(event.hashtags),
        "start": _local(event.starts_at, zone),
        "end": _local(event.ends_at, zone),
        "timezone": event.timezone,
        "margin_before": duration_text(event.margin_before_minutes),
        "margin_after": duration_text(event.margin_after_minutes),
        "policy": event.policy,
    }


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the form shows it: to the minute, or to the second when it has some."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S}" if local.second else f"{local:%Y-%m-%d %H:%M}"


def _changes(form: dict[str, str]) -> EventChanges:
    """The form as changes: a field the form did not send stays as it is."""
    given = {name: form[name] for name in _EDITABLE if name in form}
    if "hashtags" in given:
        return EventChanges(**{**given, "hashtags": given["hashtags"].replace(",", " ").split()})
    return EventChanges(**given)


def _edited(result: EditResult) -> str:
    if not result.changed:
        return "Nothing changed."
    said = f"Saved: {', '.join(FIELD_NAMES[name] for name in result.changed)}."
    if result.outside:
        said += (f" {result.outside} post(s) already collected are now outside the window or "
                 "the hashtags: they stay in the archive until you hide them.")  # fmt: skip
    if result.reread:
        said += " The next collection reads the window again for the posts passed over."
    return said
