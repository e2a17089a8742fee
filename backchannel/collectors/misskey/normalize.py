"""Misskey notes (``packed Note``) -> :class:`NormalizedPost`.

A note's text is MFM, Misskey's markup, as its author typed it: plain text with
``#tags``, ``@user@host`` mentions, bare and ``[label](url)`` links, ``:emoji:`` and
decorations (``**bold**``, ``$[x2 big]``, ``<small>``). It becomes HTML as Mastodon
writes it (paragraphs, ``<br>``, links for mentions, tags and URLs; decorations kept
as their text), which then goes through the same cleaning as every post, so nothing a
stranger writes reaches the archive unescaped.

Visibility is said in Mastodon's words, so that the consent rules read both alike:
``public`` stays ``public``; ``home`` (shown to anyone, out of public timelines) is
``unlisted``; ``followers`` is ``private``; ``specified`` is ``direct``.

A note's author comes as a light user (``UserLite``: no profile, no actor id). The
collector asks ``users/show`` for the detailed user once per run, and passes it here:
its ActivityPub ``uri`` is the author's identity (so a person met through Mastodon and
through Misskey is one person), and its ``description``, ``fields``, ``noindex`` and
``isExplorable`` are the consent signals.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from backchannel.collectors.base import (
    NormalizedAuthor,
    NormalizedMedia,
    NormalizedPost,
    normalize_hashtag,
)
from backchannel.collectors.mastodon.normalize import parse_datetime
from backchannel.errors import MalformedResponseError
from backchannel.sanitize import clean_post, escape, limits, safe_url

PLATFORM = "mastodon"  # the fediverse: notes federate as statuses do, merged on their uri
VISIBILITY = {"public": "public", "home": "unlisted", "followers": "private",
              "specified": "direct"}  # fmt: skip

_DECORATION_TAG = re.compile(r"</?(?:small|center|plain|i|b|s|sub|sup)>")
_FUNCTION = re.compile(r"\$\[[\w.,=+\-]+ ([^\[\]]*)\]")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_TOKEN = re.compile(
    r"(?P<link>\??\[(?P<label>[^\]\n]{1,200})\]\((?P<href>https?://[^\s)]+)\))"
    r"|(?P<url>https?://[^\s<>\"'()\[\]]+)"
    r"|(?<![\w@])(?P<mention>@(?P<user>[A-Za-z0-9_]{1,100})(?:@(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}))?)"
    r"|(?<![\w#&])(?P<tag>#(?P<name>[^\s#.,!?;:'\"()\[\]<>]{1,100}))"
)
_EMOJI = re.compile(r":([A-Za-z0-9_+-]{1,100}):")


def normalize_note(
    raw: Mapping[str, Any], base_url: str, profile: Mapping[str, Any] | None = None
) -> NormalizedPost:
    """One note as the Misskey server at ``base_url`` serves it; ``profile``: its
    author's detailed user (``users/show``), when the caller has it."""
    try:
        return _normalize(raw, base_url.rstrip("/"), profile or {})
    except MalformedResponseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        ident = raw.get("id") if isinstance(raw, Mapping) else None
        raise MalformedResponseError(
            f"note {ident!r} from {base_url} is not a valid Misskey note: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def is_pure_renote(raw: Mapping[str, Any]) -> bool:
    """A renote with nothing of its own (a boost): never archived as a post."""
    return bool(raw.get("renoteId")) and not raw.get("text") and not raw.get("files")


def mfm_to_html(text: str, base_url: str) -> tuple[str, list[tuple[str, str]]]:
    """MFM as Mastodon-like HTML (not yet cleaned), and its mentions (handle, URL)."""
    domain = base_url.split("://", 1)[-1]
    text = _DECORATION_TAG.sub("", text)
    for _ in range(10):  # nested functions, innermost first
        text, count = _FUNCTION.subn(r"\1", text)
        if not count:
            break
    mentions: list[tuple[str, str]] = []
    paragraphs = []
    for block in re.split(r"\n{2,}", text.strip()):
        out: list[str] = []
        last = 0
        for match in _TOKEN.finditer(block):
            out.append(_plain(block[last : match.start()]))
            out.append(_token(match, base_url, domain, mentions))
            last = match.end()
        out.append(_plain(block[last:]))
        paragraphs.append("<p>" + "".join(out).replace("\n", "<br>") + "</p>")
    return "".join(paragraphs), mentions


def _plain(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text, quote=False))


def _token(match: re.Match[str], base_url: str, domain: str,
           mentions: list[tuple[str, str]]) -> str:  # fmt: skip
    if match["link"]:
        href = html.escape(match["href"])
        return f'<a href="{href}" rel="nofollow noopener">{html.escape(match["label"])}</a>'
    if match["url"]:
        url = match["url"].rstrip(".,!?;:")
        rest = match["url"][len(url) :]
        return f'<a href="{html.escape(url)}" rel="nofollow noopener">{html.escape(url)}</a>' + rest
    if match["mention"]:
        host = match["host"] or domain
        profile = (
            f"https://{host}/@{match['user']}" if match["host"] else f"{base_url}/@{match['user']}"
        )
        mentions.append((f"{match['user']}@{host}", profile))
        return (f'<span class="h-card"><a href="{html.escape(profile)}" class="u-url mention">'
                f"@{html.escape(match['user'])}</a></span>")  # fmt: skip
    name = match["name"]
    href = f"{base_url}/tags/{html.escape(name)}"
    return f'<a href="{href}" class="mention hashtag" rel="tag">#{html.escape(name)}</a>'


def _normalize(raw: Mapping[str, Any], base_url: str, profile: Mapping[str, Any]) -> NormalizedPost:
    for key in ("id", "createdAt", "user"):
        if raw.get(key) is None:
            raise MalformedResponseError(f"note {raw.get('id')!r} lacks {key}")
    user = raw["user"]
    if not isinstance(user, Mapping):
        raise MalformedResponseError(f"note {raw['id']!r}: user is not an object")
    note_id = str(raw["id"])
    text = limits.bounded(str(raw.get("text") or ""), limits.POST_TEXT)
    source_html, mentions = mfm_to_html(text, base_url)
    emojis = _emojis(raw, user, text, base_url)
    body, plain, links = clean_post(source_html, dict(emojis))
    own = f"{base_url}/notes/{note_id}"
    skip = {url for _, url in mentions}
    tags = tuple(dict.fromkeys(normalize_hashtag(str(t)) for t in raw.get("tags") or ()))
    skip |= {f"{base_url}/tags/{t}" for t in re.findall(r"#([^\s#<]+)", plain)}
    files = [f for f in raw.get("files") or () if isinstance(f, Mapping)]
    reply, renote = raw.get("reply"), raw.get("renote")
    updated = raw.get("updatedAt")
    return NormalizedPost(
        platform=PLATFORM,
        uri=str(raw.get("uri") or own),
        url=safe_url(raw.get("url") or raw.get("uri") or own),
        native_id=note_id,
        author=normalize_user(user, base_url, profile),
        created_at=parse_datetime(raw["createdAt"]),
        raw=dict(raw),
        text=plain,
        html=body,
        content_warning=str(raw.get("cw") or "") or None,
        sensitive=bool(raw.get("cw")) or any(bool(f.get("isSensitive")) for f in files),
        visibility=VISIBILITY.get(str(raw.get("visibility") or "public"), "direct"),
        edited_at=parse_datetime(updated) if updated else None,
        reply_to_uri=_uri_of(reply, base_url),
        reply_to_native_id=str(raw["replyId"]) if raw.get("replyId") else None,
        quote_uri=_uri_of(renote, base_url)
        or (f"{base_url}/notes/{raw['renoteId']}" if raw.get("renoteId") else None),  # fmt: skip
        reply_count=_count(raw.get("repliesCount")),
        repost_count=_count(raw.get("renoteCount")),
        like_count=_count(raw.get("reactionCount")),
        tags=tags,
        mentions=tuple(mentions),
        links=tuple(url for url in links if url not in skip),
        media=tuple(_media(f) for f in files),
        emojis=emojis,
    )


def normalize_user(
    user: Mapping[str, Any], base_url: str, profile: Mapping[str, Any] | None = None
) -> NormalizedAuthor:
    """The author from the light user, made whole by the detailed one where given."""
    detail = {**user, **(profile or {})}
    domain = base_url.split("://", 1)[-1]
    host = str(detail.get("host") or "") or None
    username = str(detail["username"])
    handle = f"{username}@{host or domain}"
    emojis = tuple((str(k), url) for k, v in (detail.get("emojis") or {}).items()
                   if (url := safe_url(v)))  # fmt: skip
    name = limits.bounded(str(detail.get("name") or username), limits.NAME)
    local_uri = f"{base_url}/users/{detail['id']}"
    profile_url = safe_url(detail.get("url")) or (f"https://{host}/@{username}" if host
                                                  else f"{base_url}/@{username}")  # fmt: skip
    bio = [str(detail.get("description") or "")]
    for item in detail.get("fields") or ():
        if isinstance(item, Mapping):
            bio.append(f"{item.get('name') or ''}: {item.get('value') or ''}")
    noindex = _optional_bool(detail.get("noindex"))
    if detail.get("requireSigninToViewContents") is True:
        noindex = True  # only signed-in people may read them: not for a public archive
    return NormalizedAuthor(
        platform=PLATFORM,
        # A remote author's actor id is in the detailed user only; without it, their
        # handle (never another server's guess at their actor URL).
        uri=str(detail.get("uri") or (local_uri if host is None else f"acct:{handle}")),
        handle=handle,
        display_name=name,
        display_name_html=escape(name, dict(emojis)),
        avatar_url=safe_url(detail.get("avatarUrl")),
        profile_url=profile_url,
        bot=bool(detail.get("isBot")),
        noindex=noindex,
        discoverable=_optional_bool(detail.get("isExplorable")),
        bio_text="\n".join(limits.bounded(part, limits.POST_TEXT) for part in bio if part.strip()),
        suspended=bool(detail.get("isSuspended")),
        limited=bool(detail.get("isSilenced")),
        home_server=(host or domain).lower(),
        emojis=emojis,
    )


def _emojis(raw: Mapping[str, Any], user: Mapping[str, Any], text: str,
            base_url: str) -> tuple[tuple[str, str], ...]:  # fmt: skip
    """The custom emoji of the text: a remote note names their URLs (``emojis``); a
    local one does not, and the server serves each at ``/emoji/<name>.webp``."""
    named = {**(raw.get("emojis") or {})} if isinstance(raw.get("emojis"), Mapping) else {}
    pairs = []
    for name in dict.fromkeys(_EMOJI.findall(text)):
        url = safe_url(named.get(name)) if name in named else None
        if url is None and not raw.get("uri"):
            url = f"{base_url}/emoji/{name}.webp"
        if url:
            pairs.append((name, url))
    return tuple(pairs)


def _uri_of(other: object, base_url: str) -> str | None:
    if not isinstance(other, Mapping) or not other.get("id"):
        return None
    return str(other.get("uri") or f"{base_url}/notes/{other['id']}")


def _media(item: Mapping[str, Any]) -> NormalizedMedia:
    kind = str(item.get("type") or "").split("/", 1)[0]
    properties = item.get("properties") if isinstance(item.get("properties"), Mapping) else {}
    return NormalizedMedia(
        kind={"image": "image", "video": "video", "audio": "audio"}.get(kind, "unknown"),
        url=safe_url(item.get("url")),
        preview_url=safe_url(item.get("thumbnailUrl")),
        alt=limits.bounded(str(item["comment"]), limits.ALT_TEXT) if item.get("comment") else None,
        width=_int(properties.get("width")),
        height=_int(properties.get("height")),
        blurhash=str(item["blurhash"]) if item.get("blurhash") else None,
    )


def _optional_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
