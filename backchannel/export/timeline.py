"""The timeline: one page per local day, paginated, each post rendered once.

A day's pages are a *unit* for the site writer: their fingerprint covers every input
that shows on them (the posts' light rows, authors, media, tags, the places of replied
and quoted posts, the neighbouring days, the theme and the options). A day whose
fingerprint did not change is not even rendered on the next export.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from backchannel.export.context import Views, date_text
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex, IndexedPost
from backchannel.export.writer import SiteWriter


@dataclass(frozen=True, slots=True)
class DayLink:
    day: str  # "2013-11-14"
    date: str  # "Thursday 14 November 2013"
    posts: int
    href: str  # relative to an event page


@dataclass(frozen=True, slots=True)
class PageLink:
    number: int
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class DayPage:
    day: DayLink
    number: int  # 1-based page within the day
    pages: tuple[PageLink, ...]
    previous_page: str | None
    next_page: str | None
    previous_day: DayLink | None
    next_day: DayLink | None
    first_index: int  # 1-based position of the first post on the day
    posts: tuple[Markup, ...]  # each post's rendered _post.html


def page_file(day: str, number: int) -> str:
    return f"{day}.html" if number == 1 else f"{day}-{number}.html"


def paginate(index: EventIndex, per_page: int) -> dict[str, list[list[IndexedPost]]]:
    """Split each day into pages and give every post its ``href``."""
    pages: dict[str, list[list[IndexedPost]]] = {}
    for day, posts in index.days.items():
        chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)]
        pages[day] = chunks
        for number, chunk in enumerate(chunks, start=1):
            name = page_file(day, number)
            for post in chunk:
                post.href = f"{name}#{post.anchor}"
    return pages


def day_links(index: EventIndex) -> list[DayLink]:
    return [DayLink(d, date_text(d), len(p), page_file(d, 1)) for d, p in index.days.items()]


def post_fingerprint(index: EventIndex, post: IndexedPost) -> list[Any]:
    author = index.authors[post.author_id]
    avatar = index.avatars.get(post.author_id)
    parts: list[Any] = [
        post.fingerprint(),
        author.fingerprint(),
        avatar.fingerprint() if avatar else None,
        [m.fingerprint() for m in index.media.get(post.id, ())],
        index.tags.get(post.id, []),
    ]
    if post.reply_to_uri:
        parent = index.by_uri.get(post.reply_to_uri)
        parts.append([parent.href, index.authors[parent.author_id].handle] if parent else None)
    if post.quote_uri:
        quoted = index.by_uri.get(post.quote_uri)
        if quoted is not None:
            parts.append(post_fingerprint(index, quoted) if quoted is not post else "self")
            parts.append(quoted.href)
    return parts


def render_day(
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    base: dict[str, Any],
    days: list[DayLink],
    position: int,
    chunks: list[list[IndexedPost]],
    advance: Callable[[int], None],
) -> None:
    """Write one day's pages."""
    post_template = theme.get("_post.html")
    day_template = theme.get("day.html")
    day = days[position]
    slug = base["event"].slug
    links = [PageLink(n, page_file(day.day, n), False) for n in range(1, len(chunks) + 1)]
    first = 1
    for number, chunk in enumerate(chunks, start=1):
        rendered = tuple(
            Markup(post_template.render(post=view, **base))  # noqa: S704 - our template
            for view in views.posts(chunk)
        )
        page = DayPage(
            day=day,
            number=number,
            pages=tuple(PageLink(p.number, p.href, p.number == number) for p in links),
            previous_page=links[number - 2].href if number > 1 else None,
            next_page=links[number].href if number < len(links) else None,
            previous_day=days[position - 1] if position > 0 else None,
            next_day=days[position + 1] if position + 1 < len(days) else None,
            first_index=first,
            posts=rendered,
        )
        writer.write(f"{slug}/{page_file(day.day, number)}", day_template.render(page=page, **base))
        first += len(chunk)
        advance(len(chunk))


def day_fingerprint(
    event_fingerprint: str,
    index: EventIndex,
    days: list[DayLink],
    position: int,
    chunks: list[list[IndexedPost]],
) -> str:
    neighbours = [
        days[position - 1].day if position > 0 else None,
        days[position + 1].day if position + 1 < len(days) else None,
    ]
    payload = [event_fingerprint, neighbours, [len(c) for c in chunks]]
    payload += [post_fingerprint(index, post) for chunk in chunks for post in chunk]
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
