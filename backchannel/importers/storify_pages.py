"""A Storify story saved page by page: the v1 API gave 50 elements a request, and people
saved each page as a file of its own. Given together (``import EVENT p1.json p2.json``),
the pages of one story (the same ``sid``, else permalink, else slug) are joined into
one file, in the order given, so that the story is made whole once instead of each
page replacing the one before."""

from __future__ import annotations

import json
from pathlib import Path

MAX_PAGE_BYTES = 50_000_000  # a page file larger than this is not a saved API page


def story_key(path: Path) -> str | None:
    """Which Storify story a JSON file holds a page of, or None (not one, or unreadable)."""
    if not path.is_file() or path.stat().st_size > MAX_PAGE_BYTES:
        return None
    text = path.read_text(encoding="utf-8-sig", errors="replace").lstrip()
    if not text.startswith("{"):
        return None
    try:
        data, _ = json.JSONDecoder(strict=False).raw_decode(text)
    except ValueError:
        return None
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, dict) or "elements" not in content:
        return None
    for name in ("sid", "permalink", "slug"):
        if isinstance(content.get(name), str) and content[name]:
            return f"{name}:{content[name]}"
    return None


def join_story_pages(paths: list[Path], folder: Path) -> list[Path]:
    """``paths`` with the pages of each story that has several replaced, where its first
    page stands, by one file in ``folder`` that holds them one after another."""
    groups: dict[str, list[Path]] = {}
    keys = [story_key(path) for path in paths]
    for key, path in zip(keys, paths, strict=True):
        if key is not None:
            groups.setdefault(key, []).append(path)
    out: list[Path] = []
    for key, path in zip(keys, paths, strict=True):
        pages = groups.get(key) if key is not None else None
        if not pages or len(pages) == 1:
            out.append(path)
        elif pages[0] == path:
            folder.mkdir(parents=True, exist_ok=True)
            joined = folder / f"{path.stem}+{len(pages) - 1}-pages.json"
            joined.write_text("\n".join(p.read_text(encoding="utf-8-sig", errors="replace")
                                        for p in pages) + "\n", encoding="utf-8")  # fmt: skip
            out.append(joined)
    return out
