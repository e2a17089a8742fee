"""One line of progress on a terminal, and log lines that never land inside it.

A running count (``collecting... 174 new or updated posts``) is redrawn in place with a
carriage return. A log record written to the same terminal in between would be spliced
into it (``...174 new or updated postsWARNING backchannel...``). So the CLI's logging
goes through :class:`ProgressAwareHandler`, which clears the progress line, writes the
record on a line of its own, and draws the progress again under it.
"""

from __future__ import annotations

import logging
import sys
import threading

_CLEAR = "\r\x1b[K"  # back to the line's start, and erase it


class ProgressLine:
    """The terminal's progress line (stderr); nothing is drawn when it is not a tty."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.text = ""
        self.lock = threading.RLock()

    def show(self, text: str) -> None:
        with self.lock:
            self.text = text
            if self.enabled:
                sys.stderr.write(_CLEAR + text)
                sys.stderr.flush()

    def clear(self) -> None:
        """Erase the line (and forget it): what comes next starts a clean line."""
        with self.lock:
            if self.enabled and self.text:
                sys.stderr.write(_CLEAR)
                sys.stderr.flush()
            self.text = ""

    def finish(self) -> None:
        """Leave the last count on screen, and move past it."""
        with self.lock:
            if self.enabled and self.text:
                sys.stderr.write("\n")
                sys.stderr.flush()
            self.text = ""


PROGRESS = ProgressLine()


class ProgressAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each record above the progress line, never inside it."""

    def __init__(self, progress: ProgressLine = PROGRESS) -> None:
        super().__init__(sys.stderr)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        with self.progress.lock:
            shown = self.progress.text
            if shown and self.progress.enabled:
                self.stream.write(_CLEAR)
            super().emit(record)
            if shown and self.progress.enabled:
                self.stream.write(shown)
                self.stream.flush()
