"""The storyboard file: Markdown with front matter, parsed and written back.

::

    ---
    title: Day one of SWRS 2026
    slug: day-one
    event: swrs26
    curator: Dr Aroha Ngata
    description: What happened on the first day, session by session.
    ---

    ## Opening keynote

    The curator's own Markdown, kept verbatim.

    https://bsky.app/profile/ana.bsky.social/post/3l4abc
    <!-- @ana.bsky.social: "first words of the post" -->
    > The curator's note on the post above.

Rules, line by line: ``##`` and ``###`` lines are headings (``#`` is the title's, in
the front matter; deeper levels are refused); a line that is nothing but a web address
or an ``at://`` URI places a post; ``>`` lines right after a post (blank lines and
comments may sit between) are the curator's note on it; everything else is the
curator's text, kept exactly as written (fenced code blocks included). HTML comments
are notes to self: never stored, never published; ``story export`` writes a comment
with the author and first words after each post, so the file reads on its own.

Front matter is a small subset of YAML: ``key: value`` lines, a value optionally in
double quotes (JSON escapes) or single quotes, and ``description: |`` followed by
indented lines for a description of several lines. Nothing here touches a database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from backchannel.curation.addresses import clean, is_address
from backchannel.errors import InputError

KEYS = ("title", "slug", "event", "curator", "description")
REQUIRED = ("title", "slug", "event")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*))?$")


@dataclass
class Block:
    kind: str  # heading text post removed
    line: int  # where it starts in the file (1-based)
    level: int | None = None  # heading level, 2 or 3
    text: str = ""  # heading text, or the curator's Markdown
    ref: str = ""  # the post's address, as written
    note: str | None = None  # the curator's note on the post (Markdown)
    label: str = ""  # written after a post as a comment; never parsed back

    def content(self) -> tuple[object, ...]:
        """What a round trip keeps (line numbers and labels aside)."""
        return (self.kind, self.level, self.text, self.ref, self.note)


@dataclass
class StoryDoc:
    title: str
    slug: str
    event: str
    curator: str = ""
    description: str = ""
    blocks: list[Block] = field(default_factory=list)
    path: str = "<story>"
    lines: dict[str, int] = field(default_factory=dict)  # front matter key -> line


def _error(path: str, line: int, problem: str) -> InputError:
    return InputError(f"{path}:{line}: {problem}")


def _value(raw: str, path: str, number: int) -> str:
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise _error(path, number, f"unclosed or malformed quoted value: {raw}") from None
        if not isinstance(value, str):
            raise _error(path, number, f"not a string: {raw}")
        return value
    if raw.startswith("'"):
        if len(raw) < 2 or not raw.endswith("'"):
            raise _error(path, number, f"unclosed quoted value: {raw}")
        return raw[1:-1].replace("''", "'")
    return raw


def _front_matter(lines: list[str], path: str) -> tuple[dict[str, str], dict[str, int], int]:
    if not lines or lines[0].strip() != "---":
        raise _error(path, 1, "a storyboard starts with front matter: a line '---', then "
                     "title:, slug:, event: (and curator:, description:), then '---'")  # fmt: skip
    meta: dict[str, str] = {}
    where: dict[str, int] = {}
    i = 1
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        if line.strip() == "---":
            return meta, where, i
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY.match(line)
        if not match:
            raise _error(path, number, f"expected 'key: value' in the front matter, got {line!r}")
        key, raw = match.group(1).lower(), match.group(2) or ""
        if key not in KEYS:
            raise _error(path, number, f"unknown front matter key {key!r} (known: "
                         f"{', '.join(KEYS)})")  # fmt: skip
        if key in meta:
            raise _error(path, number, f"{key!r} is given twice")
        if raw.strip() in ("|", ">"):
            block: list[str] = []
            while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                if lines[i].strip() == "---":
                    break
                block.append(lines[i].strip() if not lines[i].strip() else lines[i])
                i += 1
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            text = [b[indent:] for b in block]
            joiner = "\n" if raw.strip() == "|" else " "
            meta[key] = joiner.join(text).strip()
        else:
            meta[key] = _value(raw, path, number)
        where[key] = number
    raise _error(path, 1, "the front matter is not closed: add a line '---' after it")


def parse(source: str, path: str = "<story>") -> StoryDoc:
    """A storyboard file's contents, checked for form (not for posts: see curation)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, where, start = _front_matter(lines, path)
    for key in REQUIRED:
        if not meta.get(key, "").strip():
            article = "an" if key[0] in "aeiou" else "a"
            raise _error(path, where.get(key, 1), f"the front matter needs {article} {key}: line")
    doc = StoryDoc(title=meta["title"].strip(), slug=meta["slug"].strip(),
                   event=meta["event"].strip(), curator=meta.get("curator", "").strip(),
                   description=meta.get("description", "").strip(), path=path,
                   lines=where)  # fmt: skip
    doc.blocks = _body(lines, start, path)
    return doc


def _body(lines: list[str], start: int, path: str) -> list[Block]:
    blocks: list[Block] = []
    text: list[tuple[int, str]] = []

    def flush() -> None:
        while text and not text[-1][1].strip():
            text.pop()
        while text and not text[0][1].strip():
            text.pop(0)
        if text:
            blocks.append(Block("text", text[0][0], text="\n".join(t for _, t in text)))
        text.clear()

    fence: str | None = None
    fence_line = 0
    i = start
    while i < len(lines):
        number, line = i + 1, lines[i]
        i += 1
        stripped = line.strip()
        if fence:
            text.append((number, line))
            if stripped.startswith(fence):
                fence = None
            continue
        if match := _FENCE.match(line):
            fence, fence_line = match.group(1), number
            text.append((number, line))
            continue
        if stripped.startswith("<!--"):
            i = _skip_comment(lines, i - 1, path)
            continue
        indented = line.startswith(("    ", "\t"))
        if not indented and (match := _HEADING.match(line)):
            flush()
            level, title = len(match.group(1)), (match.group(2) or "").strip()
            if level not in (2, 3):
                raise _error(path, number, f"use ## or ### for headings, not {match.group(1)} "
                             "(the story's title is in the front matter)")  # fmt: skip
            if not title:
                raise _error(path, number, "an empty heading")
            blocks.append(Block("heading", number, level=level, text=title))
            continue
        if not indented and is_address(stripped):
            flush()
            post = Block("post", number, ref=clean(stripped))
            i = _note(lines, i, post, path)
            blocks.append(post)
            continue
        text.append((number, line))
    if fence:
        raise _error(path, fence_line, f"a code block opened with {fence} is never closed")
    flush()
    return blocks


def _skip_comment(lines: list[str], i: int, path: str) -> int:
    """The index after the comment that starts on line ``i``."""
    first = i
    while i < len(lines):
        if "-->" in lines[i]:
            return i + 1
        i += 1
    raise _error(path, first + 1, "a comment '<!--' is never closed with '-->'")


def _note(lines: list[str], i: int, post: Block, path: str) -> int:
    """Reads the note that follows a post (if any); returns where reading goes on."""
    j = i
    while j < len(lines):
        stripped = lines[j].strip()
        if not stripped:
            j += 1
        elif stripped.startswith("<!--"):
            j = _skip_comment(lines, j, path)
        else:
            break
    if j >= len(lines) or not lines[j].lstrip().startswith(">"):
        return i
    note: list[str] = []
    while j < len(lines) and lines[j].lstrip().startswith(">"):
        body = lines[j].lstrip()[1:]
        note.append(body[1:] if body.startswith(" ") else body)
        j += 1
    post.note = "\n".join(note).strip("\n") or None
    return j


def _quoted(value: str) -> str:
    plain = (value and value == value.strip() and value[0] not in "\"'|>[{&*!%@`#-"
             and ": " not in value and " #" not in value)  # fmt: skip
    return value if plain else json.dumps(value, ensure_ascii=False)


def format_story(doc: StoryDoc) -> str:
    """The file for ``doc``; :func:`parse` of it gives the same blocks back."""
    out = ["---"]
    for key in KEYS:
        value: str = getattr(doc, key)
        if key in ("curator", "description") and not value:
            continue
        if "\n" in value:
            out.append(f"{key}: |")
            out.extend(f"  {line}" if line.strip() else "" for line in value.split("\n"))
        else:
            out.append(f"{key}: {_quoted(value)}")
    out.append("---")
    for block in doc.blocks:
        out.append("")
        if block.kind == "heading":
            out.append(f"{'#' * (block.level or 2)} {block.text}")
        elif block.kind == "text":
            out.append(block.text)
        elif block.kind == "post":
            out.append(block.ref)
            if block.label:
                out.append(f"<!-- {comment_text(block.label)} -->")
            if block.note:
                out.extend(f"> {line}".rstrip() for line in block.note.split("\n"))
        else:
            out.append(
                f"<!-- {comment_text(block.label or 'a post removed at the author request')} -->"
            )
    return "\n".join(out) + "\n"


def comment_text(text: str) -> str:
    """Text that can sit inside an HTML comment on one line."""
    return " ".join(text.replace("--", "–").replace(">", "›").split())
