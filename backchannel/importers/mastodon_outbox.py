"""A Mastodon account's archive export: ``outbox.json`` (ActivityPub), ``actor.json`` beside it.

The outbox is an ``OrderedCollection`` whose ``orderedItems`` are activities: a
``Create`` holds the status as a ``Note`` (its ``id`` the canonical URI, so a post
also collected from a server merges with it), a boost is an ``Announce`` of a URI
only (nothing of the boosted post is in the file: skipped). Visibility is read from
the addressing: public when ``as:Public`` is in ``to``; unlisted, followers-only and
direct posts are skipped by the consent rule as they would be at collection.

The account is ``actor.json`` (its ``preferredUsername`` at the host of its ``id``,
its name, bio and avatar). An archive is sent by its owner: :attr:`Batch.owner` names
them so that the import records their consent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from backchannel.collectors import (
    NormalizedAuthor,
    NormalizedMedia,
    NormalizedPost,
    normalize_hashtag,
)
from backchannel.errors import InputError
from backchannel.importers.base import BATCH, Batch, array_items
from backchannel.sanitize import clean_post, escape, html_to_text, make_valid, safe_url

PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
BOOST = "boost (the boosted post is not in the archive)"
MEDIA_KINDS = {"image": "image", "video": "video", "audio": "audio", "gifv": "gifv"}


_ITEMS = re.compile(r'"orderedItems"\s*:\s*\[')


def looks_like_outbox(head: str) -> bool:
    """The first part of a file: an ActivityPub collection with ordered items."""
    return '"OrderedCollection"' in head and _ITEMS.search(head) is not None


def read_outbox(path: Path) -> Iterator[Batch]:
    """The owner first (a batch of its own), then the posts, a batch at a time."""
    author = _actor(path.parent)
    yield Batch(owner=author.handle, tool="Mastodon archive")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    start = _ITEMS.search(text)
    if start is None:
        raise InputError(f"{path}: not an outbox (an OrderedCollection with orderedItems)")
    batch = Batch()
    for line, activity, problem in array_items(text, start.end() - 1):
        batch.read += 1
        batch.position = line
        if problem:
            batch.skip("unreadable part", f"line {line}", problem)
            continue
        outcome = _post(activity, author)
        if isinstance(outcome, str):
            batch.skipped[outcome] += 1
            if outcome.startswith("unreadable"):
                batch.problems.append(f"line {line}: {outcome}")
        else:
            batch.posts.append(outcome)
        if len(batch.posts) >= BATCH:
            yield batch
            batch = batch.after()
    yield batch


def _post(activity: object, author: NormalizedAuthor) -> NormalizedPost | str:
    if not isinstance(activity, dict):
        return "unreadable: not an activity"
    if activity.get("type") == "Announce":
        return BOOST
    note = activity.get("object")
    if activity.get("type") != "Create" or not isinstance(note, dict):
        return f"not a post ({str(activity.get('type'))[:40]})"
    uri = safe_url(str(note.get("id") or ""))
    published = _time(note.get("published") or activity.get("published"))
    if not uri or published is None:
        return "unreadable: no id or time"
    to = set(_strings(note.get("to") or activity.get("to")))
    cc = set(_strings(note.get("cc") or activity.get("cc")))
    visibility = "public" if to & PUBLIC else "unlisted" if cc & PUBLIC else "private"
    tags, emojis = [], []
    for tag in note.get("tag") or []:
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Hashtag":
            name = normalize_hashtag(str(tag.get("name") or ""))
            if name and name not in tags:
                tags.append(name)
        elif tag.get("type") == "Emoji" and isinstance(tag.get("icon"), dict):
            icon = safe_url(str(tag["icon"].get("url") or ""))
            if icon:
                emojis.append((str(tag.get("name") or "").strip(":"), icon))
    cleaned = clean_post(str(note.get("content") or ""), dict(emojis))
    origin = _origin(uri)
    return make_valid(NormalizedPost(
        platform="mastodon", uri=uri, url=safe_url(str(note.get("url") or "")) or uri,
        native_id=uri, author=author, created_at=published, raw=activity,
        text=cleaned.text, html=cleaned.html,
        language=next(iter(note.get("contentMap") or {}), None),
        content_warning=str(note.get("summary") or "") or None,
        sensitive=note.get("sensitive") is True, visibility=visibility,
        reply_to_uri=safe_url(str(note.get("inReplyTo") or "")) or None,
        quote_uri=safe_url(str(note.get("quoteUri") or note.get("quoteUrl") or "")) or None,
        tags=tuple(tags), links=tuple(cleaned.links), emojis=tuple(emojis),
        media=tuple(_media(note.get("attachment"), origin)),
    ))  # fmt: skip


def _media(attachments: object, origin: str) -> list[NormalizedMedia]:
    media = []
    for item in attachments if isinstance(attachments, list) else []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("mediaType") or "").split("/")[0]
        # The archive names its files by path: they lived at the account's server.
        url = safe_url(urljoin(origin, str(item.get("url") or "")))
        if url:
            media.append(NormalizedMedia(
                kind=MEDIA_KINDS.get(kind, "unknown"), url=url, alt=str(item.get("name") or "") or None,
                width=item.get("width") if isinstance(item.get("width"), int) else None,
                height=item.get("height") if isinstance(item.get("height"), int) else None,
                blurhash=str(item.get("blurhash") or "") or None,
            ))  # fmt: skip
    return media


def _actor(folder: Path) -> NormalizedAuthor:
    path = folder / "actor.json"
    if not path.is_file():
        raise InputError(f"{folder / 'outbox.json'}: no actor.json beside it, so whose posts "
                         "these are is unknown; import the outbox.json of the unpacked archive")  # fmt: skip
    try:
        actor = json.loads(path.read_text(encoding="utf-8-sig", errors="replace"), strict=False)
    except ValueError:
        raise InputError(f"{path}: not JSON") from None
    uri = safe_url(str(actor.get("id") or "")) if isinstance(actor, dict) else None
    name = str(actor.get("preferredUsername") or "") if uri else ""
    if not uri or not name:
        raise InputError(f"{path}: no id or preferredUsername in it")
    display = str(actor.get("name") or "")
    icon = actor.get("icon") if isinstance(actor.get("icon"), dict) else {}
    return NormalizedAuthor(
        platform="mastodon", uri=uri, handle=f"{name}@{urlsplit(uri).hostname}",
        display_name=display, display_name_html=escape(display),
        avatar_url=safe_url(urljoin(_origin(uri), str(icon.get("url") or ""))) if icon else None,
        profile_url=safe_url(str(actor.get("url") or "")) or uri,
        bot=actor.get("type") == "Service",
        discoverable=actor.get("discoverable") if isinstance(actor.get("discoverable"), bool) else None,
        indexable=actor.get("indexable") if isinstance(actor.get("indexable"), bool) else None,
        bio_text=html_to_text(str(actor.get("summary") or "")),
        home_server=urlsplit(uri).hostname,
    )  # fmt: skip


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}/"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _time(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
