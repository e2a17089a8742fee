"""The export's index of an event's posts, held as columns.

An event of 100,000 posts held as an object a post (with its URI, times and a
dictionary entry) took 750 bytes a post and was the export's peak of memory; as a few
arrays of numbers and the URIs in one buffer it takes about 380 (media rows and
lookups included). :class:`IndexedPost` is a view of one row, made when asked and
dropped when done; :class:`PostRange` is a run of rows (the event, a day, a page),
:class:`PostRows` chosen rows; the keys and text columns are in
:mod:`backchannel.export.packed`.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from backchannel.export.packed import TextColumn


def anchor_for(uri: str) -> str:
    """A post's anchor: derived from its canonical URI, so every export keeps it."""
    return "p-" + hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FEATURED, _SENSITIVE, _HAS_CW, _INDEXABLE = 1, 2, 4, 8  # bits of PostColumns.flags
_MICROSECOND = timedelta(microseconds=1)


def _flag(bit: int, doc: str) -> Any:
    """A read-only property of one bit of the row's flags."""
    return property(lambda post: bool(post._columns.flags[post._row] & bit), doc=doc)


class IndexedPost:
    """One post of the index: a view of its row in :class:`PostColumns` (made when asked,
    dropped when done; two views of one row are equal)."""

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: PostColumns, row: int) -> None:
        self._columns = columns
        self._row = row

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, IndexedPost) and other._row == self._row
                and other._columns is self._columns)  # fmt: skip

    def __hash__(self) -> int:
        return hash((id(self._columns), self._row))

    def __repr__(self) -> str:
        return f"IndexedPost({self.id}, {self.uri!r})"

    @property
    def row(self) -> int:
        """Its place in the index (0 for the event's first post)."""
        return self._row

    @property
    def id(self) -> int:
        return self._columns.ids[self._row]

    @property
    def uri(self) -> str:
        return self._columns.uris[self._row]

    @property
    def created_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._columns.created[self._row])

    @property
    def author_id(self) -> int:
        return self._columns.authors[self._row]

    @property
    def platform(self) -> str:
        return self._columns.names[self._columns.platforms[self._row]]  # type: ignore[return-value]

    @property
    def language(self) -> str | None:
        return self._columns.names[self._columns.languages[self._row]]

    @property
    def reply_to_uri(self) -> str | None:
        return self._columns.replies.get(self._row)

    @property
    def quote_uri(self) -> str | None:
        return self._columns.quotes.get(self._row)

    featured = _flag(_FEATURED, "The curator featured it.")
    sensitive = _flag(_SENSITIVE, "Its media are marked sensitive.")
    has_cw = _flag(_HAS_CW, "It has a content warning.")
    indexable = _flag(_INDEXABLE, "Its author may be searched and harvested.")

    @property
    def edited_at(self) -> datetime | None:
        return self._columns.edited.get(self._row)

    @property
    def version(self) -> int:
        """A digest of the fetch time and content id: changes on a refetch."""
        return self._columns.versions[self._row]

    @property
    def counts(self) -> tuple[int, int, int, int]:
        at = 4 * self._row
        return tuple(self._columns.counts[at : at + 4])  # type: ignore[return-value]

    @property
    def tags(self) -> tuple[str, ...]:
        """Its hashtags, lower case, sorted (one tuple shared by the posts that have the same)."""
        return self._columns.sets[self._columns.tag_sets[self._row]]

    @property
    def links(self) -> tuple[str, ...]:
        """The links in its text, in order."""
        return self._columns.sets[self._columns.link_sets[self._row]]

    @property
    def servers(self) -> tuple[str, ...]:
        """The servers (and imported files) it was seen at, sorted."""
        return self._columns.sets[self._columns.sighting_sets[self._row]]

    @property
    def media(self) -> list[Any]:
        """Its media rows (``MediaRow``), in order."""
        return self._columns.media_lists[self._columns.media_sets[self._row]]

    @property
    def day(self) -> str:
        """The local date, ISO."""
        return self._columns.names[self._columns.days[self._row]]  # type: ignore[return-value]

    @property
    def page(self) -> str:
        """``"<day page>.html"``, once days are paginated (else "")."""
        return self._columns.names[self._columns.pages[self._row]]  # type: ignore[return-value]

    @page.setter
    def page(self, name: str) -> None:
        self._columns.pages[self._row] = self._columns.code(name)

    @property
    def anchor(self) -> str:
        return anchor_for(self.uri)

    @property
    def href(self) -> str:
        """``"<day page>.html#<anchor>"``: made when asked, not kept for every post."""
        return f"{self.page}#{anchor_for(self.uri)}"

    def fingerprint(self) -> tuple[Any, ...]:
        edited = self.edited_at
        return (
            self.uri,
            self.created_at.isoformat(),
            self.author_id,
            self.featured,
            edited.isoformat() if edited else None,
            self.version,
            self.indexable,
        )


class PostColumns:
    """The event's published posts, chronological, as columns: a few arrays of numbers
    and the URIs, about 250 bytes a post where an object a post took 750 (the index is
    the export's peak of memory). :class:`IndexedPost` reads one row."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.uris = TextColumn()
        self.created = array("q")  # microseconds since 1970, UTC: exact
        self.authors = array("i")  # database ids: 2^31 is far
        self.platforms = array("H")  # codes into names: a few strings shared by many rows
        self.languages = array("H")
        self.days = array("H")
        self.pages = array("I")
        self.flags = array("B")
        self.versions = array("Q")
        self.counts = array("i")  # replies, reposts, likes, quotes: four a row
        self.tag_sets = array("I")  # codes into sets
        self.link_sets = array("I")
        self.media_sets = array("I")  # codes into media_lists
        self.sighting_sets = array("I")  # codes into sets: the servers that saw it
        self.sets: list[tuple[str, ...]] = [()]
        self.media_lists: list[list[Any]] = [[]]
        self._id_order = array("q")  # the ids sorted, and the row of each
        self._id_rows = array("i")
        self._uri_order = array("q")  # hash() of the URIs sorted, and the row of each
        self._uri_rows = array("i")
        self.replies: dict[int, str] = {}  # row -> URI, for the rows that have one
        self.quotes: dict[int, str] = {}
        self.edited: dict[int, datetime] = {}
        self.names: list[str | None] = ["", None]
        self._codes: dict[str | None, int] = {"": 0, None: 1}

    def code(self, name: str | None) -> int:
        found = self._codes.get(name)
        if found is None:
            found = self._codes[name] = len(self.names)
            self.names.append(name)
        return found

    def __len__(self) -> int:
        return len(self.ids)

    def add(
        self,
        post_id: int,
        uri: str,
        created: datetime,
        author_id: int,
        platform: int,
        language: int,
        reply_to: str | None,
        quote: str | None,
        edited: datetime | None,
        day: int,
        version: int,
        counts: tuple[int, int, int, int],
        *,
        featured: bool,
        sensitive: bool,
        has_cw: bool,
        indexable: bool,
    ) -> int:
        """Append a post (after every earlier one); returns its row. ``platform``,
        ``language`` and ``day`` are codes (:meth:`code`)."""
        row = len(self.ids)
        if reply_to is not None:
            self.replies[row] = reply_to
        if quote is not None:
            self.quotes[row] = quote
        if edited is not None:
            self.edited[row] = edited
        self.ids.append(post_id)
        self.uris.append(uri)
        self.created.append((created - _EPOCH) // _MICROSECOND)
        self.authors.append(author_id)
        self.platforms.append(platform)
        self.languages.append(language)
        self.days.append(day)
        self.pages.append(0)
        self.flags.append(
            (_FEATURED if featured else 0) | (_SENSITIVE if sensitive else 0)
            | (_HAS_CW if has_cw else 0) | (_INDEXABLE if indexable else 0)
        )  # fmt: skip
        self.versions.append(version)
        self.counts.extend(counts)
        self.tag_sets.append(0)
        self.link_sets.append(0)
        self.media_sets.append(0)
        self.sighting_sets.append(0)
        return row

    def finish(self) -> None:
        """Once every post is added: the lookups by id and URI (sorted arrays searched
        by bisection, not dictionaries: 12 bytes a post against 80)."""
        ids, uris = self.ids, self.uris
        order = sorted(range(len(ids)), key=ids.__getitem__)
        self._id_rows = array("i", order)
        self._id_order = array("q", (ids[row] for row in order))
        hashes = array("q", (hash(uri) for uri in uris))
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        self._uri_rows = array("i", order)
        self._uri_order = array("q", (hashes[row] for row in order))
        del order, hashes

    def row_of_id(self, post_id: int) -> int | None:
        at = bisect_left(self._id_order, post_id)
        if at < len(self._id_order) and self._id_order[at] == post_id:
            return self._id_rows[at]
        return None

    def row_of_uri(self, uri: str) -> int | None:
        # hash() of a string is stable within a process, which is all the index lives.
        wanted = hash(uri)
        order = self._uri_order
        at = bisect_left(order, wanted)
        while at < len(order) and order[at] == wanted:
            row = self._uri_rows[at]
            if self.uris[row] == uri:
                return row
            at += 1
        return None


class PostRange(Sequence[IndexedPost]):
    """Consecutive rows of :class:`PostColumns` as a sequence of posts (all the posts,
    or a day's)."""

    __slots__ = ("_columns", "_start", "_stop")

    def __init__(self, columns: PostColumns, start: int = 0, stop: int | None = None) -> None:
        self._columns = columns
        self._start = start
        self._stop = len(columns) if stop is None else stop

    def __len__(self) -> int:
        return self._stop - self._start

    def __iter__(self) -> Iterator[IndexedPost]:
        columns = self._columns
        for row in range(self._start, self._stop):
            yield IndexedPost(columns, row)

    def __reversed__(self) -> Iterator[IndexedPost]:
        columns = self._columns
        for row in range(self._stop - 1, self._start - 1, -1):
            yield IndexedPost(columns, row)

    @overload
    def __getitem__(self, at: int) -> IndexedPost: ...
    @overload
    def __getitem__(self, at: slice) -> PostRange: ...
    def __getitem__(self, at: int | slice) -> IndexedPost | PostRange:
        if isinstance(at, slice):
            start, stop, step = at.indices(len(self))
            if step != 1:
                raise ValueError("a range of posts has no step")
            return PostRange(self._columns, self._start + start, self._start + max(start, stop))
        if at < 0:
            at += len(self)
        if not 0 <= at < len(self):
            raise IndexError(at)
        return IndexedPost(self._columns, self._start + at)


class PostRows(Sequence[IndexedPost]):
    """Chosen rows of :class:`PostColumns` (one person's posts): 4 bytes a post."""

    __slots__ = ("_columns", "rows")

    def __init__(self, columns: PostColumns, rows: array[int] | None = None) -> None:
        self._columns = columns
        self.rows = array("i") if rows is None else rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[IndexedPost]:
        columns = self._columns
        for row in self.rows:
            yield IndexedPost(columns, row)

    @overload
    def __getitem__(self, at: int) -> IndexedPost: ...
    @overload
    def __getitem__(self, at: slice) -> PostRows: ...
    def __getitem__(self, at: int | slice) -> IndexedPost | PostRows:
        if isinstance(at, slice):
            return PostRows(self._columns, self.rows[at])
        return IndexedPost(self._columns, self.rows[at])


def as_range(columns: PostColumns, posts: Sequence[IndexedPost]) -> PostRange:
    """Consecutive posts (a page of a day) as a range: a few numbers, not a list."""
    if not posts:
        return PostRange(columns, 0, 0)
    first, last = posts[0].row, posts[-1].row
    if last - first + 1 != len(posts):
        raise ValueError("the posts are not consecutive")
    return PostRange(columns, first, last + 1)


class PostsByUri(Mapping[str, IndexedPost]):
    """The index's posts by URI (made when asked)."""

    def __init__(self, columns: PostColumns) -> None:
        self._columns = columns

    def __getitem__(self, uri: str) -> IndexedPost:
        row = self._columns.row_of_uri(uri)
        if row is None:
            raise KeyError(uri)
        return IndexedPost(self._columns, row)

    def get(self, uri: str, default: Any = None) -> Any:  # type: ignore[override]
        row = self._columns.row_of_uri(uri)
        return default if row is None else IndexedPost(self._columns, row)

    def __contains__(self, uri: object) -> bool:
        return isinstance(uri, str) and self._columns.row_of_uri(uri) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.uris)

    def __len__(self) -> int:
        return len(self._columns.uris)
