"""Big or tag-heavy post HTML cut down to what nh3 parses in linear time.

nh3 parses with html5ever, which follows the HTML standard's tree construction, and
that has costs that grow with the *depth* of the tree: each tag checks "is there an
element of this kind in scope" by walking the stack of open elements, so ``<div>`` or
``<b>x</p>`` repeated n times costs n² (9 s for 200 kB of ``<div>``). And html5ever
looks for a duplicate of each attribute among those of its tag already read, so a
tag with n distinct attributes costs n² too (2 s for one 200 kB tag).

:func:`tame` bounds both before html5ever sees the input, as browsers bound the first
(Chromium stops nesting at depth 512; half that is plenty for a post, and halves the
worst case, which is then linear: n times the bound):

* start tags that would open an element deeper than :data:`MAX_DEPTH` are dropped
  (their text stays, as text of the element above);
* a tag keeps its first :data:`MAX_ATTRIBUTES` attributes.

The depth is an estimate meant to err high: the number of open start tags, less
those closed by an end tag of the same name right on top. html5ever closes more than
that (``<p>`` closing a paragraph, ``</p>`` closing what is inside it, scopes); the
formatting elements it re-opens are ones counted here and not yet closed. Tags are found as the HTML tokenizer finds them
(comments, bogus comments and quoted attribute values hide ``<`` just as far, never
further), so no tag html5ever sees escapes the count. Inside raw text (``<script>``,
``<textarea>``) this finds tags that html5ever does not: more counted, not fewer.
Ordinary HTML is far shallower and has far fewer attributes: it passes unchanged, and
short input is not even scanned.
"""

from __future__ import annotations

import re

__all__ = ["MAX_ATTRIBUTES", "MAX_DEPTH", "tame"]

MAX_DEPTH = 256
MAX_ATTRIBUTES = 256

_WS = "\t\n\f\r "
# One attribute as the tokenizer reads it: a name (which may start with "=" and hold
# quotes or "<"), then maybe "=" and a value; an unclosed quote runs to the end.
_ATTR = (
    rf"[^{_WS}/>][^{_WS}/>=]*+"
    rf"(?:[{_WS}]*+=[{_WS}]*+(?:\"[^\"]*+(?:\"|\Z)|'[^']*+(?:'|\Z)|[^{_WS}>]++)?)?"
)
_TOKEN_RE = re.compile(
    r"[^<]++"  # text
    r"|<!--(?:-?>|[\s\S]*?--!?>|[\s\S]*)"  # comment (abrupt "<!-->" and "<!--->" too)
    r"|<[!?][^>]*+>?|</(?![A-Za-z])[^>]*+>?"  # doctype, bogus comment, "</>"
    rf"|(</?)([A-Za-z][^{_WS}/>]*+)((?:[{_WS}/]++|{_ATTR})*+)(>|\Z)"  # tag
    r"|<"  # a "<" that opens nothing: text
)
_ATTR_RE = re.compile(_ATTR)
# Shorter input is left as it is unless it has more "<" than MAX_DEPTH: its tags can
# hold a few thousand attributes at most, which html5ever reads in a few milliseconds
# (4 ms for one 8 kB tag, about what 8 kB of ordinary HTML takes to clean).
_SHORT = 8192
_VOID = frozenset(
    "area base basefont bgsound br col embed frame hr img input keygen link meta param "
    "source track wbr".split()
)


def tame(source: str) -> str:
    """``source`` with too deep start tags dropped and attribute lists cut."""
    if len(source) <= _SHORT and source.count("<") <= MAX_DEPTH:
        return source  # every level of depth takes a "<"
    out: list[str] = []
    changed = False
    stack: list[str] = []
    for token in _TOKEN_RE.finditer(source):
        opener, name, attrs, end = token.groups()
        if name is None:
            out.append(token.group())
            continue
        name = name.lower()
        if opener == "</":
            if stack and stack[-1] == name:
                stack.pop()
        elif name not in _VOID:
            if len(stack) >= MAX_DEPTH:
                changed = True
                continue  # too deep: the tag goes, its content stays
            stack.append(name)
        if len(attrs) > 2 * MAX_ATTRIBUTES:  # else too short to hold that many
            kept = _ATTR_RE.findall(attrs)
            if len(kept) > MAX_ATTRIBUTES:
                changed = True
                if not end:
                    continue  # cut off by the end of the input: html5ever drops it too
                if opener == "</":  # an end tag's attributes mean nothing
                    out.append(f"</{token.group(2)}>")
                else:
                    out.append(f"<{token.group(2)} {' '.join(kept[:MAX_ATTRIBUTES])}>")
                continue
        out.append(token.group())
    return "".join(out) if changed else source
