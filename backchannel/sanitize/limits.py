"""How long a stranger's name, alt text, poll option or card text may be when shown.

A post may carry a 200,000-character poll option or alt text; a page that shows it
takes a browser a minute to lay out. Each is cut where the platforms themselves stop
(with room to spare: other servers allow more than Mastodon's defaults), ending in an
ellipsis. Only the shown copy is cut: the raw JSON of the post keeps the whole text.
"""

from __future__ import annotations

# Mastodon's defaults are 30 (name), 1,500 (alt text) and 50 (poll option); Bluesky
# allows 640 bytes for a display name and sets no bound on an image's alt text.
NAME = 640
ALT_TEXT = 5_000
POLL_OPTION = 500
CARD_TITLE = 500
CARD_DESCRIPTION = 2_000


def bounded(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "\u2026"
