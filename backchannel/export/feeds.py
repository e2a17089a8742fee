"""An Atom feed per event: its latest posts, newest first.

Content-warning text never appears in a feed: a post behind a warning is announced
with a neutral title and a link, its content left on the page where it is collapsed.
Posts of authors whose ``indexable`` is false are left out (a feed is harvested).
The feed's dates come from the posts, never from the time of the export.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import islice

from backchannel.export.context import PostView, Views
from backchannel.export.selection import EventIndex
from backchannel.sanitize import valid_text

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
_TITLE_LENGTH = 80


def _title(post: PostView) -> str:
    name = post.author.display_name.strip() or post.author.handle
    if post.content_warning:
        return f"{name}: a post behind a content warning"
    text = " ".join(post.text.split())
    if len(text) > _TITLE_LENGTH:
        text = text[: _TITLE_LENGTH - 1].rstrip() + "…"
    return f"{name}: {text}" if text else f"{name}, {post.time.local}"


def _content(post: PostView) -> str:
    if post.content_warning:
        return "<p>This post has a content warning. Read it in the archive.</p>"
    return str(post.html)


def build_feed(index: EventIndex, views: Views, slug: str, site_title: str, base_url: str) -> bytes:
    event = index.event
    latest = list(islice((p for p in reversed(index.posts) if p.indexable), FEED_SIZE))
    posts = views.posts(latest)
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    base = f"{base_url.rstrip('/')}/{slug}/" if base_url else ""
    if base:
        root.set("{http://www.w3.org/XML/1998/namespace}base", base)
    ET.SubElement(root, f"{{{ATOM}}}title").text = f"{event.title} ({site_title})"
    feed_id = f"{base}feed.atom" if base else (
        f"tag:backchannel.invalid,{event.starts_at.date().isoformat()}:{slug}"
    )  # fmt: skip
    ET.SubElement(root, f"{{{ATOM}}}id").text = feed_id
    stamps = [p.edited.utc if p.edited else p.time.utc for p in posts]
    ET.SubElement(root, f"{{{ATOM}}}updated").text = max(
        stamps, default=event.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    ET.SubElement(root, f"{{{ATOM}}}link", rel="self", href="feed.atom")
    ET.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href="index.html")
    ET.SubElement(root, f"{{{ATOM}}}generator").text = "backchannel"
    for post in posts:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _title(post)
        ET.SubElement(entry, f"{{{ATOM}}}id").text = post.uri
        ET.SubElement(entry, f"{{{ATOM}}}published").text = post.time.utc
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = (
            post.edited.utc if post.edited else post.time.utc
        )
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = (
            post.author.display_name.strip() or post.author.handle
        )
        if post.author.profile_url:
            ET.SubElement(author, f"{{{ATOM}}}uri").text = post.author.profile_url
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=post.href)
        if post.url:
            ET.SubElement(entry, f"{{{ATOM}}}link", rel="via", href=post.url)
        for tag in post.tags:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=tag)
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _content(post)
    return atom_bytes(root)


def atom_bytes(root: ET.Element) -> bytes:
    """The feed as XML 1.0: every text and attribute value restricted to the characters
    XML allows (an archive collected before text was made valid on the way in may hold
    control characters, and one would make the whole feed unreadable)."""
    for element in root.iter():
        if element.text:
            element.text = valid_text(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = valid_text(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
