"""How long a stranger's name, alt text, poll option, card text or post may be when shown.

A post may carry a 200,000-character poll option or alt text; a page that shows it
takes a browser a minute to lay out. Each is cut where the platforms themselves stop
(with room to spare: other servers allow more than Mastodon's defaults), ending in an
ellipsis. Only the shown copy is cut: the raw JSON of the post keeps the whole text.
"""

from __future__ import annotations

import html

from backchannel.sanitize.parse import TagHandlers

# Mastodon's defaults are 30 (name), 1,500 (alt text) and 50 (poll option); Bluesky
# allows 640 bytes for a display name and sets no bound on an image's alt text.
NAME = 640
ALT_TEXT = 5_000
POLL_OPTION = 500
CARD_TITLE = 500
CARD_DESCRIPTION = 2_000
# No server's own limit comes near: Mastodon 500, Misskey 3,000, Pleroma's default
# 5,000. A 200,000-character post took a browser 8 s to lay out in its day page.
POST_TEXT = 20_000
CONTINUED = "continued at the source"


def bounded(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "\u2026"


def bounded_html(source: str, limit: int = POST_TEXT) -> str:
    """Sanitised post HTML cut after ``limit`` characters of its text: the elements
    still open are closed, and a last paragraph says the post is continued at the
    source. Cheap for a post of ordinary length (its whole HTML is shorter than the
    limit); the input must be the sanitiser's output, whose tags it copies."""
    if len(source) <= limit:
        return source
    cutter = _Cutter(limit)
    cutter.feed(source)
    cutter.close()
    if not cutter.cut:
        return source
    closing = "".join(f"</{tag}>" for tag in reversed(cutter.open))
    return "".join(cutter.out) + "\u2026" + closing + f'<p class="continued">({CONTINUED})</p>'


class _Cutter(TagHandlers):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=True)
        self.left = limit
        self.out: list[str] = []
        self.open: list[str] = []
        self.cut = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.cut:
            return
        written = "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in attrs)
        self.out.append(f"<{tag}{written}>")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.cut or tag in self.VOID:
            return
        if tag in self.open:
            while self.open:
                closed = self.open.pop()
                self.out.append(f"</{closed}>")
                if closed == tag:
                    break

    def handle_data(self, data: str) -> None:
        if self.cut:
            return
        if len(data) >= self.left:
            data, self.cut = data[: self.left].rstrip(), True
        self.left -= len(data)
        self.out.append(html.escape(data, quote=False))
