"""Text made valid on the way in: no lone surrogates, no control characters.

JSON lets a stranger send ``"\\ud800"`` (half of a UTF-16 pair) or ``"\\u0001"``. Python
keeps the first as a string that cannot be encoded as UTF-8, so SQLite, nh3 and every
file writer refuse it; the second is forbidden in XML 1.0, so an Atom feed holding it
is not well-formed. Both are replaced by U+FFFD (the replacement character) wherever
they occur, in every field, before anything else reads the text. Tab and newline stay;
a carriage return becomes a newline. The XML 1.0 non-characters U+FFFE and U+FFFF go
the same way.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

REPLACEMENT = "\ufffd"

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, U+FFFE/U+FFFF.
# (Python's re sees a lone surrogate as one code point; a valid pair is already one
# character, outside this range.)
_BAD = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_INVALID = re.compile(f"[{_BAD}]")
# What valid_text changes: the above, and a carriage return.
_DETECT = re.compile(f"[\r{_BAD}]")
# The JSON escapes and raw bytes that can put those into parsed text: a page whose
# bytes have none needs no walk over its strings.
_SUSPECT_BYTES = re.compile(
    rb"\\u(?:00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}"
    rb"|[fF]{3}[eEfF])|\\[bfr]|[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f]|\xc2[\x80-\x9f]"
    rb"|\xef\xbf[\xbe\xbf]"
)


def valid_text(text: str) -> str:
    """``text`` with every invalid character replaced (see the module docstring)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _INVALID.search(text) is None:
        return text
    return _INVALID.sub(REPLACEMENT, text)


def bytes_need_checking(body: bytes) -> bool:
    """Whether parsing ``body`` can yield invalid text (cheap: one regex over bytes)."""
    return _SUSPECT_BYTES.search(body) is not None


def parse_json(body: bytes | str) -> Any:
    """JSON from a stranger: raw control characters in strings tolerated, and every
    string made valid (walked only when the bytes show something to fix)."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    # Bytes that are not UTF-8 become U+FFFD rather than failing the whole body.
    value = json.loads(data.decode("utf-8", "replace"), strict=False)
    return valid_json(value) if bytes_need_checking(data) else value


def repair_json(body: bytes) -> tuple[bytes, list[str]] | None:
    """A body that strict JSON parsers refuse (an escaped lone surrogate, a raw control
    character in a string: what atproto's ``pydantic_core.from_json`` and Mastodon.py's
    ``json`` refuse for the whole page) rewritten as JSON they accept, each such
    character replaced as :func:`valid_text` replaces it; with the ids (``uri``, ``id``)
    of the items that held one. None when the body needs nothing, or is not JSON at all.
    """
    if not bytes_need_checking(body):
        return None  # the usual case: one regex over the bytes
    from pydantic_core import from_json  # atproto's parser, the stricter of the two

    try:
        from_json(body)
        if not _RAW_CONTROL.search(body):
            return None
    except ValueError:
        pass
    try:
        raw = json.loads(body.decode("utf-8", "replace"), strict=False)
    except ValueError:
        return None
    cleaned = valid_json(raw)
    named = [_item_id(new) for old, new in zip(_items(raw), _items(cleaned), strict=True)
             if old != new]  # fmt: skip
    text = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8"), named


# A raw control character (not tab, newline or carriage return): Python's json refuses
# it inside a string even where pydantic_core takes it.
_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _items(value: Any) -> list[Any]:
    """The items of a page: a list's elements, or those of an object's lists (posts)."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        return [item for items in lists for item in items] + [
            {k: v for k, v in value.items() if not isinstance(v, list)}
        ]
    return [value]


def _item_id(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("uri", "id", "did", "url"):
            if isinstance(item.get(key), str | int):
                return valid_text(str(item[key]))
    return "(the answer itself)"


def valid_json(value: Any) -> Any:
    """Parsed JSON with every string (keys too) made valid; the same object if clean."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list):
        return [valid_json(item) for item in value]
    if isinstance(value, dict):
        return {valid_text(k) if isinstance(k, str) else k: valid_json(v) for k, v in value.items()}
    return value


# Fields not walked: the raw JSON as received (kept as sent, and stored as JSON, whose
# escapes are valid), which is also the largest part of a post by far.
RAW_FIELDS = frozenset({"raw", "raw_json"})


def make_valid(obj: Any) -> Any:
    """Every string field of a dataclass made valid, in place, recursively; returns it.

    Lists, tuples and dicts in fields are rebuilt with valid strings. Used on each
    normalised post, so that whatever a normaliser copied from the raw JSON is valid.
    """
    if not _has_invalid(obj):
        return obj  # the usual case, found by a walk that builds nothing
    if is_dataclass(obj) and not isinstance(obj, type):
        for spec in fields(obj):
            if spec.name in RAW_FIELDS:
                continue
            value = getattr(obj, spec.name)
            cleaned = _valid_value(value)
            if cleaned is not value:
                object.__setattr__(obj, spec.name, cleaned)
        return obj
    return _valid_value(obj)


def _has_invalid(value: Any) -> bool:
    """Whether any string in ``value`` needs :func:`valid_text` (raw fields skipped).

    Gathers the strings without recursion and searches them joined, in one regex pass:
    this runs on every post, so it must cost little when (as almost always) all is well.
    """
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            found.append(item)
        elif kind is dict:
            stack.extend(item.values())
            found.extend(key for key in item if type(key) is str)
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind not in _SCALARS:
            names = _FIELDS.get(kind)
            if names is None:
                names = _walked_fields(kind)
            if names:
                stack.extend([getattr(item, name) for name in names])
            elif isinstance(item, tuple):  # a named tuple
                stack.extend(item)
    return _DETECT.search("\n".join(found)) is not None


_SCALARS = frozenset({int, float, bool, type(None), datetime})


_FIELDS: dict[type, tuple[str, ...]] = {}


def _walked_fields(kind: type) -> tuple[str, ...]:
    """A dataclass's field names but the raw ones (cached: ``fields()`` is slow); ()."""
    names = _FIELDS.get(kind)
    if names is None:
        names = (
            tuple(f.name for f in fields(kind) if f.name not in RAW_FIELDS)
            if is_dataclass(kind)
            else ()
        )
        _FIELDS[kind] = names
    return names


def _valid_value(value: Any) -> Any:
    if isinstance(value, str):
        cleaned = valid_text(value)
        return value if cleaned == value else cleaned
    if is_dataclass(value) and not isinstance(value, type):
        return make_valid(value)
    if isinstance(value, list):
        items = [_valid_value(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, tuple):
        items = [_valid_value(item) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        cleaned = {k: _valid_value(v) for k, v in value.items()}
        return value if all(cleaned[k] is value[k] for k in value) else cleaned
    return value
