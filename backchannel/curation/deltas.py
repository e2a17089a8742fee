"""Line deltas between two versions of a storyboard's Markdown, so that a revision costs
about the size of its change rather than the size of the story.

A delta turns one text into another: a list of steps over the first text's lines,
``["=", n]`` keeps the next n lines, ``["-", n]`` drops them, ``["+", lines]`` puts lines
in. Lines keep their endings, so applying a delta gives back the text to the byte. The
common head and tail are matched first (a change to a story touches a few lines in the
middle), then :class:`difflib.SequenceMatcher` matches what is left.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any

Step = list[Any]


def make_delta(source: str, target: str) -> str:
    """The delta (as JSON text) that turns ``source`` into ``target``."""
    old, new = source.splitlines(keepends=True), target.splitlines(keepends=True)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    steps: list[Step] = []

    def add(kind: str, value: Any) -> None:
        if not value:
            return
        if steps and steps[-1][0] == kind:
            steps[-1][1] += value
        else:
            steps.append([kind, value])

    add("=", head)
    middle_old, middle_new = old[head : len(old) - tail], new[head : len(new) - tail]
    matcher = SequenceMatcher(None, middle_old, middle_new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            add("=", a2 - a1)
            continue
        add("-", a2 - a1)
        add("+", middle_new[b1:b2])
    add("=", tail)
    return json.dumps(steps, ensure_ascii=False, separators=(",", ":"))


def apply_delta(source: str, delta: str) -> str:
    """``source`` changed by ``delta`` (from :func:`make_delta`)."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    at = 0
    for kind, value in json.loads(delta):
        if kind == "=":
            out.extend(lines[at : at + value])
            at += value
        elif kind == "-":
            at += value
        else:
            out.extend(value)
    if at != len(lines):
        raise ValueError(f"the delta does not fit: it read {at} of {len(lines)} lines")
    return "".join(out)
