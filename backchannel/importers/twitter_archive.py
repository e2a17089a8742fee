"""A Twitter archive's ``tweets.js`` (or the older ``tweet.js``): one person's own tweets.

The file is JavaScript: ``window.YTD.tweets.part0 = [ {"tweet": {...}}, ... ]``, each
tweet as API v1.1 gave it but with **every number a string** (ids, counts, entity
offsets) and **no user object**: the account is in ``account.js`` beside it (and the
bio in ``profile.js``), in the archive's ``data/`` folder. Without ``account.js`` the
tweets' author is unknown and the file is refused with a message saying so.

An archive is sent by its owner: :attr:`Batch.owner` names them, so the import can
record their consent (an allow entry). Their own retweets (``RT @...`` with no
original in the file) are skipped. The array is read item by item, so a file cut
short imports every whole item and names where it stops.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backchannel.errors import InputError
from backchannel.importers.base import BATCH, Batch, array_items
from backchannel.importers.twarc import WITHHELD
from backchannel.importers.tweets import Unusable, make_post, v1_parts

_PREFIX = re.compile(r"^\s*window\.YTD\.[A-Za-z_]+\.part[0-9]+\s*=\s*")
RETWEET = "retweet (its original is not in the archive)"


def looks_like_archive(first_line: str) -> bool:
    return _PREFIX.match(first_line) is not None


def read_twitter_archive(path: Path) -> Iterator[Batch]:
    """The owner (a batch of its own, first), then the tweets, a batch at a time."""
    user = _account(path.parent)
    yield Batch(owner=user["screen_name"], tool="Twitter archive")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    batch = Batch()
    for number, item, problem in _items(text):
        batch.position = number
        batch.read += 1
        if problem:
            batch.skip("unreadable item", f"line {number}", problem)
            continue
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict):
            batch.skip("not a tweet", f"line {number}")
            continue
        try:
            outcome = _post(tweet, user)
        except Unusable as exc:
            batch.skip(str(exc), f"line {number}")
            continue
        if isinstance(outcome, str):
            batch.skipped[outcome] += 1
        else:
            batch.posts.append(outcome)
        if len(batch.posts) >= BATCH:
            yield batch
            batch = batch.after()
    yield batch


def _items(text: str) -> Iterator[tuple[int, Any, str]]:
    """Each item of the file's array: (its line, the item, a problem or "")."""
    prefix = _PREFIX.match(text)
    at = prefix.end() if prefix else 0
    while at < len(text) and text[at].isspace():
        at += 1
    if not text.startswith("[", at):
        yield 1, None, "not a Twitter archive file (window.YTD... = [ ... ])"
        return
    yield from array_items(text, at)


def _post(tweet: dict[str, Any], user: dict[str, Any]) -> Any:
    text = tweet.get("full_text") or tweet.get("text") or ""
    if isinstance(text, str) and text.startswith("RT @") and "retweeted_status" not in tweet:
        return RETWEET
    parts = v1_parts(tweet)
    if parts is None:
        return WITHHELD
    return make_post(user=user, **parts)


def _account(folder: Path) -> dict[str, Any]:
    """The archive owner as a v1.1 user object, from ``account.js`` (and ``profile.js``)."""
    account_file = folder / "account.js"
    if not account_file.is_file():
        raise InputError(
            f"{folder / 'tweets.js'}: no account.js beside it, so whose tweets these are is "
            "unknown; import the tweets.js in the archive's data folder, where account.js is"
        )
    account = _first(account_file, "account")
    user = {"id_str": str(account.get("accountId") or ""),
            "screen_name": str(account.get("username") or ""),
            "name": str(account.get("accountDisplayName") or account.get("username") or "")}  # fmt: skip
    if not user["screen_name"]:
        raise InputError(f"{account_file}: no username in it")
    profile_file = folder / "profile.js"
    if profile_file.is_file():
        profile = _first(profile_file, "profile")
        description = profile.get("description") if isinstance(profile, dict) else None
        if isinstance(description, dict):
            user["description"] = str(description.get("bio") or "")
            user["location"] = str(description.get("location") or "")
    return user


def _first(path: Path, key: str) -> dict[str, Any]:
    for _, item, problem in _items(path.read_text(encoding="utf-8-sig", errors="replace")):
        if not problem and isinstance(item, dict) and isinstance(item.get(key), dict):
            return item[key]  # type: ignore[no-any-return]
    raise InputError(f"{path}: no {key} in it")
