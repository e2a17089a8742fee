"""A small, realistic event stored through ``store.save_page``, for export tests.

``build_fixture(url)`` creates the database (``Database(url).init()``) and the event
``swrb13`` (Pacific/Auckland, three local days) with replies, a quote, a content
warning, sensitive media, custom emoji, right-to-left text, macrons, a curator's
hidden and featured posts, an author whose ``indexable`` is false, an author the
organiser denies after collection, a post deleted at its source, and a storyboard.
``build_hostile(url)`` stores an event full of hostile content. Both are
deterministic apart from the store's own fetch times. The words in ``WORDS`` each
appear in exactly one post, so tests can look for them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from backchannel.collectors.base import NormalizedAuthor, NormalizedMedia, NormalizedPost, Page
from backchannel.consent.rule import Policy
from backchannel.events import EventSpec, create_event
from backchannel.sanitize.clean import clean_post_html
from backchannel.store.db import Database
from backchannel.store.models import (
    ConsentOverride,
    Event,
    EventPost,
    EventSource,
    Post,
    Story,
    StoryItem,
)
from backchannel.store.writer import save_page

MASTODON = "https://mastodon.example"
BLUESKY = "https://bsky.example"
TAG = "swrb13"
EMOJI = "https://mastodon.example/emoji/wave.png"

# Marker words: each appears in one post only.
WORDS = {
    "welcome": "haerenga",  # ana's first post (featured)
    "hidden": "hiddenword",  # hidden by a curator
    "deleted": "deletedword",  # deleted at the source
    "denied": "deniedword",  # author denied by the organiser after collection
    "unindexable": "zebracorn",  # author with indexable = false
    "cw_body": "cwbodyword",  # content behind a content warning
    "cw_text": "Discussion of self-harm",  # the warning itself
    "searchable": "supervision",  # an ordinary indexable post
}


def _mastodon_author(name: str, display: str, **extra: Any) -> NormalizedAuthor:
    return NormalizedAuthor(
        platform="mastodon",
        uri=f"{MASTODON}/users/{name}",
        handle=f"{name}@mastodon.example",
        display_name=display,
        avatar_url=f"{MASTODON}/avatars/{name}.png",
        profile_url=f"{MASTODON}/@{name}",
        home_server="mastodon.example",
        **extra,
    )


def _bluesky_author(name: str, display: str, **extra: Any) -> NormalizedAuthor:
    return NormalizedAuthor(
        platform="bluesky",
        uri=f"did:plc:{name}",
        handle=f"{name}.bsky.example",
        display_name=display,
        avatar_url=f"https://cdn.bsky.example/avatar/{name}.jpg",
        profile_url=f"https://bsky.example/profile/{name}.bsky.example",
        **extra,
    )


ANA = _mastodon_author("ana", "Ānahera Ngata :wave:", emojis=(("wave", EMOJI),))
BEN = _bluesky_author("ben", "Ben Ōtaki")
CARLA = _mastodon_author("carla", "Carla", indexable=False)
DINA = _mastodon_author("dina", "دينا")
ELI = _bluesky_author("eli", "Eli")


def _tag_link(tag: str = TAG) -> str:
    return (
        f'<a href="{MASTODON}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'
    )


def _nz(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Auckland (NZDT, UTC+13 in November 2013) as UTC."""
    return datetime(2013, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=13)


def mastodon_post(
    key: str, author: NormalizedAuthor, when: datetime, html: str, **extra: Any
) -> NormalizedPost:
    emojis = extra.pop("emojis", ())
    return NormalizedPost(
        platform="mastodon",
        uri=f"{MASTODON}/users/{author.handle.split('@')[0]}/statuses/{key}",
        url=f"{MASTODON}/@{author.handle.split('@')[0]}/{key}",
        native_id=key,
        author=author,
        created_at=when,
        raw={"id": key},
        html=clean_post_html(html, dict(emojis)),
        text=extra.pop("text", ""),
        tags=extra.pop("tags", (TAG,)),
        emojis=emojis,
        **extra,
    )


def bluesky_post(
    key: str, author: NormalizedAuthor, when: datetime, text: str, **extra: Any
) -> NormalizedPost:
    html = "<p>" + text.replace("&", "&amp;").replace("<", "&lt;") + "</p>"
    return NormalizedPost(
        platform="bluesky",
        uri=f"at://{author.uri}/app.bsky.feed.post/{key}",
        url=f"https://bsky.example/profile/{author.handle}/post/{key}",
        native_id=f"at://{author.uri}/app.bsky.feed.post/{key}",
        author=author,
        created_at=when,
        raw={"uri": key},
        html=clean_post_html(html),
        text=text,
        tags=extra.pop("tags", (TAG,)),
        cid=f"cid-{key}",
        **extra,
    )


def fixture_posts() -> tuple[list[NormalizedPost], list[NormalizedPost]]:
    """(Mastodon posts, Bluesky posts) of the fixture event."""
    welcome = mastodon_post(
        "1001", ANA, _nz(14, 8, 30),
        f"<p>Kia ora koutou! {WORDS['welcome']} begins :wave: {_tag_link()}</p>",
        text=f"Kia ora koutou! {WORDS['welcome']} begins :wave: #{TAG}",
        emojis=(("wave", EMOJI),), language="mi",
    )  # fmt: skip
    mastodon = [
        mastodon_post(
            "1000", ANA, _nz(13, 21, 5),
            f"<p>Travelling to Ōtautahi for {_tag_link()} tomorrow</p>",
            text=f"Travelling to Ōtautahi for #{TAG} tomorrow", language="en",
        ),
        welcome,
        mastodon_post(
            "1002", CARLA, _nz(14, 9, 15),
            f"<p>My notes on {WORDS['unindexable']} supervision models {_tag_link()}</p>",
            text=f"My notes on {WORDS['unindexable']} supervision models #{TAG}", language="en",
        ),
        mastodon_post(
            "1003", DINA, _nz(14, 10, 0),
            f"<p>مرحبا بالجميع في المؤتمر {_tag_link()}</p>",
            text=f"مرحبا بالجميع في المؤتمر #{TAG}", language="ar",
        ),
        mastodon_post(
            "1004", ANA, _nz(14, 11, 45),
            f"<p>The panel on {WORDS['cw_body']} was hard to sit through {_tag_link()}</p>",
            text=f"The panel on {WORDS['cw_body']} was hard to sit through #{TAG}",
            content_warning=WORDS["cw_text"], sensitive=True, language="en",
            media=(NormalizedMedia("image", f"{MASTODON}/media/slide.png",
                                   alt="A slide titled Safety planning", width=800, height=600),),
        ),
        mastodon_post(
            "1005", ANA, _nz(14, 13, 0),
            f'<p>Slides from the keynote on {WORDS["searchable"]}: <a href="https://slides.example/keynote">slides.example/keynote</a> {_tag_link()}</p>',
            text=f"Slides from the keynote on {WORDS['searchable']}: https://slides.example/keynote #{TAG}",
            links=("https://slides.example/keynote",), language="en",
            media=(NormalizedMedia("image", f"{MASTODON}/media/keynote.jpg",
                                   alt="Keynote speaker at the lectern", width=1200, height=800),
                   NormalizedMedia("image", f"{MASTODON}/media/nodesc.jpg")),
            card={"url": "https://slides.example/keynote", "title": "Keynote slides",
                  "description": "Supervision in practice", "provider_name": "Slides"},
            edited_at=_nz(14, 13, 20),
        ),
        mastodon_post(
            "1006", DINA, _nz(14, 14, 0),
            f"<p>A question from the floor about whānau {_tag_link()} {_tag_link('practice')}</p>",
            text=f"A question from the floor about whānau #{TAG} #practice",
            tags=(TAG, "practice"), reply_to_uri="https://elsewhere.example/statuses/999",
            language="en",
        ),
        mastodon_post(
            "1007", DINA, _nz(14, 15, 0),
            f"<p>Secret {WORDS['hidden']} the curator hid {_tag_link()}</p>",
            text=f"Secret {WORDS['hidden']} the curator hid #{TAG}",
        ),
        mastodon_post(
            "1008", CARLA, _nz(15, 9, 0),
            f"<p>Day two: {WORDS['deleted']} soon {_tag_link()}</p>",
            text=f"Day two: {WORDS['deleted']} soon #{TAG}",
        ),
        mastodon_post(
            "1009", ANA, _nz(15, 16, 30),
            f"<p>Sensitive photo from the field visit {_tag_link()} {_tag_link('practice')}</p>",
            text=f"Sensitive photo from the field visit #{TAG} #practice",
            tags=(TAG, "practice"), sensitive=True,
            media=(NormalizedMedia("image", f"{MASTODON}/media/field.jpg",
                                   alt="People at a marae"),),
        ),
    ]  # fmt: skip
    bluesky = [
        bluesky_post(
            "3k1", BEN, _nz(14, 8, 45), f"Lovely welcome, Ana! #{TAG}",
            reply_to_uri=welcome.uri, reply_root_uri=welcome.uri, language="en",
        ),
        bluesky_post(
            "3k2", BEN, _nz(14, 12, 10), f"Worth reading again #{TAG}",
            quote_uri=welcome.uri, language="en",
        ),
        bluesky_post("3k3", ELI, _nz(14, 16, 0), f"Quietly {WORDS['denied']} here #{TAG}"),
        bluesky_post(
            "3k4", BEN, _nz(15, 10, 5), f"Kōrero about ethics, day two #{TAG}",
            links=("https://ethics.example/paper",), language="en",
        ),
    ]  # fmt: skip
    return mastodon, bluesky


def _store(
    database: Database, spec: EventSpec, batches: list[tuple[str, list[NormalizedPost]]]
) -> None:
    with database.writing() as session:
        event = create_event(session, spec)
        for platform, posts in batches:
            source = next(s for s in event.sources if s.platform == platform)
            save_page(session, source, TAG, Page(posts=posts, cursor={"n": 1}), Policy())


def build_fixture(url: str) -> Database:
    """The fixture event ``swrb13``, stored as collection would store it."""
    database = Database(url)
    database.init()
    mastodon, bluesky = fixture_posts()
    spec = EventSpec(
        slug="swrb13", title="SWRB conference 2013", hashtags=(TAG,), start="2013-11-14",
        end="2013-11-15", timezone="Pacific/Auckland",
        description="Social work research and practice, Ōtautahi Christchurch.",
        mastodon=(MASTODON,), bluesky=BLUESKY,
    )  # fmt: skip
    _store(database, spec, [("mastodon", mastodon), ("bluesky", bluesky)])
    with database.writing() as session:
        event = session.scalar(select(Event).where(Event.slug == "swrb13"))
        assert event is not None
        ids = {p.uri.rsplit("/", 1)[-1]: p.id for p in session.scalars(select(Post))}
        session.execute(
            update(EventPost).where(EventPost.post_id == ids["1007"]).values(state="hidden")
        )
        session.execute(
            update(EventPost).where(EventPost.post_id == ids["1001"]).values(state="featured")
        )
        session.execute(update(Post).where(Post.id == ids["1008"]).values(deleted_at=_nz(16, 9, 0)))
        session.add(ConsentOverride(event_id=event.id, handle="eli.bsky.example", decision="deny"))
        # Fixed dates: the story's feed and citation show them, and the golden files must
        # not change with the day the tests run.
        story = Story(event_id=event.id, slug="day-one", title="Day one in posts",
                      curator="Ngaio", description="The *first* day, as it was told.",
                      created_at=_nz(20, 9, 0), updated_at=_nz(20, 9, 0))  # fmt: skip
        story.items = [
            StoryItem(position=0, kind="heading", level=2, text="Arrivals"),
            StoryItem(position=1, kind="text", text="People **arrived** from all over."),
            StoryItem(position=2, kind="post", post_id=ids["1001"], annotation="The opening."),
            StoryItem(position=3, kind="post", post_id=ids["1007"]),  # hidden: shown as removed
            StoryItem(position=4, kind="post", post_id=ids["1005"], annotation="A reply."),
        ]
        session.add(story)
    return database


def add_late_post(
    database: Database, key: str = "1010", when: datetime | None = None, **extra: Any
) -> NormalizedPost:
    """One more post (an incremental collection): on the last day unless ``when``."""
    post = mastodon_post(
        key, ANA, when or _nz(15, 17, 0),
        f"<p>Thanks everyone, see you next year {_tag_link()}</p>",
        text=f"Thanks everyone, see you next year #{TAG}", **extra,
    )  # fmt: skip
    with database.writing() as session:
        source = session.scalar(select(EventSource).where(EventSource.platform == "mastodon"))
        assert source is not None
        save_page(session, source, TAG, Page(posts=[post], cursor={"n": 2}), Policy())
    return post


def hide_post(database: Database, key: str) -> None:
    with database.writing() as session:
        post_id = session.scalar(select(Post.id).where(Post.uri.endswith(f"/{key}")))
        session.execute(
            update(EventPost).where(EventPost.post_id == post_id).values(state="hidden")
        )


# -- hostile content -----------------------------------------------------------------

HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_LANG = 'en" onclick="x'  # fits the 16 characters of Post.language


def build_hostile(url: str) -> Database:
    """An event whose every field tries to run code or reach another host."""
    database = Database(url)
    database.init()
    evil = NormalizedAuthor(
        platform="mastodon",
        uri=f"{MASTODON}/users/evil",
        handle="evil@mastodon.example",
        display_name=f'Eve {HOSTILE_SCRIPT} "><img src=x onerror=alert(2)> :bad:',
        avatar_url="javascript:alert(3)",
        profile_url="javascript:alert(4)",
        emojis=(("bad", "javascript:alert(5)"), ("ok", "https://evil.example/e.png")),
    )
    raw_html = (
        '<p onclick="alert(6)" style="background:url(https://evil.example/bg.png)">Hello '
        '<a href="javascript:alert(7)">js link</a> <a href="data:text/html,<script>alert(8)</script>">data link</a> '
        '<img src="https://evil.example/pixel.gif" onerror="alert(9)"> :ok: '
        '<svg onload="alert(10)"><script>alert(11)</script></svg>'
        '<iframe src="https://evil.example/frame"></iframe>'
        f"{HOSTILE_SCRIPT}<style>body{{display:none}}</style> {_tag_link()}</p>"
    )
    posts = [
        mastodon_post(
            "6001", evil, _nz(14, 9, 0), raw_html, text="Hello hostile",
            emojis=(("ok", "https://evil.example/e.png"),),
            content_warning=f'{HOSTILE_SCRIPT}<img src=x onerror=alert(12)>',
            media=(NormalizedMedia("image", "javascript:alert(13)",
                                   alt='"><script>alert(14)</script>'),
                   NormalizedMedia("image", "https://evil.example/img.svg",
                                   alt="<svg onload=alert(15)>")),
            card={"url": "javascript:alert(16)", "title": HOSTILE_SCRIPT},
            links=("javascript:alert(17)",),
        ),
        mastodon_post(
            "6002", evil, _nz(14, 10, 0), "<p>plain</p>", text="plain",
            poll={"options": [{"title": HOSTILE_SCRIPT, "votes_count": 1}]},
            language=HOSTILE_LANG,
            quote_uri="javascript:alert(19)",
            quote_snapshot={"url": "javascript:alert(20)", "text": HOSTILE_SCRIPT},
        ),
    ]  # fmt: skip
    spec = EventSpec(
        slug="hostile", title=f"Hostile {HOSTILE_SCRIPT}", hashtags=(TAG,),
        start="2013-11-14", end="2013-11-15", timezone="Pacific/Auckland",
        description=f'<img src=x onerror=alert(21)> {HOSTILE_SCRIPT}', mastodon=(MASTODON,),
    )  # fmt: skip
    _store(database, spec, [("mastodon", posts)])
    # A row as a buggy collector might leave it: raw HTML that never saw the sanitiser.
    with database.writing() as session:
        session.execute(update(Post).where(Post.uri.endswith("/6002")).values(html=raw_html))
    return database
