"""Studio sessions held on the server: a row per sign-in; the cookie holds only a key.

The browser's cookie carries a random key; the ``studio_sessions`` row keeps its
SHA-256 with who signed in, the role, the account, the CSRF token, a message for the
next page (the flash), the browser's user agent and address, when it started and when
it was last seen. Deleting the row ends the session everywhere, so a copy of the cookie
is worth nothing once its owner signs out. A session also ends:

* when it has not been used for ``[studio] session_idle_minutes``, or
  ``session_max_hours`` after it started, used or not;
* when its account is removed, or its role changes (`studio user remove|role`, or the
  database itself): the account is checked at every request;
* with `backchannel studio sessions end`.

:class:`ServerSessions` is the middleware: it finds the session of each request and
puts its fields in ``scope["session"]`` (what ``request.session`` reads), and sets or
clears the cookie that :func:`log_in` and :func:`log_out` asked for. Before signing in,
the sign-in form's CSRF token lives in a cookie of its own (double submit): nothing is
written to the database for a visitor who has not signed in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request

from backchannel.store import Database, StudioSession, StudioUser, utcnow

COOKIE = "backchannel_studio"
SIGN_IN_COOKIE = "backchannel_sign_in"  # the sign-in form's CSRF token, before a session
SIGN_IN_SECONDS = 3600
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often
_KEY = "_cookie"  # in the session data: the cookie to set ("" clears it)
_SIGN_IN = "_sign_in"  # the sign-in form's token to set as its cookie


@dataclass(frozen=True)
class Limits:
    idle: timedelta = timedelta(minutes=480)
    absolute: timedelta = timedelta(hours=72)

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        if config is None:
            return cls()
        studio = config.studio
        return cls(timedelta(minutes=studio.session_idle_minutes),
                   timedelta(hours=studio.session_max_hours))  # fmt: skip


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def account_key(account_id: int, created_at: datetime) -> str:
    """An account, told apart from one added later under the same name (or the same
    row id, which SQLite gives again once the last row is deleted)."""
    return f"{account_id}@{created_at.isoformat()}"


def _holds(session: Session, row: StudioSession, now: datetime, limits: Limits) -> bool:
    """Whether the session ``row`` is still good: not idle or too old, and its account
    (if any) still there, with the same role."""
    if now - row.last_seen > limits.idle or now - row.created_at > limits.absolute:
        return False
    if row.account is None:
        return True  # signed in with a link: no account behind it
    number = row.account.split("@", 1)[0]
    user = session.get(StudioUser, int(number)) if number.isdigit() else None
    return (
        user is not None
        and account_key(user.id, user.created_at) == row.account
        and user.role == row.role
    )


def find(db: Database, key: str, now: datetime, limits: Limits) -> dict[str, Any] | None:
    """The fields of the session whose cookie holds ``key``, or None (a session found
    ended is deleted)."""
    with db.reading() as session:
        row = session.scalar(select(StudioSession).where(StudioSession.key_sha256 == digest(key)))
        if row is None:
            return None
        good = _holds(session, row, now, limits)
        data = {"id": row.id, "who": row.who, "role": row.role, "account": row.account,
                "csrf": row.csrf, "flash": row.flash}  # fmt: skip
        touch = good and now - row.last_seen >= TOUCH_EVERY
    if not good or touch:
        with db.writing() as session:
            if not good:
                session.execute(delete(StudioSession).where(StudioSession.id == data["id"]))
            else:
                session.execute(update(StudioSession).where(StudioSession.id == data["id"])
                                .values(last_seen=now))  # fmt: skip
    return data if good else None


def log_in(db: Database, request: Request, who: str, role: str,
           account: str | None = None) -> None:  # fmt: skip
    """Start a session (a new key, never the one the browser had) and set its cookie."""
    key, now = secrets.token_urlsafe(32), utcnow()
    limits: Limits = request.scope.get("backchannel.limits") or Limits()
    row = StudioSession(
        key_sha256=digest(key), who=who, role=role, account=account,
        csrf=secrets.token_urlsafe(32), user_agent=request.headers.get("user-agent", "")[:300],
        address=client_address(request), created_at=now, last_seen=now,
    )  # fmt: skip
    with db.writing() as session:
        session.execute(delete(StudioSession).where(or_(  # the ended ones, while here
            StudioSession.last_seen < now - limits.idle,
            StudioSession.created_at < now - limits.absolute,
        )))  # fmt: skip
        session.add(row)
        session.flush()
        data = {"id": row.id, "who": who, "role": role, "account": account, "csrf": row.csrf,
                "flash": None}  # fmt: skip
    request.session.clear()
    request.session.update(data)
    request.session[_KEY] = key


def log_out(db: Database, request: Request) -> None:
    """End this session everywhere: its row goes, and the browser's cookie with it."""
    number = request.session.get("id")
    if isinstance(number, int):
        with db.writing() as session:
            session.execute(delete(StudioSession).where(StudioSession.id == number))
    request.session.clear()
    request.session[_KEY] = ""


def end_for_account(session: Session, key: str) -> int:
    """End every session of the account ``key`` (:func:`account_key`)."""
    return session.execute(delete(StudioSession).where(StudioSession.account == key)).rowcount


def list_sessions(session: Session) -> list[StudioSession]:
    return list(session.scalars(select(StudioSession).order_by(StudioSession.created_at,
                                                                StudioSession.id)))  # fmt: skip


def end_sessions(session: Session, numbers: list[int] | None) -> int:
    """End the sessions numbered ``numbers`` (every one when None); how many ended."""
    query = delete(StudioSession)
    if numbers is not None:
        query = query.where(StudioSession.id.in_(numbers))
    return session.execute(query).rowcount


def flash(db: Database, request: Request, text: str) -> None:
    """Say ``text`` once, on this session's next page (never taken from the address)."""
    number = request.session.get("id")
    if isinstance(number, int):
        with db.writing() as session:
            session.execute(update(StudioSession).where(StudioSession.id == number)
                            .values(flash=text[:2000]))  # fmt: skip


def take_flash(db: Database, request: Request) -> str | None:
    """What the last change said, once: the page shows it and it is gone."""
    text = request.session.pop("flash", None)
    if text:
        flash_cleared = update(StudioSession).where(StudioSession.id == request.session.get("id"))
        with db.writing() as session:
            session.execute(flash_cleared.values(flash=None))
    return text if isinstance(text, str) else None


def ensure_csrf(request: Request) -> None:
    """A CSRF token for the sign-in form, before there is a session: kept in a cookie of
    its own and compared with the form's copy."""
    if not request.session.get("csrf"):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
        request.session[_SIGN_IN] = token


def client_address(request: HTTPConnection) -> str:
    """The address a request came from (uvicorn takes it from a trusted proxy's
    X-Forwarded-For)."""
    return request.client.host[:100] if request.client else ""


def _cookie(name: str, value: str, seconds: int, secure: bool) -> str:
    flags = "; Secure" if secure else ""
    return f"{name}={value}; Path=/; Max-Age={seconds}; HttpOnly; SameSite=Strict{flags}"


class ServerSessions:
    """ASGI middleware: ``scope["session"]`` holds the request's session fields (empty
    when signed out); the cookies :func:`log_in`, :func:`log_out` and
    :func:`ensure_csrf` asked for are set on the answer, ``Secure`` over HTTPS."""

    def __init__(self, app: Any, db: Database, limits: Limits, always_secure: bool = False) -> None:
        self.app = app
        self.db = db
        self.limits = limits
        self.always_secure = always_secure

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):  # anyone's: no query for a stylesheet
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        key = cookies.get(COOKIE)
        data = find(self.db, key, utcnow(), self.limits) if key else None
        if data is None:
            data = {}
            if key:
                data[_KEY] = ""  # a cookie of an ended session: clear it
            if token := cookies.get(SIGN_IN_COOKIE):
                data["csrf"] = token[:100]
        scope["session"] = data
        scope["backchannel.limits"] = self.limits
        secure = self.always_secure or scope.get("scheme") == "https"

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if _KEY in data:
                    value = data[_KEY]
                    seconds = int(self.limits.absolute.total_seconds()) if value else 0
                    headers.append("set-cookie", _cookie(COOKIE, value, seconds, secure))
                    if value:  # signed in: the sign-in form's token is done with
                        headers.append("set-cookie", _cookie(SIGN_IN_COOKIE, "", 0, secure))
                if _SIGN_IN in data:
                    headers.append("set-cookie", _cookie(SIGN_IN_COOKIE, data[_SIGN_IN],
                                                         SIGN_IN_SECONDS, secure))  # fmt: skip
            await send(message)

        await self.app(scope, receive, sending)
