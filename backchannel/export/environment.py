"""The Jinja2 environment: a theme search path, autoescape, and the theme's files.

Templates are looked up in the user's theme folder first, then in the packaged theme;
``default:NAME`` always reaches the packaged one, so a theme can say
``{% extends "default:base.html" %}`` and replace a single block. The same order holds
for the theme's static files (``static/``), copied to ``assets/`` in the site.

Autoescape is on for every template. ``Markup`` values in the context (post HTML,
display names) come from the sanitiser; templates need no ``|safe``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    Template,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from backchannel import __version__
from backchannel.errors import ExportError
from backchannel.resources import templates_dir
from backchannel.sanitize import safe_url


@dataclass(frozen=True)
class Theme:
    env: Environment
    folders: tuple[Path, ...]  # user's first, packaged last
    fingerprint: str  # changes when any template or static file changes

    def get(self, name: str) -> Template:
        return self.env.get_template(name)

    @cached_property
    def post_batch(self) -> Template:
        """Many posts' ``_post.html`` in one call, each followed by ``marker``."""
        return self.env.from_string(
            '{% for post in posts %}{% include "_post.html" %}{{ marker }}{% endfor %}'
        )

    def static_files(self) -> dict[str, Path]:
        """``static/`` files by relative name; the user's theme wins over the packaged."""
        found: dict[str, Path] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        found[path.relative_to(static).as_posix()] = path
        return dict(sorted(found.items()))


def load_theme(user_dir: Path | None = None) -> Theme:
    packaged = templates_dir()
    folders: list[Path] = []
    if user_dir is not None:
        if not user_dir.is_dir():
            raise ExportError(f"the theme folder {user_dir} does not exist")
        folders.append(user_dir)
    folders.append(packaged)
    loader = ChoiceLoader(
        [
            PrefixLoader({"default": FileSystemLoader(packaged)}, delimiter=":"),
            *(FileSystemLoader(folder) for folder in folders),
        ]
    )
    env = Environment(
        loader=loader,
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["pluralize"] = pluralize
    env.filters["number"] = number
    env.filters["contact_link"] = contact_link
    env.globals["generator"] = f"backchannel {__version__}"
    return Theme(env, tuple(folders), _fingerprint(folders))


class _QuietBytecodeCache(FileSystemBytecodeCache):
    """Compiled templates kept between exports (parsing and compiling the theme took a
    third of an export that had nothing to render). Jinja2 checks each entry against the
    template's source, so a changed or another theme is compiled afresh; a cache that
    cannot be written is only slower, never an error."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    """``$XDG_CACHE_HOME/backchannel/templates-<version>`` (``~/.cache`` by default);
    ``BACKCHANNEL_TEMPLATE_CACHE=off`` goes without."""
    if os.environ.get("BACKCHANNEL_TEMPLATE_CACHE", "").lower() == "off":
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "backchannel" / f"templates-{__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(folder))


def _fingerprint(folders: list[Path]) -> str:
    digest = hashlib.sha256(__version__.encode())
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def pluralize(count: int, singular: str, plural: str | None = None) -> str:
    """``{{ n|pluralize("post") }}`` -> "1 post", "2 posts"."""
    word = singular if count == 1 else (plural or singular + "s")
    return f"{number(count)} {word}"


_EMAIL = re.compile(r"[^@\s<>\"'()]+@[^@\s<>\"'()/]+\.[^@\s<>\"'()/]+")


def contact_link(contact: str) -> Markup:
    """The organiser's contact as a link when it is an email address (``mailto:``) or
    an http(s) address, else as text; escaped either way (it comes from the config)."""
    text = contact.strip()
    if _EMAIL.fullmatch(text):
        return Markup('<a href="mailto:{0}">{0}</a>').format(text)
    url = safe_url(text)
    if url:
        return Markup('<a href="{0}">{0}</a>').format(url)
    return Markup("{0}").format(text)


def number(value: int) -> str:
    return f"{value:,}"
