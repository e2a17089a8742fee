"""Storyboard pages: table of contents, the curator's text and notes, the posts as on
the timeline (each linked to its place there), an Atom feed and "cite this story"
downloads (BibTeX and CSL-JSON) per story.

The curator's Markdown (text, notes, description, headings) is rendered with raw HTML
off and then sanitised by :mod:`backchannel.sanitize.clean`, like post HTML. A post that is
no longer publishable (hidden, deleted at its source, its author opted out) leaves a
neutral note; one forgotten at its author's request says so.

Files, for a story with the slug ``day-one``: ``story-day-one.html``, ``.atom``,
``.bib`` and ``.json`` (CSL-JSON), beside the event's other pages.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from backchannel.export import cards, sharing
from backchannel.export.content import markdown_html
from backchannel.export.context import PostView, Views
from backchannel.export.dates import long_date
from backchannel.export.environment import Theme
from backchannel.export.feeds import atom_bytes
from backchannel.export.selection import EventIndex
from backchannel.export.sharing import ShareCard
from backchannel.export.writer import SiteWriter
from backchannel.sanitize import clean_post_html, html_to_text
from backchannel.store import Story

ATOM = "http://www.w3.org/2005/Atom"
_inline = MarkdownIt("commonmark", {"html": False})
_BIB_SPECIAL = re.compile(r"([\\{}%&$#_~^])")


@dataclass(frozen=True, slots=True)
class TocEntry:
    text: str
    anchor: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryBlock:
    kind: str  # heading text post hidden removed
    level: int  # heading level (2 or 3)
    text: str  # heading as plain text
    html: Markup | None  # heading (inline) or the curator's text, sanitised
    anchor: str  # heading id
    post: Markup | None  # the rendered _post.html
    href: str  # the post's place in the full timeline
    annotation: Markup | None  # the curator's note on the post, sanitised


@dataclass(frozen=True, slots=True)
class Citation:
    text: str  # one line: curator (year). title. event. site. date. URL
    bibtex: str
    url: str  # absolute with [export] base_url, else relative to the site root
    date: str  # "12 March 2026"
    iso: str  # "2026-03-12"


@dataclass(frozen=True, slots=True)
class StoryPage:
    slug: str
    title: str
    curator: str
    description: Markup
    href: str
    feed_href: str
    bibtex_href: str
    csl_href: str
    posts: int
    toc: tuple[TocEntry, ...]
    cite: Citation
    embed_href: str = ""  # "story-<slug>-embed.html": the story alone, to be framed
    oembed_href: str = ""  # its oEmbed description, absolute (only with a base URL)
    share: ShareCard | None = None  # preview card metadata (only with a base URL)


def file_stem(slug: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in slug.lower()).strip("-")
    return f"story-{safe or 'untitled'}"


def heading_html(text: str) -> Markup:
    return Markup(clean_post_html(_inline.renderInline(text or "")))  # noqa: S704 - sanitised


def _anchor(text: str, seen: set[str]) -> str:
    base = "".join(c if c.isalnum() else "-" for c in text.lower())
    base = "s-" + ("-".join(filter(None, base.split("-"))) or "section")[:60]
    anchor, number = base, 2
    while anchor in seen:
        anchor, number = f"{base}-{number}", number + 1
    seen.add(anchor)
    return anchor


def _toc(blocks: list[StoryBlock]) -> tuple[TocEntry, ...]:
    top: list[tuple[StoryBlock, list[TocEntry]]] = []
    for block in blocks:
        if block.kind != "heading":
            continue
        if block.level == 3 and top:
            top[-1][1].append(TocEntry(block.text, block.anchor))
        else:
            top.append((block, []))
    return tuple(TocEntry(b.text, b.anchor, tuple(children)) for b, children in top)


def _bib(text: str) -> str:
    return _BIB_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def citation(story: Story, event: Any, site: Any, relative: str) -> Citation:
    moment = story.updated_at
    iso = moment.date().isoformat()
    day = long_date(iso)
    url = f"{site.base_url.rstrip('/')}/{relative}" if site.base_url else relative
    who = story.curator or "Unknown curator"
    text = (f"{who} ({moment.year}). {story.title}. Storyboard of {event.title}. "
            f"{site.title}. {day}. {url}")  # fmt: skip
    key = re.sub(r"[^a-z0-9]+", "-", f"{event.slug}-{story.slug}-{moment.year}".lower())
    fields = {
        "title": _bib(story.title),
        "author": _bib(who),
        "year": str(moment.year),
        "month": str(moment.month),
        "date": iso,
        "howpublished": _bib(site.title),
        "note": _bib(f"Storyboard of {event.title}"),
        "url": url,
    }
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return Citation(text, f"@misc{{{key.strip('-')},\n{body}\n}}\n", url, day, iso)


def csl_json(story: Story, event: Any, site: Any, cite: Citation) -> bytes:
    year, month, day = (int(p) for p in cite.iso.split("-"))
    item = {
        "id": f"{event.slug}/{story.slug}",
        "type": "webpage",
        "genre": "Storyboard",
        "title": story.title,
        "author": [{"literal": story.curator or "Unknown curator"}],
        "container-title": event.title,
        "publisher": site.title,
        "issued": {"date-parts": [[year, month, day]]},
        "URL": cite.url,
    }
    return (json.dumps([item], ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def story_blocks(
    theme: Theme, views: Views, story: Story, index: EventIndex, base: dict[str, Any]
) -> tuple[list[StoryBlock], list[tuple[PostView, Markup | None]]]:
    """The page's blocks, and the published posts with their notes (for the feed)."""
    by_id = {p.id: p for p in index.posts}
    wanted = [by_id[i.post_id] for i in story.items if i.kind == "post" and i.post_id in by_id]
    post_views = {v.uri: v for v in views.posts(wanted)}
    blocks: list[StoryBlock] = []
    shown: list[tuple[PostView, Markup | None]] = []
    seen: set[str] = set()
    for item in story.items:
        if item.kind == "heading":
            rendered = heading_html(item.text or "")
            text = html_to_text(str(rendered)) or (item.text or "")
            level = item.level if item.level in (2, 3) else 2
            blocks.append(StoryBlock("heading", level, text, rendered, _anchor(text, seen),
                                     None, "", None))  # fmt: skip
        elif item.kind == "text":
            blocks.append(StoryBlock("text", 2, "", markdown_html(item.text or ""), "", None,
                                     "", None))  # fmt: skip
        elif item.kind == "post" and item.post_id in by_id:
            view = post_views[by_id[item.post_id].uri]
            note = markdown_html(item.annotation) if item.annotation else None
            html = Markup(theme.get("_post.html").render(post=view, heading_level=3, **base))  # noqa: S704
            blocks.append(StoryBlock("post", 2, "", None, "", html, view.href, note))
            shown.append((view, note))
        elif item.kind == "post" and item.post_id is not None:
            blocks.append(StoryBlock("hidden", 2, "", None, "", None, "", None))
        else:  # forgotten at the author's request (issue 9 leaves "removed" or no post)
            blocks.append(StoryBlock("removed", 2, "", None, "", None, "", None))
    return blocks, shown


def story_feed(story: Story, event: Any, site: Any, stem: str,
               shown: list[tuple[PostView, Markup | None]]) -> bytes:  # fmt: skip
    """An Atom feed of the story's posts in the curator's order, with the notes."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    base = f"{site.base_url.rstrip('/')}/{event.slug}/" if site.base_url else ""
    if base:
        root.set("{http://www.w3.org/XML/1998/namespace}base", base)
    ET.SubElement(root, f"{{{ATOM}}}title").text = f"{story.title} ({event.title})"
    ET.SubElement(root, f"{{{ATOM}}}id").text = (
        f"{base}{stem}.atom" if base else f"tag:backchannel.invalid,"
        f"{story.created_at.date().isoformat()}:{event.slug}/{story.slug}"
    )  # fmt: skip
    updated = story.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(root, f"{{{ATOM}}}updated").text = updated
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = story.curator or event.title
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href=f"{stem}.atom")
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=f"{stem}.html")
    ET.SubElement(root, f"{{{ATOM}}}generator").text = "backchannel"
    for post, note in shown:
        if not post.indexable:  # kept out of feeds, as on the event's feed
            continue
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        name = post.author.display_name.strip() or post.author.handle
        if post.content_warning:
            title, content = (
                f"{name}: a post behind a content warning",
                ("<p>This post has a content warning. Read it in the archive.</p>"),
            )
        else:
            words = " ".join(post.text.split())
            title = f"{name}: {words[:79]}{'…' if len(words) > 79 else ''}"
            content = str(post.html)
        if note:
            content = f'<blockquote class="annotation">{note}</blockquote>{content}'
        ET.SubElement(entry, f"{{{ATOM}}}title").text = title
        ET.SubElement(entry, f"{{{ATOM}}}id").text = post.uri
        ET.SubElement(entry, f"{{{ATOM}}}published").text = post.time.utc
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = (
            post.edited.utc if post.edited else post.time.utc
        )
        entry_author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(entry_author, f"{{{ATOM}}}name").text = name
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=post.href)
        ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = content
    return atom_bytes(root)


def write_stories(theme: Theme, writer: SiteWriter, views: Views, index: EventIndex,
                  base: dict[str, Any], stories: list[Story]) -> None:  # fmt: skip
    """Every storyboard of the event: page, feed, BibTeX and CSL-JSON."""
    event, site = index.event, base["site"]
    for story in stories:
        stem = file_stem(story.slug)
        blocks, shown = story_blocks(theme, views, story, index, base)
        cite = citation(story, event, site, f"{event.slug}/{stem}.html")
        description = markdown_html(story.description or "")
        byline = f"A storyboard by {story.curator} · {site.title}" if story.curator else site.title
        # The first picture kept in the story, else a card drawn from its title.
        image = sharing.first_image(shown) or cards.write_card(
            writer, site, f"{event.slug}/{stem}-card.png", story.title, event.title, byline
        )
        share = sharing.card(site, f"{event.slug}/{stem}.html", story.title,
                             html_to_text(str(description)) or event.title, "article", image)  # fmt: skip
        oembed_href = sharing.absolute(site, f"{event.slug}/{stem}.oembed.json") if share else ""
        page = StoryPage(story.slug, story.title, story.curator or "", description,
                         f"{stem}.html", f"{stem}.atom", f"{stem}.bib", f"{stem}.json",
                         len(shown), _toc(blocks), cite, f"{stem}-embed.html", oembed_href,
                         share)  # fmt: skip
        html = theme.get("story.html").render(**base, story=page, blocks=blocks,
                                              description=page.description, share=share)  # fmt: skip
        writer.write(f"{event.slug}/{stem}.html", html)
        embed = theme.get("story_embed.html").render(**base, story=page, blocks=blocks,
                                                     description=page.description)  # fmt: skip
        writer.write(f"{event.slug}/{stem}-embed.html", embed)
        if share:
            writer.write(f"{event.slug}/{stem}.oembed.json",
                         sharing.oembed(site, event.slug, stem, story.title, story.curator or ""))  # fmt: skip
        writer.write(f"{event.slug}/{stem}.atom", story_feed(story, event, site, stem, shown))
        writer.write(f"{event.slug}/{stem}.bib", cite.bibtex.encode("utf-8"))
        writer.write(f"{event.slug}/{stem}.json", csl_json(story, event, site, cite))
