"""Plain text to post HTML, the way Mastodon's TextFormatter writes it.

The sandbox world stores post and bio HTML with *placeholder* origins
(``bc-instance://NAME``) because instances get their loopback ports only when the
sandbox starts; :func:`resolve` swaps in the real base URLs at serve time.

What :func:`to_html` produces, as Mastodon does:

* paragraphs ``<p>`` from blank lines, ``<br>`` from single newlines;
* ``#Tag`` -> ``<a href=".../tags/tag" class="mention hashtag" rel="tag">#<span>Tag</span></a>``
  (the link is lower-cased, the text keeps the author's case);
* ``@user`` (local) and ``@user@instance-name`` -> an ``h-card`` mention;
* URLs -> a link whose text is split into ``invisible``/``ellipsis`` spans;
* everything else HTML-escaped (``'`` becomes ``&#39;``), custom emoji stay ``:code:``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

PLACEHOLDER = "bc-instance://"
_PLACEHOLDER_RE = re.compile(r"bc-instance://([A-Za-z0-9._-]+?)(?=[/\"'<\s]|$)")

# Mastodon's hashtag rule, simplified: a # not glued to a word, a slash or a paren,
# followed by word characters (Unicode-aware, so macrons and Arabic work).
_TAG_RE = re.compile(r"(?<![\w/)#&])#(\w+)")
_MENTION_RE = re.compile(r"(?<![\w/@])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9._:-]*[A-Za-z0-9]))?")
_URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
_EMOJI_RE = re.compile(r":([A-Za-z0-9_]{2,}):")
_TOKEN_RE = re.compile("|".join(f"(?:{r.pattern})" for r in (_URL_RE, _MENTION_RE, _TAG_RE)))


def origin(instance: str) -> str:
    """The placeholder base URL of an instance, resolved at serve time."""
    return f"{PLACEHOLDER}{instance}"


def resolve(text: str, base_urls: Mapping[str, str]) -> str:
    """Replace ``bc-instance://NAME`` placeholders by the bound base URLs.

    Unknown names stay as they are, so an unbound world still renders.
    """
    if PLACEHOLDER not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: base_urls.get(m.group(1), m.group(0)), text)


def normalize_tag(name: str) -> str:
    """Mastodon compares tags case-insensitively; names are shown lower-cased."""
    return name.lower()


def custom_emoji_codes(*texts: str) -> list[str]:
    """Shortcodes of ``:custom:`` emoji in the texts, first use first."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in _EMOJI_RE.finditer(text or ""):
            seen.setdefault(match.group(1), None)
    return list(seen)


@dataclass
class Rendered:
    html: str
    tags: list[str] = field(default_factory=list)  # as written, first use first
    mentions: list[tuple[str, str | None]] = field(default_factory=list)  # (user, instance)


def _esc(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "&#39;")


def shortened_link(url: str) -> str:
    """A link as Mastodon shortens it: 30 visible characters after the scheme."""
    prefix = re.match(r"https?://(www\.)?", url).group(0)  # type: ignore[union-attr]
    rest = url[len(prefix) :]
    shown, hidden = rest[:30], rest[30:]
    cls = "ellipsis" if hidden else ""
    return (
        f'<a href="{_esc(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{_esc(prefix)}</span><span class="{cls}">{_esc(shown)}</span>'
        f'<span class="invisible">{_esc(hidden)}</span></a>'
    )


def hashtag_link(instance: str, tag: str) -> str:
    href = f"{origin(instance)}/tags/{quote(normalize_tag(tag))}"
    return f'<a href="{href}" class="mention hashtag" rel="tag">#<span>{_esc(tag)}</span></a>'


def mention_link(instance: str, username: str) -> str:
    href = f"{origin(instance)}/@{_esc(username)}"
    return f'<span class="h-card"><a href="{href}" class="u-url mention">@<span>{_esc(username)}</span></a></span>'


def to_html(text: str, home: str, known_instance: Callable[[str], bool] | None = None) -> Rendered:
    """Render plain ``text`` written by an account of instance ``home``.

    A mention ``@user@name`` links to instance ``name`` when ``known_instance(name)``
    says it exists; ``@user`` is local to ``home``.
    """
    out = Rendered(html="")
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered_paragraphs = []
    for paragraph in paragraphs:
        lines = []
        for line in paragraph.split("\n"):
            lines.append(_render_line(line, home, known_instance, out))
        rendered_paragraphs.append("<p>" + "<br>".join(lines) + "</p>")
    out.html = "".join(rendered_paragraphs)
    return out


def _render_line(
    line: str, home: str, known_instance: Callable[[str], bool] | None, out: Rendered
) -> str:
    parts: list[str] = []
    pos = 0
    for match in _TOKEN_RE.finditer(line):
        token = match.group(0)
        parts.append(_esc(line[pos : match.start()]))
        pos = match.end()
        if token.startswith("http"):
            parts.append(shortened_link(token))
        elif token.startswith("#"):
            tag = token[1:]
            if tag not in out.tags:
                out.tags.append(tag)
            parts.append(hashtag_link(home, tag))
        else:
            mention = _MENTION_RE.fullmatch(token)
            assert mention is not None
            user, instance = mention.group(1), mention.group(2)
            if instance is not None and known_instance is not None and not known_instance(instance):
                parts.append(_esc(token))  # an unknown server: Mastodon leaves it as text
                continue
            out.mentions.append((user, instance or home))
            parts.append(mention_link(instance or home, user))
    parts.append(_esc(line[pos:]))
    return "".join(parts)


def strip_html(fragment: str) -> str:
    """Text of an HTML fragment (for tag re-extraction after an edit)."""
    text = re.sub(r"<br\s*/?>", "\n", fragment)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


@lru_cache(maxsize=16384)  # tag timelines re-read every post's tags on each request
def tags_in_html(fragment: str) -> tuple[str, ...]:
    """Hashtags of post HTML as written (``#<span>Tag</span>`` links and bare ``#Tag``)."""
    found: dict[str, None] = {}
    for match in re.finditer(r'rel="tag">#<span>([^<]+)</span>', fragment):
        found.setdefault(html.unescape(match.group(1)), None)
    if not found:
        for match in _TAG_RE.finditer(strip_html(fragment)):
            found.setdefault(match.group(1), None)
    return tuple(found)
