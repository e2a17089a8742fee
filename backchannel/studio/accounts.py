"""Studio accounts: a name, a role and an Argon2id password hash.

Organisers may do everything; curators edit stories and hide or feature posts. The
person who starts the studio signs in with its secret link as an organiser; others
sign in with a name and password once accounts exist (and only then may the studio
listen on an address other people can reach).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backchannel.errors import InputError, NotFoundError
from backchannel.store import StudioAction, StudioUser
from backchannel.studio.sessions import account_key, end_for_account

ROLES = ("organiser", "curator")
WINDOW = timedelta(minutes=15)  # wrong passwords counted over this long (see wait_before_trying)
ADDRESS_FREE, ADDRESS_CAP = 3, timedelta(minutes=15)  # from one address: from the 3rd ...
NAME_FREE, NAME_CAP = 10, timedelta(minutes=1)  # at one name from anywhere: never over 1 min
WRONG_PASSWORD = "wrong password"  # the action logged for each
TOO_SOON = "sign-in too soon"  # an attempt refused while it had to wait
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


def wait_before_trying(session: Session, name: str, address: str, now: datetime) -> timedelta:
    """How long a sign-in as ``name`` from ``address`` must wait (zero: it may try now).

    Wrong passwords slow down where they come from, with delays that double: one
    address waits 1 s after its 3rd wrong password in a quarter of an hour, 2 s after
    the 4th, 4 s after the 5th ... up to 15 minutes, whichever names it tried. Guesses
    at one name from many addresses slow that name down too, from its 10th, but never
    by more than a minute, so nobody can keep a person out by guessing at their name:
    the right password from their own address gets in. The wrong passwords are rows of the action log, so a
    restart does not forget them (and the log shows who was guessed at, from where)."""
    since = now - WINDOW
    wrong = select(func.count(), func.max(StudioAction.at)).where(
        StudioAction.action == WRONG_PASSWORD, StudioAction.at > since
    )
    by_address = session.execute(wrong.where(StudioAction.address == address)).one()
    by_name = session.execute(wrong.where(StudioAction.who == name)).one()
    wait = max(
        _delay(by_address, ADDRESS_FREE, ADDRESS_CAP, now),
        _delay(by_name, NAME_FREE, NAME_CAP, now),
    )
    return max(wait, timedelta(0))


def _delay(found: Any, free: int, cap: timedelta, now: datetime) -> timedelta:
    """What is left of the delay that ``found`` (a count of wrong passwords and the time
    of the last) earns: nothing below ``free``, then 1 s doubling up to ``cap``."""
    count, last = found
    if count < free or last is None:
        return timedelta(0)
    delay = min(timedelta(seconds=2 ** min(count - free, 20)), cap)
    return last + delay - now
