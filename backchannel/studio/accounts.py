"""Studio accounts: a name, a role and an Argon2id password hash.

Organisers may do everything; curators edit stories and hide or feature posts. The
person who starts the studio signs in with its secret link as an organiser; others
sign in with a name and password once accounts exist (and only then may the studio
listen on an address other people can reach).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.errors import InputError, NotFoundError
from backchannel.store import StudioAction, StudioUser
from backchannel.studio.sessions import account_key, end_for_account

ROLES = ("organiser", "curator")
MAX_FAILURES = 5  # wrong passwords for one name ...
LOCKOUT = timedelta(minutes=15)  # ... within this long lock that name out for the rest of it
WRONG_PASSWORD = "wrong password"  # the action logged for each
MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_hasher = PasswordHasher()  # Argon2id, the library's recommended cost
# Checked when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("not anyone's password")


def has_accounts(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(StudioUser)))


def add_user(session: Session, name: str, role: str, password: str) -> StudioUser:
    if not _NAME.match(name):
        raise InputError(f"name: {name!r} is not a name (lower-case letters, digits, . _ -)")
    if role not in ROLES:
        raise InputError(f"role: {role!r} is not a role (organiser or curator)")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(StudioUser.id).where(StudioUser.name == name)):
        raise InputError(f"name: a user {name!r} exists already")
    user = StudioUser(name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def remove_user(session: Session, name: str) -> bool:
    """Remove the account ``name`` and end its sessions at once; False if none."""
    user = session.scalar(select(StudioUser).where(StudioUser.name == name))
    if user is None:
        return False
    end_for_account(session, account_key(user.id, user.created_at))
    session.delete(user)
    return True


def set_role(session: Session, name: str, role: str) -> StudioUser:
    """Give the account ``name`` another role; its sessions end (sign in again)."""
    if role not in ROLES:
        raise InputError(f"role: {role!r} is not a role (organiser or curator)")
    user = session.scalar(select(StudioUser).where(StudioUser.name == name))
    if user is None:
        raise NotFoundError(f"no account {name!r}")
    if user.role != role:
        end_for_account(session, account_key(user.id, user.created_at))
        user.role = role
    return user


def list_users(session: Session) -> list[StudioUser]:
    return list(session.scalars(select(StudioUser).order_by(StudioUser.name)))


def check_password(session: Session, name: str, password: str) -> StudioUser | None:
    """The user, if ``password`` is theirs; None otherwise (in about the same time)."""
    user = session.scalar(select(StudioUser).where(StudioUser.name == name))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def locked_until(session: Session, name: str, now: datetime) -> datetime | None:
    """When ``name`` may try again, if wrong passwords have locked it; else None.

    The wrong passwords are rows of the action log, so a restart of the studio does not
    clear a lock (and the log shows who was guessed at)."""
    recent = session.scalars(
        select(StudioAction.at)
        .where(
            StudioAction.who == name,
            StudioAction.action == WRONG_PASSWORD,
            StudioAction.at > now - LOCKOUT,
        )
        .order_by(StudioAction.at)
    ).all()
    return recent[-MAX_FAILURES] + LOCKOUT if len(recent) >= MAX_FAILURES else None
