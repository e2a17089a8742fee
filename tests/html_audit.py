"""A static audit of exported HTML: nothing executable, nothing loaded from elsewhere."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

# Inline SVG is allowed only as the theme's charts draw it.
_SVG_PARTS = {"svg", "rect", "text", "title", "desc", "line"}
_SCRIPTS = {
    "../assets/reveal.js", "assets/reveal.js", "../assets/viewer.js", "assets/viewer.js",
    "../assets/search.js", "../assets/people.js",
}  # fmt: skip


class Audit(HTMLParser):
    def __init__(self, name: str, scripts: frozenset[str] | set[str] = _SCRIPTS) -> None:
        super().__init__()
        self.name = name
        self.scripts = scripts
        self.problems: list[str] = []
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        where = f"{self.name}: <{tag} {attrs}>"
        if tag == "svg":
            self._svg += 1
        if self._svg and tag not in _SVG_PARTS:
            self.problems.append(f"unexpected SVG element {where}")
        if tag in ("iframe", "object", "embed", "style"):
            self.problems.append(f"forbidden element {where}")
        if tag == "base" and set(values) != {"target"}:  # the embed page's target alone
            self.problems.append(f"forbidden element {where}")
        if tag == "script" and values.get("src") not in self.scripts:
            self.problems.append(f"script {where}")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"refresh {where}")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name} in {where}")
            if name in ("href", "src", "action", "poster", "data", "xlink:href"):
                scheme = urlsplit(value).scheme
                if scheme not in ("", "http", "https"):
                    self.problems.append(f"{scheme}: URL in {where}")
                if name != "href" and scheme:
                    self.problems.append(f"remote resource in {where}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg -= 1


def audit_site(root: Path) -> list[str]:
    """Every problem in every page of an exported site (Pagefind's own files aside)."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.html")):
        if "pagefind" in path.parts:
            continue
        audit = Audit(path.relative_to(root).as_posix())
        audit.feed(path.read_text("utf-8"))
        problems += audit.problems
    return problems
