"""The Bluesky half of the demo event, generated from ``conference.SEED``.

About 800 posts by fictional people: a few very active posters and many occasional
ones, bursts during keynotes, threads, replies and quotes, and every awkward thing
real Bluesky data does (see platform-apis.md B3-B5): hashtag case variants and tags
only in ``tags[]``, images with empty alt text, a video, self-labels, te reo Māori,
ZWJ emoji and right-to-left text with facets at UTF-8 byte offsets, a few broken
facets, mixed createdAt formats, a record the SDK cannot validate, authors labelled
``!no-unauthenticated``, deleted and edited posts, posts outside the window, and late
posts that arrive with ``world.advance()``. Same seed, same world, byte for byte.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from backchannel.sandbox import bluesky_demo_text as words
from backchannel.sandbox import conference
from backchannel.sandbox.bluesky_demo_base import CUTOFF, EMBED, DemoBase, slug, tag_facet
from backchannel.sandbox.bluesky_ids import CREATED_STYLES
from backchannel.sandbox.bluesky_model import POST_TYPE, Account, Post
from backchannel.sandbox.bluesky_text import RichText, facet, link_feature, tag_feature
from backchannel.sandbox.bluesky_world import World


def build_demo_world(seed: int = conference.SEED) -> World:
    """The demo world: deterministic for a given ``seed``."""
    return _Builder(seed).build()


class _Builder(DemoBase):
    def build(self) -> World:
        self._accounts()
        for _ in range(470):
            self._original(self._author(), self._when())
        self._threads()
        self._replies(150)
        self._quotes(40)
        self._specials()
        self._chatter(25)
        self._outside()
        self._late(20)
        self._mutations()
        self.world.clock = CUTOFF  # until world.advance(): the late posts are still to come
        return self.world

    def _accounts(self) -> None:
        rng, world = self.rng, self.world
        password = "-".join(
            slug(hashlib.sha256(f"{self.seed}:{i}".encode()).hexdigest())[:4] for i in range(4)
        )
        world.login = world.add_account(
            "archivist.bsky.example", "Symposium Archive", app_password=password, avatar=False
        )
        self.conf = world.add_account(
            "swrs26.example.org", "SWRS 2026 🎓", description=conference.TITLE
        )
        pairs = [(g, f) for g in words.GIVEN for f in words.FAMILY]
        rng.shuffle(pairs)
        for i, (given, family) in enumerate(pairs[:100]):
            display = f"{given} {family}"
            if i % 17 == 3:
                display += " " + rng.choice(words.EMOJI)
            if i == 11:
                display = "ليلى حداد"  # a right-to-left display name
            handle = f"{slug(given)}{slug(family)}.{rng.choice(words.DOMAINS)}"
            account = world.add_account(
                handle,
                display,
                created_at=datetime(2023, 4, 1, tzinfo=conference.STARTS_AT.tzinfo)
                + timedelta(days=rng.randrange(900)),
                description="Social worker and researcher. Views my own.",
                opted_out=i in (7, 23, 61),  # !no-unauthenticated on their profile
                avatar=i % 9 != 0,
            )
            self.people.append(account)
            self.weights.append(30.0 if i < 5 else 5.0 if i < 17 else 1.0)
        self.opted_out = [p for p in self.people if p.opted_out]
        self.invalid_handle = world.add_account("handle.invalid", "Former Handle")
        self.bot = world.add_account("promo-deals.bsky.example", "Best Deals 24/7", avatar=False)

    def _original(self, author: Account, when: datetime) -> Post:
        rng = self.rng
        rt, langs, embed = RichText(), ["en"], None
        roll = rng.random()
        if roll < 0.12:
            rt.add(rng.choice(words.REO) + " ")
            langs = ["mi", "en"]
        elif roll < 0.16:
            rt.add(rng.choice(words.RTL) + " · ")
            langs = ["ar" if "ا" in rt.text else "he", "en"]
        rt.add(f"{rng.choice(words.OPENERS)} {self._session(when)}: ")
        if rng.random() < 0.1:
            speaker = rng.choice(self.people)
            rt.mention(speaker.handle, speaker.did).add(" says ")
        rt.add(rng.choice(words.TAKEAWAYS))
        if rng.random() < 0.3:
            rt.add(" " + rng.choice(words.EMOJI))
        roll = rng.random()
        if roll < 0.08:
            slug, title, description = rng.choice(words.PAPERS)
            uri = f"https://papers.example.org/swrs26/{slug}"
            rt.add(" Paper: ").link(uri, f"papers.example.org/swrs26/{slug[:10]}…")
            external = {"uri": uri, "title": title, "description": description}
            if rng.random() < 0.7:
                external["thumb"] = self._blob_png(64, 36)
            embed = {"$type": f"{EMBED}.external", "external": external}
        elif roll < 0.23:
            embed = self._images(rng.choice((1, 1, 1, 2, 3, 4)))
        self._end_tags(rt, self._tags())
        post = self._post(author, rt, when, langs=langs, embed=embed)
        self.tagged.append(post)
        return post

    def _threads(self) -> None:
        for author in self.people[:6]:
            when = min(self._when(), CUTOFF - timedelta(minutes=10))
            parts = self.rng.randint(3, 5)
            parent: Post | None = None
            for n in range(1, parts + 1):
                rt = RichText().add(f"🧵 {n}/{parts} {self.rng.choice(words.TAKEAWAYS)}")
                if n == 1 or self.rng.random() < 0.5:
                    self._end_tags(rt, self._tags())
                parent = self._post(author, rt, when, reply_to=parent)
                when += timedelta(seconds=self.rng.randint(20, 90))

    def _replies(self, count: int) -> None:
        early = [p for p in self.tagged if p.sort_at < CUTOFF - timedelta(hours=1)]
        for _ in range(count):
            parent = self.rng.choice(early)
            author = self._author()
            when = parent.sort_at + timedelta(minutes=self.rng.uniform(1, 50))
            rt = RichText()
            if self.rng.random() < 0.3:
                rt.mention(parent.author.handle, parent.author.did).add(" ")
            rt.add(self.rng.choice(words.REPLIES))
            if self.rng.random() < 0.6:  # the rest carry no tag, so search never finds them
                self._end_tags(rt, self._tags())
            reply = self._post(author, rt, when, reply_to=parent)
            if self.rng.random() < 0.2 and reply.sort_at < CUTOFF - timedelta(hours=1):
                early.append(reply)  # threads grow deeper than one level

    def _quote(self, quoted: Post, media: dict[str, Any] | None = None, **options: Any) -> Post:
        when = quoted.sort_at + timedelta(minutes=self.rng.uniform(2, 30))
        rt = self._end_tags(
            RichText().add(self.rng.choice(("This 👇", "Worth reading:", "So much this."))),
            self._tags(),
        )
        return self._post(
            self._author(), rt, when, embed=self._quote_embed(quoted, media), **options
        )

    def _quotes(self, count: int) -> None:
        for i in range(count):
            media = self._images(1) if i % 5 == 0 else None  # recordWithMedia
            self._quote(self.rng.choice(self.tagged), media)
        self._quote(self.rng.choice(self.tagged), quote_view="detached")
        self._quote(self.rng.choice(self.tagged), quote_view="blocked")
        gone = self._original(self._author(), self._when())
        self.tagged.remove(gone)
        self._quote(gone)
        self.world.delete(gone.uri)  # quoted, then deleted: the quote shows viewNotFound

    def _specials(self) -> None:
        self._tag_only_posts()
        self._media_and_labels()
        self._broken()
        for style in CREATED_STYLES:  # at least one createdAt of each shape
            self._post(
                self._author(),
                self._end_tags(RichText().add(f"Format {style}"), ["swrs26"]),
                self._when(),
                created_style=style,
            )
        for minutes in (3, 7, 10):  # the client's clock runs ahead: sortAt is indexedAt
            when = self._when()
            self._post(
                self._author(),
                self._end_tags(RichText().add("Clock ahead"), ["swrs26"]),
                when + timedelta(minutes=minutes),
                indexed_at=when,
            )
        when = self._when()
        self._post(
            self._author(),
            self._end_tags(RichText().add("From the future"), ["swrs26"]),
            when.replace(year=2027),
            indexed_at=when,
        )
        family = RichText().add("Whānau day at the symposium 👨‍👩‍👧‍👧 ").tag("SWRS26")
        self._post(self._author(), family, self._when(), langs=["en", "mi"])
        for account in self.opted_out:
            for _ in range(4):
                self._original(account, self._when())
        for _ in range(2):
            self._original(self.invalid_handle, self._when())

    def _tag_only_posts(self) -> None:
        """Hashtags only in the record's tags[]: a tag search finds them, the text shows none."""
        for i in range(15):
            rt = RichText().add(
                f"{self.rng.choice(words.OPENERS)} {self.rng.choice(words.TAKEAWAYS)}"
            )
            tags = [("swrs26", "SWRS26", "Swrs26")[i % 3]] + (
                ["socialworkresearch"] if i % 4 == 0 else []
            )
            self.tagged.append(self._post(self._author(), rt, self._when(), record_tags=tags))

    def _media_and_labels(self) -> None:
        for alt in ("", "Short clip of the closing waiata, everyone standing."):
            data = (
                b"\x00\x00\x00\x18ftypmp42"
                + hashlib.sha256(f"{self.seed}:video:{alt}".encode()).digest() * 64
            )
            video = {
                "$type": f"{EMBED}.video",
                "video": self.world.add_blob(data, "video/mp4"),
                "alt": alt,
                "aspectRatio": {"width": 1280, "height": 720},
            }
            rt = self._end_tags(RichText().add("The closing waiata 🎶"), ["swrs26"])
            self._post(self._author(), rt, self._when(), embed=video)
        labelled = (
            ("graphic-media", "Content note: slides from the case study show injuries."),
            ("sexual", "Sex work research session: slides include explicit language."),
            ("nudity", "Art therapy workshop: life drawing from the session."),
        )
        for label, text in labelled:
            rt = self._end_tags(RichText().add(text), ["swrs26"])
            self._post(self._author(), rt, self._when(), embed=self._images(1), self_labels=[label])
        spam = self._end_tags(
            RichText().add("HOT deals 🔥 click the link in bio"), ["swrs26", "socialworkresearch"]
        )
        self._post(self.bot, spam, self._when(), self_labels=["porn"])

    def _broken(self) -> None:
        """Facets as broken as real ones (B4); the hashtags stay in the text."""
        author, tag = self._author(), "swrs26"
        text = f"Tēnā koutou #{tag}"  # "ē" is two bytes: byte 2 is inside it
        self._raw(
            author, text, [facet(2, 7, link_feature("https://example.org")), tag_facet(text, tag)]
        )
        text = f"See https://example.org/x #{tag}"
        start = text.index("https")
        self._raw(
            author,
            text,
            [facet(start, len(text), link_feature("https://example.org/x")), tag_facet(text, tag)],
        )
        text = f"Past the end #{tag}"
        self._raw(author, text, [facet(13, len(text.encode()) + 12, tag_feature(tag))])
        text = f"Bold claim #{tag}"
        odd = {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": 0, "byteEnd": 4},
            "features": [{"$type": "app.bsky.richtext.facet#bold"}],
        }
        self._raw(author, text, [odd, tag_facet(text, tag)])
        text = f"Missing tag key #{tag}"
        missing = facet(16, len(text.encode()), {"$type": "app.bsky.richtext.facet#tag"})
        self._raw(author, text, [missing], invalid=True)  # the SDK's Record model rejects it
        record = {
            "$type": POST_TYPE,
            "text": f"langs is a string here #{tag}",
            "createdAt": "",
            "langs": "en",
        }
        self._raw(author, record["text"], None, record=record, invalid=True)

    def _chatter(self, count: int) -> None:
        for _ in range(count):  # untagged: a correct collector never sees these
            rt = RichText().add(
                self.rng.choice(
                    ("Lunch was excellent.", "Where is room 3?", "Coffee queue is long ☕")
                )
            )
            self._post(self._author(), rt, self._when())

    def _outside(self) -> None:
        for i in range(24):
            before = i % 2 == 0
            days = timedelta(days=self.rng.randint(1, 10), hours=self.rng.randint(0, 12))
            when = conference.STARTS_AT - days if before else conference.ENDS_AT + days
            template = self.rng.choice(words.BEFORE if before else words.AFTER)
            tag = self.rng.choice(("swrs26", "SWRS26", "socialworkresearch"))
            prefix, _, _ = template.partition("#{tag}")
            rt = RichText().add(prefix).tag(tag).add(template.split("#{tag}", 1)[1])
            self._post(self._author(), rt, when)
        # Either side of the window's edges (event start and end minus/plus one hour).
        for minutes in (-70, -50, 55, 65):
            edge = conference.STARTS_AT if minutes < 0 else conference.ENDS_AT
            rt = self._end_tags(RichText().add("Near the edge"), ["swrs26"])
            self._post(
                self._author(),
                rt,
                edge + timedelta(minutes=minutes),
                created_style="ms",
                indexed_at=edge + timedelta(minutes=minutes, seconds=1),
            )

    def _late(self, count: int) -> None:
        span = (conference.ENDS_AT + timedelta(minutes=50)) - CUTOFF
        for i in range(count):
            when = CUTOFF + span * (i + self.rng.random()) / count
            rt = self._end_tags(
                RichText().add(f"Late thoughts: {self.rng.choice(words.TAKEAWAYS)}"), self._tags()
            )
            self._post(self._author(), rt, when, late=True)

    def _mutations(self) -> None:
        chosen = self.rng.sample(self.tagged, 6)
        for post in chosen[:3]:
            self.world.delete_after_served(post.uri)
        self.world.edit_after_served(
            chosen[3].uri, chosen[3].record["text"] + " (edited: fixed a typo)"
        )
        for post in chosen[4:]:
            self.world.delete(post.uri)  # deleted before anyone collected them
