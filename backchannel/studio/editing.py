"""The story editor's changes, each applied to the storyboard as a whole.

A change is made on the story's document (the same :class:`StoryDoc` a Markdown file
parses into), written back as Markdown and saved through
:func:`~backchannel.curation.save_story`: the studio and the file are two views of one
story, checked by the same rules, and every change is a new revision.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.curation import Block, StoryDoc
from backchannel.errors import InputError
from backchannel.store import StudioHistory, utcnow

ACTIONS = (
    "add_post", "add_posts", "add_heading", "add_text", "note", "up", "down", "move",
    "to_heading", "remove",
)  # fmt: skip


def apply_change(doc: StoryDoc, form: Mapping[str, str]) -> str:
    """Change ``doc`` in place as the form asks; a sentence saying what changed."""
    action = form.get("action", "")
    if action not in ACTIONS:
        raise InputError(f"unknown change {action!r}")
    if action == "add_post":
        address = form.get("address", "").strip()
        if not address:
            raise InputError("address: give the address of a post")
        if form.get("to", "") == "":
            doc.blocks.append(Block("post", 0, ref=address))
            return "Post added at the end."
        to = _position(doc, form["to"], len(doc.blocks))
        doc.blocks.insert(to, Block("post", 0, ref=address))
        return f"Post added as item {to + 1} of {len(doc.blocks)}."
    if action == "add_posts":  # a whole thread: the addresses not in the story yet
        held = {b.ref for b in doc.blocks}
        fresh = [a for a in form.get("addresses", "").split("\n") if a and a not in held]
        doc.blocks.extend(Block("post", 0, ref=address) for address in fresh)
        return f"{len(fresh)} post(s) of the thread added at the end."
    if action == "add_heading":
        text = " ".join(form.get("text", "").split())
        if not text:
            raise InputError("heading: write the heading's text")
        level = 3 if form.get("level") == "3" else 2
        doc.blocks.append(Block("heading", 0, level=level, text=text))
        return f"Heading “{text}” added at the end."
    if action == "add_text":
        text = form.get("text", "").strip("\n")
        if not text.strip():
            raise InputError("text: write some text")
        doc.blocks.append(Block("text", 0, text=text.replace("\r\n", "\n")))
        return "Text block added at the end."
    index = _index(doc, form.get("index", ""))
    block = doc.blocks[index]
    if action == "note":
        if block.kind != "post":
            raise InputError("note: only a post takes a note")
        note = form.get("note", "").replace("\r\n", "\n").strip()
        block.note = note or None
        return f"Note on item {index + 1} saved." if note else f"Note on item {index + 1} removed."
    if action == "remove":
        del doc.blocks[index]
        return f"Item {index + 1} removed."
    if action == "to_heading":  # to the end of that heading's section
        target = _index(doc, form.get("heading", ""))
        if doc.blocks[target].kind != "heading":
            raise InputError("heading: choose a heading")
        moved = doc.blocks.pop(index)
        start = target if target < index else target - 1
        end = start + 1
        while end < len(doc.blocks) and doc.blocks[end].kind != "heading":
            end += 1
        doc.blocks.insert(end, moved)
        title = doc.blocks[start].text
        return f"Item {index + 1} moved under “{title}”: now item {end + 1}."
    if action == "move":  # dragged to another place
        to = _position(doc, form.get("to", ""), len(doc.blocks) - 1)
        doc.blocks.insert(to, doc.blocks.pop(index))
        return f"Item {index + 1} moved: now item {to + 1} of {len(doc.blocks)}."
    target = index - 1 if action == "up" else index + 1
    if not 0 <= target < len(doc.blocks):
        raise InputError(f"item {index + 1} cannot move {action} any further")
    doc.blocks[index], doc.blocks[target] = doc.blocks[target], doc.blocks[index]
    return f"Item {index + 1} moved {action}: now item {target + 1} of {len(doc.blocks)}."


def _position(doc: StoryDoc, raw: str, last: int) -> int:
    if not raw.isdigit() or not 0 <= int(raw) <= last:
        raise InputError("that place is not in the story any more; reload the page")
    return int(raw)


def _index(doc: StoryDoc, raw: str) -> int:
    if not raw.isdigit() or not 0 <= int(raw) < len(doc.blocks):
        raise InputError("that item is not in the story any more; reload the page")
    return int(raw)


class History:
    """Undo and redo of one person's changes to one story, as revision numbers.

    A revision never changes, so undoing is saving the revision before the change as
    the newest one (and redoing, the one undone): every step is itself a revision, and
    the story's history keeps everything. The stacks are a row of ``studio_history``
    per person and story, written in the transaction that saves the step.
    """

    KEPT = 50

    def __init__(self, session: Session, who: str, event_id: int, story: str) -> None:
        self.session = session
        self.row = session.scalar(
            select(StudioHistory).where(StudioHistory.who == who,
                                        StudioHistory.event_id == event_id,
                                        StudioHistory.story == story)
        )  # fmt: skip
        if self.row is None:
            self.row = StudioHistory(who=who, event_id=event_id, story=story, undo=[], redo=[])
        self.undo: list[int] = [int(n) for n in self.row.undo or []]
        self.redo: list[int] = [int(n) for n in self.row.redo or []]

    def can(self, action: str) -> bool:
        return bool(self.undo if action == "undo" else self.redo)

    def target(self, action: str, current: int, number: str) -> tuple[int, str]:
        """The revision an undo, redo or restore goes to, and what to announce."""
        if action == "restore":
            if not number.isdigit():
                raise InputError("restore: which revision?")
            return int(number), f"Back to revision {number}."
        stack = self.undo if action == "undo" else self.redo
        if not stack:
            raise InputError(f"{action}: nothing to {action}")
        return stack[-1], ("Undone." if action == "undo" else "Redone.")

    def moved(self, action: str, previous: int) -> None:
        """Record a step away from revision ``previous`` (in the step's transaction)."""
        if action == "undo":
            self.undo.pop()
            self.redo.append(previous)
        elif action == "redo":
            self.redo.pop()
            self.undo.append(previous)
        else:
            self.undo.append(previous)
            self.redo.clear()
        self.row.undo = self.undo[-self.KEPT :]
        self.row.redo = self.redo[-self.KEPT :]
        self.row.updated_at = utcnow()
        self.session.add(self.row)
