"""Packed columns of the export's index: many strings in one buffer, and the posts'
keys in one string of bytes (an object each was most of the export's memory)."""

from __future__ import annotations

from array import array
from base64 import urlsafe_b64encode
from collections.abc import Iterator, Sequence
from typing import Any, overload


class TextColumn(Sequence[str]):
    """Strings (the URIs) in one buffer of UTF-8 with where each ends: about 65 bytes
    a URI where a string object each took 110. A string is made when read."""

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, text: str) -> None:
        self._data += text.encode("utf-8")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, at: int) -> str: ...
    @overload
    def __getitem__(self, at: slice) -> list[str]: ...
    def __getitem__(self, at: int | slice) -> str | list[str]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(len(self)))]
        if at < 0:
            at += len(self._ends)
        end = self._ends[at]  # IndexError beyond the last, as a list
        start = self._ends[at - 1] if at > 0 else 0
        return self._data[start:end].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        data, start = self._data, 0
        for end in self._ends:
            yield data[start:end].decode("utf-8")
            start = end


KEY_BYTES = 12  # 16 characters of base64


def key_text(digest: bytes) -> str:
    """A key as the manifest keeps it: base64 (URL alphabet, no ':' or ';', which
    separate a page's places), 16 characters where hex took 24: the places of every
    post of every day page are held until the manifest is written."""
    return urlsafe_b64encode(digest).decode("ascii")


class KeyColumn:
    """The posts' keys, 12 bytes a post in one string (a dictionary of them was a tenth
    of the export's memory); ``keys[post]`` is the post's key as text (:func:`key_text`)."""

    __slots__ = ("_digests",)

    def __init__(self, digests: bytes) -> None:
        self._digests = digests

    @property
    def digests(self) -> bytes:
        """Every key, in the posts' order (to keep them)."""
        return self._digests

    def raw(self, post: Any) -> bytes:
        """The key of ``post`` as bytes (for digests: no text made)."""
        at = post.row * KEY_BYTES
        return self._digests[at : at + KEY_BYTES]

    def span(self, start: int, stop: int) -> bytes:
        """The keys of rows ``start`` to ``stop`` (a day's), as bytes."""
        return self._digests[start * KEY_BYTES : stop * KEY_BYTES]

    def __getitem__(self, post: Any) -> str:
        """The key of ``post`` (an IndexedPost: its row says where)."""
        at = post.row * KEY_BYTES
        return key_text(self._digests[at : at + KEY_BYTES])
