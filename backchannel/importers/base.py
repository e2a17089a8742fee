"""What every importer gives: batches of posts, and what it skipped and why.

An import reads a file someone saved years ago. Nothing in it is trusted: a line that
is not JSON, a tweet without an id, a cut last line are each named by their line
(``line 12: ...``) and skipped, never stopping the lines behind them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backchannel.collectors import NormalizedPost

FORMATS = ("storify", "twarc", "tags", "twitter-archive")
CURATED = (
    "storify",
)  # a story's posts: kept whatever their hashtag and time  # the formats `import --format` knows, beside "auto"
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
    story: Any = None  # a curated story the file holds (storify.StoryDraft), last batch
    position: int = 0  # the last line (or row) read


def read_file_lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Each line of a UTF-8 text file: its number (from 1), its text without the line
    break, and whether it ended with one (the last line of a cut file does not).
    Bytes that are not UTF-8 become U+FFFD rather than stopping the file."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as lines:
        for number, line in enumerate(lines, start=1):
            ended = line.endswith("\n")
            yield number, line.rstrip("\r\n"), ended
