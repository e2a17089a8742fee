"""What every studio page handler shares: the database, the templates, the session's
checks and the action log."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from backchannel.errors import InputError, NotFoundError
from backchannel.events import get_event
from backchannel.store import Database, Event, StudioAction
from backchannel.studio import roles, security, sessions
from backchannel.studio.collecting import Collector
from backchannel.studio.importing import Importer
from backchannel.studio.publishing import Publisher


class BasePages:
    """The handlers' shared state: built once by ``create_app``."""

    def __init__(
        self, db: Database, env: Environment, publisher: Publisher | None,
        collector: Collector | None = None, importer: Importer | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.env = env
        self.publisher = publisher
        self.collector = collector
        self.importer = importer

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.update(request=request, csrf=security.csrf_token(request),
                       who=security.who(request), role=security.role(request))  # fmt: skip
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def admit(self, request: Request | None, data: dict[str, Any], needed: str) -> Response | None:
        """None when the session ``data`` may open what needs the role ``needed``; else
        the refusal (the routes call this: see :mod:`backchannel.studio.roles`)."""
        if needed == roles.ANYONE:
            return None
        if not self.signed_in(data):
            if request is None:  # a mount (the preview, the site): no page to render
                return security.refused("Sign in to the studio first.")
            return self.render(request, "denied.html", 403)
        if not roles.allows(data.get("role"), needed):
            article = "an" if needed == roles.ORGANISER else "a"
            return security.refused(f"Only {article} {needed} may do this: ask one.")
        return None

    def signed_in(self, data: dict[str, Any]) -> bool:
        """Whether the session ``data`` is someone's: the session middleware found its
        row, still good (see :mod:`backchannel.studio.sessions`)."""
        return isinstance(data.get("who"), str) and isinstance(data.get("id"), int)

    async def _form(self, request: Request) -> dict[str, str] | None:
        """The posted form, or None when its CSRF token is not this session's."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not security.same(fields.get("csrf"), security.csrf_token(request)):
            return None
        return fields

    def _log(
        self, session: Any, request: Request, action: str, target: str, who: str | None = None
    ) -> None:
        who = security.who(request) if who is None else who
        session.add(StudioAction(who=who or "", action=action, target=target,
                                 address=sessions.client_address(request)))  # fmt: skip


def event_named(session: Any, slug: str) -> Event:
    """The event, or NotFoundError (a 404) for a slug that is none, well formed or not."""
    try:
        return get_event(session, slug)
    except NotFoundError:
        raise
    except InputError as exc:  # a slug that is not even well formed
        raise NotFoundError(str(exc)) from exc
