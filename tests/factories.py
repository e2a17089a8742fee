"""Hand-made normalised posts and a registered event, for tests of the store and up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from backchannel.collectors.base import NormalizedAuthor, NormalizedMedia, NormalizedPost, Page
from backchannel.events import EventSpec, create_event
from backchannel.store.db import Database

T0 = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)


def author(name: str = "ana", server: str = "a.example", **changes: Any) -> NormalizedAuthor:
    base = NormalizedAuthor(
        platform="mastodon",
        uri=f"https://{server}/users/{name}",
        handle=f"{name}@{server}",
        display_name=name.title(),
        display_name_html=name.title(),
        profile_url=f"https://{server}/@{name}",
        home_server=server,
        indexable=True,
    )
    return replace(base, **changes)


def post(n: int, who: NormalizedAuthor | None = None, **changes: Any) -> NormalizedPost:
    who = who or author()
    uri = f"{who.uri}/statuses/{n}"
    base = NormalizedPost(
        platform=who.platform,
        uri=uri,
        url=uri.replace("/users/", "/@").replace("/statuses/", "/"),
        native_id=str(1000 + n),
        author=who,
        created_at=T0 + timedelta(minutes=n),
        raw={"id": str(1000 + n), "uri": uri, "content": f"<p>post {n} #swrs26</p>"},
        text=f"post {n} #swrs26",
        html=f"<p>post {n} #swrs26</p>",
        tags=("swrs26",),
        links=(f"https://example.org/{n}",),
        media=(
            NormalizedMedia(kind="image", url=f"https://{'a.example'}/m/{n}.png", alt="a chart"),
        ),
    )
    return replace(base, **changes)


def page(posts: list[NormalizedPost], cursor: dict[str, Any] | None = None) -> Page:
    return Page(posts=posts, cursor=cursor or {"at": len(posts)})


def registered_event(
    db: Database,
    *,
    mastodon: tuple[str, ...] = ("https://a.example",),
    bluesky: str | None = None,
    slug: str = "swrs26",
) -> None:
    with db.writing() as session:
        create_event(
            session,
            EventSpec(
                slug=slug,
                title="Test event",
                hashtags=["swrs26"],
                start="2026-03-12",
                end="2026-03-13",
                timezone="Pacific/Auckland",
                mastodon=mastodon,
                bluesky=bluesky,
            ),
        )
