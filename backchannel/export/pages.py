"""An event's pages besides the timeline: overview, people, media, links, statistics,
storyboards and search; and the site's home page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from backchannel.export import cards, sharing, stats
from backchannel.export.context import AuthorView, PostView, Views, platform_label
from backchannel.export.conversations import most_answered
from backchannel.export.environment import Theme
from backchannel.export.selection import EventIndex
from backchannel.export.stories import file_stem, write_stories
from backchannel.export.timeline import DayLink
from backchannel.export.writer import SiteWriter
from backchannel.store import Story


@dataclass(frozen=True, slots=True)
class PersonView:
    author: AuthorView
    posts: int
    first_href: str


@dataclass(frozen=True, slots=True)
class StoryLink:
    slug: str
    title: str
    curator: str
    href: str


def story_file(slug: str) -> str:
    return f"{file_stem(slug)}.html"


def load_stories(session: Session, index: EventIndex) -> list[Story]:
    return list(
        session.scalars(
            select(Story)
            .where(Story.event_id == index.event.id)
            .options(selectinload(Story.items))
            .order_by(Story.created_at, Story.slug)
        )
    )


def story_links(stories: list[Story]) -> list[StoryLink]:
    return [StoryLink(s.slug, s.title, s.curator, story_file(s.slug)) for s in stories]


def render_post(theme: Theme, view: PostView, base: dict[str, Any]) -> Markup:
    """A post outside the timeline (overview, storyboards): its heading one level down."""
    html = theme.get("_post.html").render(post=view, heading_level=3, **base)
    return Markup(html)  # noqa: S704 - our template, autoescaped


def write_event_pages(
    session: Session,
    theme: Theme,
    writer: SiteWriter,
    views: Views,
    index: EventIndex,
    base: dict[str, Any],
    days: list[DayLink],
    stories: list[Story],
) -> None:
    slug = base["event"].slug
    people = [
        PersonView(views.author(c.author_id), c.posts, c.first_href)
        for c in stats.contributors(index)
    ]
    featured = [p for p in index.posts if p.featured]
    links = stats.link_counts(index)
    event, site = base["event"], base["site"]
    dates = event.starts if event.starts == event.ends else f"{event.starts} to {event.ends}"
    tags = " ".join(f"#{tag}" for tag in event.hashtags)  # the event's card: drawn
    card = cards.write_card(writer, site, f"{slug}/card.png", event.title, dates,
                            f"{tags} · {site.title}".strip(" ·"))  # fmt: skip
    overview = {
        "share": sharing.card(
            site,
            f"{slug}/index.html",
            event.title,
            event.description or f"{event.posts:,} posts, {dates}",
            "website",
            card,
        ),  # fmt: skip
        "days": days,
        "platforms": stats.platform_counts(index),
        "contributors": people[:10],
        "tags": stats.top_tags(index),
        "links": links[:10],
        "featured": [render_post(theme, v, base) for v in views.posts(featured)],
        "stories": story_links(stories),
        "coverage": stats.coverage(index),
        "excluded": sum(index.excluded.values()),
    }
    pages = {
        "index.html": ("event.html", overview),
        "timeline.html": ("timeline.html", {"days": days}),
        "people.html": ("people.html", {"people": people}),
        "links.html": ("links.html", {"links": links}),
        "stats.html": (
            "stats.html",
            {
                "charts": stats.charts(index, base["site"].locale),
                "days": days,
                "answered": most_answered(session, index),
            },
        ),  # fmt: skip
        "search.html": (
            "search.html",
            {
                "days": days,
                "platforms": [
                    (key, platform_label(key))
                    for key in sorted({post.platform for post in index.posts})
                ],
            },
        ),  # fmt: skip
    }
    for name, (template, extra) in pages.items():
        # Streamed: the people and links pages grow with the event.
        with writer.stream(f"{slug}/{name}") as handle:
            handle.writelines(theme.get(template).generate(**base, **extra))
    write_stories(theme, writer, views, index, base, stories)
