"""twarc captures: JSON lines of Twitter API v1.1 tweets, or of twarc2's API v2 pages.

What a line can be (twarc's and twarc-csv's documentation, and what they wrote):

* **v1.1** (twarc 1): one tweet; its text in ``extended_tweet.full_text`` (streamed),
  ``full_text`` (``tweet_mode=extended``) or ``text``; a retweet stands for its
  original, whose full text is in ``retweeted_status``; ids from ``id_str``. A
  streamed ``{"delete": ...}`` notice says a tweet was deleted: it is forgotten.
* **twarc2**: one API page (``data`` a list, with ``includes`` of users, tweets and
  media, ``meta``, and ``errors`` for deleted and suspended accounts' tweets), or one
  streamed tweet (``data`` an object), or a *flattened* tweet (``twarc2 flatten``:
  the author and referenced tweets inside it).

A line that is not JSON is named and skipped; a last line cut short says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backchannel.collectors import NormalizedPost
from backchannel.importers.base import BATCH, Batch, read_file_lines
from backchannel.importers.entities import entities_v2
from backchannel.importers.tweets import (
    Unusable,
    make_post,
    media_v2,
    tweet_id,
    tweet_uri,
    v1_parts,
    withheld,
)
from backchannel.sanitize import parse_json

GONE = "deleted or suspended at the source"
WITHHELD = "withheld"
NOT_A_TWEET = "not a tweet"

# One outcome of a line: a post, a reason it was skipped, or a deleted tweet's URI.
Outcome = NormalizedPost | tuple[str, str]


def read_twarc(path: Path) -> Iterator[Batch]:
    """The posts of a twarc file, :data:`~backchannel.importers.base.BATCH` at a time."""
    batch = Batch(tool="twarc")
    for number, line, ended in read_file_lines(path):
        if not line.strip():
            continue
        batch.position = number
        try:
            data = parse_json(line)
        except ValueError:
            batch.read += 1
            batch.skipped["unreadable line"] += 1
            batch.problems.append(
                f"line {number}: cut short (the file ends inside it)" if not ended
                else f"line {number}: not JSON"
            )  # fmt: skip
            continue
        _note_capture(batch, data)
        for outcome in outcomes(data):
            if isinstance(outcome, NormalizedPost):
                batch.read += 1
                batch.posts.append(outcome)
            elif outcome[0] == "deleted":
                batch.deleted.append(outcome[1])
            else:
                batch.read += 1
                batch.skipped[outcome[0]] += 1
                if outcome[1]:
                    batch.problems.append(f"line {number}: {outcome[1]}")
        if len(batch.posts) >= BATCH:
            yield batch
            batch = batch.after()
    yield batch


def _note_capture(batch: Batch, data: object) -> None:
    """twarc2's own note on a line: its version and when it retrieved the page."""
    meta = data.get("__twarc") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return
    if isinstance(meta.get("version"), str):
        batch.tool = f"twarc {meta['version'][:40]}"
    retrieved = meta.get("retrieved_at")
    if isinstance(retrieved, str):
        try:
            moment = datetime.fromisoformat(retrieved.replace("Z", "+00:00"))
        except ValueError:
            return
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        batch.captured_at = max(filter(None, (batch.captured_at, moment)))


def outcomes(data: object) -> list[Outcome]:
    """What one line holds (see the module's text)."""
    if not isinstance(data, dict):
        return [(NOT_A_TWEET, "not a JSON object")]
    if "data" in data:
        includes = Includes.of(data.get("includes"))
        items = data["data"] if isinstance(data["data"], list) else [data["data"]]
        found: list[Outcome] = [_guard(lambda t=t: _v2(t, includes)) for t in items]
        for error in data.get("errors") or []:
            if isinstance(error, dict) and error.get("resource_type") in ("tweet", "user"):
                found.append((GONE, ""))
        return found
    if isinstance(data.get("delete"), dict):
        status = data["delete"].get("status") or {}
        try:
            return [("deleted", tweet_uri(tweet_id(status.get("id_str") or status.get("id"))))]
        except Unusable:
            return [(NOT_A_TWEET, "a deletion notice without an id")]
    if "user" in data or "id_str" in data:
        return [_guard(lambda: _v1(data))]
    if "author_id" in data or "author" in data:
        return [_guard(lambda: _v2(data, Includes.flattened(data)))]
    return [(NOT_A_TWEET, f"no tweet in an object with {', '.join(sorted(data)[:5])}")]


def _guard(make: Any) -> Outcome:
    try:
        made: Outcome = make()
    except Unusable as exc:
        return (str(exc), str(exc))
    return made


def _v1(tweet: dict[str, Any]) -> Outcome:
    original = tweet.get("retweeted_status")
    if isinstance(original, dict):
        tweet = original  # a retweet stands for its original, with its full text
    user = tweet.get("user")
    if not isinstance(user, dict):
        raise Unusable("no user")
    parts = v1_parts(tweet)
    if parts is None or withheld(user):
        return (WITHHELD, "")
    return make_post(user=user, **parts)


class Includes:
    """A v2 page's expansions, by id (users, tweets) and by key (media)."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}

    @classmethod
    def of(cls, includes: object) -> Includes:
        made = cls()
        if isinstance(includes, dict):
            for name, by, field in (("users", made.users, "id"), ("tweets", made.tweets, "id"),
                                    ("media", made.media, "media_key")):  # fmt: skip
                for item in includes.get(name) or []:
                    if isinstance(item, dict) and isinstance(item.get(field), str):
                        by[item[field]] = item
        return made

    @classmethod
    def flattened(cls, tweet: dict[str, Any]) -> Includes:
        """``twarc2 flatten`` puts the expansions inside the tweet."""
        made = cls()
        for item in [tweet, *[r.get("tweet") for r in tweet.get("referenced_tweets") or []
                              if isinstance(r, dict)]]:  # fmt: skip
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("author"), dict) and isinstance(item.get("author_id"), str):
                made.users[item["author_id"]] = item["author"]
            if isinstance(item.get("id"), str):
                made.tweets[item["id"]] = item
        return made


def _v2(tweet: object, includes: Includes) -> Outcome:
    if not isinstance(tweet, dict):
        return (NOT_A_TWEET, "a tweet that is not an object")
    refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or []
            if isinstance(r, dict) and isinstance(r.get("id"), str)}  # fmt: skip
    if "retweeted" in refs:
        original = includes.tweets.get(refs["retweeted"])
        if original is None:
            return ("retweet of a tweet not in the file", "")
        tweet = original
        refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or []
                if isinstance(r, dict) and isinstance(r.get("id"), str)}  # fmt: skip
    if withheld(tweet):
        return (WITHHELD, "")
    user = includes.users.get(str(tweet.get("author_id"))) or tweet.get("author")
    if not isinstance(user, dict):
        raise Unusable("author not in the file")
    if withheld(user):
        return (WITHHELD, "")
    note = tweet.get("note_tweet") if isinstance(tweet.get("note_tweet"), dict) else {}
    long_text = note.get("text") if isinstance(note.get("text"), str) else ""
    text = long_text or tweet.get("text") or ""
    entities = (note if long_text else tweet).get("entities")
    attachments = tweet.get("attachments") if isinstance(tweet.get("attachments"), dict) else {}
    media = [includes.media[k] for k in attachments.get("media_keys") or []
             if isinstance(k, str) and k in includes.media]  # fmt: skip
    media += [m for m in attachments.get("media") or [] if isinstance(m, dict)]  # flattened
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    return make_post(
        tweet_id_text=tweet_id(tweet.get("id")),
        user=user,
        created=tweet.get("created_at"),
        text=text if isinstance(text, str) else "",
        entities=entities_v2(entities if isinstance(entities, dict) else {}),
        media=media_v2(media),
        raw={"tweet": tweet, "author": user, "media": media},
        language=tweet.get("lang"),
        sensitive=tweet.get("possibly_sensitive"),
        reply_to=refs.get("replied_to"),
        quote_of=refs.get("quoted"),
        counts=(
            metrics.get("reply_count"),
            metrics.get("retweet_count"),
            metrics.get("like_count"),
            metrics.get("quote_count"),
        ),  # fmt: skip
    )
