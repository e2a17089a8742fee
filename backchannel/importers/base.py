"""What every importer gives: batches of posts, and what it skipped and why.

An import reads a file someone saved years ago. Nothing in it is trusted: a line that
is not JSON, a tweet without an id, a cut last line are each named by their line
(``line 12: ...``) and skipped, never stopping the lines behind them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backchannel.collectors import NormalizedPost

# The formats `import --format` knows, beside "auto".
FORMATS = (
    "storify", "twarc", "tags", "twitter-archive", "mastodon-outbox", "bluesky-car",
)  # fmt: skip
CURATED = ("storify",)  # a story's posts: kept whatever their hashtag and time
BATCH = 500  # posts a transaction: a kill loses at most the batch in hand


@dataclass
class Batch:
    """Posts read from part of a file, and what was left out of that part."""

    posts: list[NormalizedPost] = field(default_factory=list)
    read: int = 0  # items read (tweets, entries), used or not
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> items
    problems: list[str] = field(default_factory=list)  # "line 12: not JSON"
    deleted: list[str] = field(default_factory=list)  # URIs the file says were deleted
    owner: str | None = None  # an archive's owner, who sent it: their consent is recorded
    # (platform, uri) of an owner whose handle the file does not hold (a repository)
    owner_account: tuple[str, str] | None = None
    story: Any = None  # a curated story the file holds (storify.StoryDraft), last batch
    tool: str = ""  # the tool that made the file, where it says ("twarc 2.0.13")
    captured_at: datetime | None = None  # when it captured these posts, where it says

    def skip(self, reason: str, where: str = "", said: str = "") -> None:
        """One item left out for ``reason``; named at ``where`` ("line 12") with ``said``
        (else the reason) when given."""
        self.skipped[reason] += 1
        if where:
            self.problems.append(f"{where}: {said or reason}")

    def after(self) -> Batch:
        """The batch that follows this one once it is handed on: where the reading is,
        and the tool that made the file."""
        return Batch(position=self.position, tool=self.tool)

    position: int = 0  # the last line (or row) read


def read_file_lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Each line of a UTF-8 text file: its number (from 1), its text without the line
    break, and whether it ended with one (the last line of a cut file does not).
    Bytes that are not UTF-8 become U+FFFD rather than stopping the file."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as lines:
        for number, line in enumerate(lines, start=1):
            ended = line.endswith("\n")
            yield number, line.rstrip("\r\n"), ended


def array_items(text: str, at: int) -> Iterator[tuple[int, Any, str]]:
    """Each item of the JSON array that starts at ``text[at]`` (``[``): its line, the
    item, and a problem or "". Read item by item, so a file cut short gives every
    whole item before the cut, then the cut's line."""
    decoder = json.JSONDecoder(strict=False)
    at = _skip(text, at) + 1
    while True:
        at = _skip(text, at, ",")
        if at >= len(text):
            yield text.count("\n", 0, at) + 1, None, "cut short (the array does not end)"
            return
        if text[at] == "]":
            return
        line = text.count("\n", 0, at) + 1
        try:
            item, at = decoder.raw_decode(text, at)
        except ValueError:
            yield line, None, "cut short, or not JSON, from here on"
            return
        yield line, item, ""


def _skip(text: str, at: int, also: str = "") -> int:
    while at < len(text) and (text[at].isspace() or text[at] in also):
        at += 1
    return at


# A stranger's JSON holds anything anywhere: each value taken only in the type expected.


def as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_int(value: object) -> int:
    """A count: a non-negative integer, or digits (an archive writes numbers as strings)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0
