"""The storyboard file format: parsing, writing back, and errors that name the line."""

from __future__ import annotations

import pytest

from backchannel.curation.storyfile import Block, format_story, parse
from backchannel.errors import InputError

SAMPLE = """---
title: "Day one: arrivals"
slug: day-one
event: swrb13
curator: Ngaio
description: |
  The first day,
  as it was *told*.
---

<!-- a note to self: never stored -->

Some **text** before any heading.

It has two paragraphs and a list:

- https://example.org/not-a-post-because-of-the-dash

## Arrivals

https://mastodon.example/@ana/1001
<!-- @ana: "welcome" -->
> The opening.
>
> A second paragraph of the note.

### Coffee

at://did:plc:abc/app.bsky.feed.post/3k1

```
## not a heading inside code
https://example.org/not-a-post-inside-code
```

> A quote in the text, not a note: no post right before it.
"""


def test_parse_sample() -> None:
    doc = parse(SAMPLE, "day-one.md")
    assert (doc.title, doc.slug, doc.event, doc.curator) == (
        "Day one: arrivals", "day-one", "swrb13", "Ngaio",
    )  # fmt: skip
    assert doc.description == "The first day,\nas it was *told*."
    kinds = [(b.kind, b.line) for b in doc.blocks]
    assert kinds == [("text", 13), ("heading", 19), ("post", 21), ("heading", 27),
                     ("post", 29), ("text", 31)]  # fmt: skip
    assert doc.blocks[0].text.endswith("- https://example.org/not-a-post-because-of-the-dash")
    assert doc.blocks[2].ref == "https://mastodon.example/@ana/1001"
    assert doc.blocks[2].note == "The opening.\n\nA second paragraph of the note."
    assert doc.blocks[3].level == 3 and doc.blocks[4].note is None
    assert "## not a heading inside code" in doc.blocks[5].text
    assert doc.blocks[5].text.endswith(
        "> A quote in the text, not a note: no post right before it."
    )


def test_round_trip_keeps_content() -> None:
    doc = parse(SAMPLE, "a.md")
    doc.blocks[2].label = '@ana: "welcome -- <b>"'
    again = parse(format_story(doc), "b.md")
    assert [b.content() for b in again.blocks] == [b.content() for b in doc.blocks]
    assert (again.title, again.description, again.curator) == (
        doc.title, doc.description, doc.curator,
    )  # fmt: skip
    assert format_story(again) == format_story(parse(format_story(again)))


def test_hostile_front_matter_round_trips_as_text() -> None:
    doc = parse(format_story(parse(SAMPLE)))
    doc.title = '"><script>alert(1)</script>: #x'
    doc.curator = "'quoted' -- curator"
    doc.blocks.append(Block("heading", 0, level=2, text="<img src=x onerror=alert(1)>"))
    doc.blocks.append(Block("text", 0, text="<script>alert(2)</script>\n[x](javascript:alert(3))"))
    again = parse(format_story(doc))
    assert again.title == doc.title and again.curator == doc.curator
    assert [b.content() for b in again.blocks] == [b.content() for b in doc.blocks]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("title: x\n", 1, "front matter"),
        ("---\ntitle: x\nslug: s\n", 1, "not closed"),
        ("---\ntitle: x\nslug: s\nevent: e\ncolour: red\n---\n", 5, "unknown front matter key"),
        ("---\ntitle: x\nslug: s\nevent: e\ntitle: y\n---\n", 5, "given twice"),
        ("---\ntitle: x\nslug: s\n---\n", 1, "the front matter needs an event: line"),
        ("---\nslug: s\nevent: e\n---\n", 1, "the front matter needs a title: line"),
        ('---\ntitle: "x\nslug: s\nevent: e\n---\n', 2, "quoted value"),
        ("---\ntitle: x\nslug: s\nevent: e\n---\n\n# Big\n", 7, "use ## or ###"),
        ("---\ntitle: x\nslug: s\nevent: e\n---\n\n#### Deep\n", 7, "use ## or ###"),
        ("---\ntitle: x\nslug: s\nevent: e\n---\n\n##\n", 7, "empty heading"),
        ("---\ntitle: x\nslug: s\nevent: e\n---\n\n<!-- open\n\ntext\n", 7, "never closed"),
        ("---\ntitle: x\nslug: s\nevent: e\n---\n\n```\ncode\n", 7, "never closed"),
    ],
)
def test_form_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(text, "story.md")
    message = str(caught.value)
    assert message.startswith(f"story.md:{line}: ") and words in message
    assert "\n" not in message
