"""The timeline: one page per local day, paginated, each post rendered once.

A day's pages are a *unit* for the site writer: their fingerprint covers every input
that shows on them (the posts' light rows, authors, media, tags, the places of replied
and quoted posts, the neighbouring days, the theme and the options). A day whose
fingerprint did not change is not even rendered on the next export.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from backchannel.export.context import Views
from backchannel.export.environment import Theme, pluralize
from backchannel.export.sections import Section, Sectioner, groups, pack
from backchannel.export.selection import (
    KEY_BYTES,
    EventIndex,
    IndexedPost,
    KeyColumn,
    PostRange,
    as_range,
    key_text,
)
from backchannel.export.threads import thread_links
from backchannel.export.writer import SiteWriter


@dataclass(frozen=True, slots=True)
class DayLink:
    day: str  # "2013-11-14"
    date: str  # "Thursday 14 November 2013"
    posts: int
    href: str  # relative to an event page


@dataclass(frozen=True, slots=True)
class PageLink:
    number: int  # this page is the one whose number is DayPage.number
    href: str
    label: str = ""  # the times it holds: "09:00–11:00", "09:00–10:00 (2 of 3)"


@dataclass(frozen=True, slots=True)
class TimeLink:
    """One entry of a day's time index: a session, or an hour."""

    key: str  # the anchor of its heading
    label: str  # "09:00–10:00", or the session's title
    start: str  # "09:00"
    end: str  # "10:00"
    session: bool
    posts: int
    href: str  # "<page>.html#<key>": where the section begins
    page: str  # "<page>.html": the page it begins on (this one when DayPage.file)


@dataclass(frozen=True, slots=True)
class PageSection:
    """A section's posts on one page, under its heading."""

    key: str
    label: str
    start: str
    end: str
    session: bool
    posts_in_section: int  # on the whole day
    continued: bool  # it began on an earlier page
    first_index: int  # 1-based position of its first post here on the day
    posts: tuple[Markup, ...]
    page: str = ""  # a session's own page
    room: str = ""  # where the session is held, when the schedule says


@dataclass(frozen=True, slots=True)
class DayPage:
    day: DayLink
    number: int  # 1-based page within the day
    pages: tuple[PageLink, ...]  # the day's every page (the same tuple on each)
    previous_page: str | None
    next_page: str | None
    previous_day: DayLink | None
    next_day: DayLink | None
    first_index: int  # 1-based position of the first post on the day
    posts: tuple[Markup, ...]  # each post's rendered _post.html
    sections: tuple[PageSection, ...] = ()  # the same posts under their headings
    times: tuple[TimeLink, ...] = ()  # the day's index: every section of the day
    span: str = ""  # the times this page holds
    file: str = ""  # this page's file name
    # ``pages`` and ``times`` as the default theme lists them, made once a day rather
    # than by the template on every page: a day of 250 pages lists 250 pages on each
    # (:class:`DayLists`).
    page_items: Markup = Markup("")
    time_items: Markup = Markup("")


class DayLists:
    """A day's pager and time index, each entry written once in its two forms (this
    page's, another's): a page joins them. The same HTML as ``_pager.html`` and
    ``day.html`` write from ``pages`` and ``times`` (``test_day_lists_match``)."""

    def __init__(self, links: Sequence[PageLink], times: Sequence[TimeLink]) -> None:
        self._pages = [
            (
                f'<li><a href="{escape(link.href)}">{escape(link.label or link.number)}</a></li>\n',
                f'<li><a href="{escape(link.href)}" aria-current="page">'
                f"{escape(link.label or link.number)}</a></li>\n",
            )
            for link in links
        ]  # fmt: skip
        self._times = [(self._time(time, False), self._time(time, True)) for time in times]
        self._time_pages = [time.page for time in times]

    @staticmethod
    def _time(time: TimeLink, here: bool) -> str:
        href = f"#{time.key}" if here else time.href
        label = (f'<span class="time">{escape(time.start)}–{escape(time.end)}</span> '
                 f"{escape(time.label)}" if time.session else str(escape(time.label)))  # fmt: skip
        count = escape(pluralize(time.posts, "post"))
        return f'<li><a href="{escape(href)}">{label}</a> <span class="count">{count}</span></li>\n'

    def pages(self, number: int) -> Markup:
        return Markup("".join(  # noqa: S704 - made of escaped parts
            current if at == number else other
            for at, (other, current) in enumerate(self._pages, start=1)
        ))  # fmt: skip

    def times(self, page: str) -> Markup:
        return Markup("".join(  # noqa: S704 - made of escaped parts
            here if where == page else other
            for where, (other, here) in zip(self._time_pages, self._times, strict=True)
        ))  # fmt: skip


def page_file(day: str, number: int) -> str:
    return f"{day}.html" if number == 1 else f"{day}-{number}.html"


def paginate(index: EventIndex, per_page: int, sectioner: Sectioner) -> dict[str, list[PostRange]]:
    """Split each day into pages that break between sessions or hours, and give every
    post its ``href``."""
    pages: dict[str, list[PostRange]] = {}
    for day, posts in index.days.items():
        chunks = [as_range(index.columns, c) for c in pack(groups(posts, sectioner.of), per_page)]
        pages[day] = chunks
        for number, chunk in enumerate(chunks, start=1):
            name = page_file(day, number)
            for post in chunk:
                post.page = name
    return pages


def day_links(index: EventIndex) -> list[DayLink]:
    return [DayLink(d, index.dates.date(d), len(p), page_file(d, 1)) for d, p in index.days.items()]


class PostKeys:
    """Each post's *key*: it changes when anything that shows in the post's rendered
    HTML changes (the post's light row, its author and avatar, media, tags, where it
    and the posts it replies to or quotes sit). Authors' parts are made once each."""

    def __init__(self, event_fingerprint: str, index: EventIndex) -> None:
        self.event_fingerprint = event_fingerprint
        self.index = index
        self._authors: dict[int, str] = {}

    def key(self, post: IndexedPost) -> str:
        return key_text(self.digest(post))

    def digest(self, post: IndexedPost) -> bytes:
        # repr() of strings, numbers and None is exact and cheaper than JSON; a
        # Python whose repr differed would only re-render, never reuse a wrong post.
        # The page, not the href: the anchor in it is made from the URI, which is in
        # the fingerprint already (and hashing it again for every post cost a fifth).
        text = repr((self.event_fingerprint, post.page, self.fingerprint(post)))
        return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]

    def column(self) -> KeyColumn:
        """Every post's key, made once."""
        digests = bytearray()
        for post in self.index.posts:
            digests += self.digest(post)
        return KeyColumn(bytes(digests))

    def _author(self, author_id: int) -> str:
        part = self._authors.get(author_id)
        if part is None:
            avatar = self.index.avatars.get(author_id)
            part = self._authors[author_id] = repr(
                (
                    self.index.authors[author_id].fingerprint(),
                    avatar.fingerprint() if avatar else None,
                )
            )
        return part

    def fingerprint(self, post: IndexedPost) -> tuple[Any, ...]:
        index = self.index
        media = post.media
        parts: tuple[Any, ...] = (
            post.fingerprint(),
            self._author(post.author_id),
            [m.fingerprint() for m in media] if media else None,
            post.tags,
        )
        if post.reply_to_uri:
            parent = index.by_uri.get(post.reply_to_uri)
            # The reply shows where its parent is, its author and its first line.
            parts += (
                (parent.page, parent.uri, index.authors[parent.author_id].handle,
                 parent.version, parent.edited_at, parent.has_cw)
                if parent
                else None,
            )  # fmt: skip
        thread = thread_links(index).get(post.id)
        if thread is not None:  # the link to its conversation names the size
            parts += (thread.href, thread.posts)
        if post.quote_uri:
            quoted = index.by_uri.get(post.quote_uri)
            if quoted is not None:
                inner = self.fingerprint(quoted) if quoted != post else "self"
                parts += (inner, quoted.page)
        return parts


class Fragments:
    """Posts rendered by the previous export, cut out of its day pages.

    The manifest keeps, per day, where each post's HTML sits in the page it was
    written to (``key:start:end`` in characters). A post whose key is unchanged is
    taken from there instead of being rendered again, provided the page on disk is
    still the one the exporter wrote."""

    def __init__(self, writer: SiteWriter, slug: str) -> None:
        self.writer = writer
        self.slug = slug
        self.places: dict[str, tuple[str, int, int]] = {}
        for name in writer.previous_units():
            if not name.startswith(f"{slug}/day/"):
                continue
            previous = writer.previous_unit_data(name) or {}
            for page, spans in (previous.get("posts") or {}).items():
                for span in str(spans).split(";") if spans else ():
                    key, start, end = span.split(":")
                    self.places[key] = (page, int(start), int(end))
        self._texts: dict[str, str | None] = {}

    def get(self, key: str) -> str | None:
        place = self.places.get(key)
        if place is None:
            return None
        page, start, end = place
        if page not in self._texts:
            if len(self._texts) >= 4:  # pages are visited in order: keep a few, not all
                del self._texts[next(iter(self._texts))]
            self._texts[page] = self.writer.previous_text(f"{self.slug}/{page}")
        text = self._texts[page]
        return text[start:end] if text is not None and end <= len(text) else None


def render_posts(theme: Theme, posts: list[Any], base: dict[str, Any]) -> list[str]:
    """Each post's ``_post.html``, rendered in one template call for the lot.

    One ``render()`` per post costs a fresh context and a join each time; a loop that
    includes ``_post.html`` gives the same HTML (the include sees the same variables)
    for much less. The posts are cut apart at a marker made afresh for every call, so
    no stored text can forge it; if the count does not come out right (a theme's
    ``_post.html`` that prints it), each post is rendered on its own instead."""
    marker = f"<!--{secrets.token_hex(16)}-->"
    text = theme.post_batch.render(posts=posts, marker=Markup(marker), **base)  # noqa: S704
    parts = text.split(marker)
    if len(parts) == len(posts) + 1 and parts[-1] == "":
        return parts[:-1]
    template = theme.get("_post.html")
    return [template.render(post=view, **base) for view in posts]


def render_day(
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    base: dict[str, Any],
    days: list[DayLink],
    position: int,
    chunks: list[list[IndexedPost]],
    advance: Callable[[int], None],
    keys: KeyColumn | None = None,
    previous: Fragments | None = None,
    sectioner: Sectioner | None = None,
) -> dict[str, str]:
    """Write one day's pages. Returns, per page file, where its posts sit in it."""
    day_template = theme.get("day.html")
    day = days[position]
    slug = base["event"].slug
    sectioner = sectioner or Sectioner(views.index)
    day_groups = groups((p for chunk in chunks for p in chunk), sectioner.of)
    spans = _spans_of_pages(chunks, sectioner)
    links = tuple(PageLink(n, page_file(day.day, n), spans[n - 1])
                  for n in range(1, len(chunks) + 1))  # fmt: skip
    first = 1
    places: dict[str, str] = {}
    times = tuple(_time_link(section, members) for section, members in day_groups)
    lists = DayLists(links, times)
    for number, chunk in enumerate(chunks, start=1):
        known: dict[int, str] = {}
        if keys is not None and previous is not None:
            for post in chunk:
                fragment = previous.get(keys[post])
                if fragment is not None:
                    known[post.id] = fragment
        missing = [post for post in chunk if post.id not in known]
        if missing:
            rendered_missing = render_posts(theme, views.posts(missing), base)
            for post, html in zip(missing, rendered_missing, strict=True):
                known[post.id] = html
        rendered = tuple(Markup(known[post.id]) for post in chunk)  # noqa: S704 - our template
        name = page_file(day.day, number)
        page = DayPage(
            day=day,
            number=number,
            pages=links,
            previous_page=links[number - 2].href if number > 1 else None,
            next_page=links[number].href if number < len(links) else None,
            previous_day=days[position - 1] if position > 0 else None,
            next_day=days[position + 1] if position + 1 < len(days) else None,
            first_index=first,
            posts=rendered,
            sections=_page_sections(chunk, rendered, first, sectioner, day_groups),
            times=times,
            span=spans[number - 1],
            file=name,
            page_items=lists.pages(number),
            time_items=lists.times(name),
        )
        html = day_template.render(page=page, **base)
        writer.write(f"{slug}/{name}", html)
        if keys is not None:
            places[name] = _spans(html, [(keys[p], known[p.id]) for p in chunk])
        first += len(chunk)
        advance(len(chunk))
    return places


def _time_link(section: Section, members: list[IndexedPost]) -> TimeLink:
    return TimeLink(section.key, section.label, section.start, section.end, section.session,
                    len(members), f"{members[0].page}#{section.key}", members[0].page)  # fmt: skip


def _page_sections(
    chunk: list[IndexedPost],
    rendered: tuple[Markup, ...],
    first: int,
    sectioner: Sectioner,
    day_groups: list[tuple[Section, list[IndexedPost]]],
) -> tuple[PageSection, ...]:
    whole = {id(section): members for section, members in day_groups}
    out = []
    at = 0
    for section, members in groups(chunk, sectioner.of):
        in_day = whole[id(section)]
        out.append(PageSection(
            section.key, section.label, section.start, section.end, section.session,
            len(in_day), members[0] != in_day[0], first + at,
            rendered[at : at + len(members)], section.page, section.room,
        ))  # fmt: skip
        at += len(members)
    return tuple(out)


def _spans_of_pages(chunks: list[list[IndexedPost]], sectioner: Sectioner) -> list[str]:
    """The times each page holds: its first section's start to its last one's end; a
    page inside one section that fills several says which of them it is."""
    firsts = [sectioner.of(chunk[0]) for chunk in chunks]
    lasts = [sectioner.of(chunk[-1]) for chunk in chunks]
    spans = []
    for number, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        text = f"{first.start}–{last.end}"
        if first is last:
            holding = [n for n in range(len(chunks)) if firsts[n] is first or lasts[n] is first]
            if len(holding) > 1:
                text += f" ({holding.index(number) + 1} of {len(holding)})"
        spans.append(text)
    return spans


def _spans(html: str, fragments: list[tuple[str, str]]) -> str:
    """``key:start:end;...`` for each fragment found, in order, in ``html``."""
    spans = []
    at = 0
    for key, fragment in fragments:
        start = html.find(fragment, at) if fragment else -1
        if start < 0:
            continue  # a theme that changes the fragment: it is simply rendered next time
        at = start + len(fragment)
        spans.append(f"{key}:{start}:{at}")
    return ";".join(spans)


def day_fingerprint(
    event_fingerprint: str,
    days: list[DayLink],
    position: int,
    chunks: list[list[IndexedPost]],
    keys: KeyColumn,
) -> str:
    neighbours = [
        days[position - 1].day if position > 0 else None,
        days[position + 1].day if position + 1 < len(days) else None,
    ]
    payload = [event_fingerprint, neighbours, [len(c) for c in chunks]]
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    digest = hashlib.sha256(text.encode("utf-8"))
    # The day's posts are consecutive rows: their keys, one slice of bytes.
    filled = [chunk for chunk in chunks if len(chunk)]
    if filled:
        digest.update(keys.span(filled[0][0].row, filled[-1][-1].row + 1))
    return digest.hexdigest()
