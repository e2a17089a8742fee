"""Building blocks for the Bluesky demo world: people, moments, media, posts.

:class:`DemoBase` holds the random source and the small helpers the demo generator
(:mod:`backchannel.sandbox.bluesky_demo`) composes posts from. Everything draws on
one ``random.Random(seed)`` in a fixed order, so the same seed gives the same world.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from backchannel.sandbox import bluesky_demo_text as words
from backchannel.sandbox import conference
from backchannel.sandbox.bluesky_ids import CREATED_STYLES, format_datetime
from backchannel.sandbox.bluesky_model import POST_TYPE, Account, Post
from backchannel.sandbox.bluesky_text import RichText, facet, tag_feature
from backchannel.sandbox.bluesky_world import World
from backchannel.sandbox.images import png

EMBED = "app.bsky.embed"
_STYLE_WEIGHTS = (78, 7, 6, 5, 4)  # ms, offset, micro, naive, local (CREATED_STYLES)
# The world stands here until world.advance(): posts with a later sortAt are late.
CUTOFF = conference.ENDS_AT - timedelta(minutes=30)


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def tag_facet(text: str, tag: str) -> dict[str, Any]:
    """A correct facet for ``#tag`` at the very end of ``text``."""
    end = len(text.encode("utf-8"))
    return facet(end - len(tag.encode("utf-8")) - 1, end, tag_feature(tag))


class DemoBase:
    """Random source, people and post helpers shared by the demo generator."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.world = World(seed=seed)
        self.people: list[Account] = []
        self.weights: list[float] = []
        self.tagged: list[Post] = []  # tagged originals: what replies and quotes point at
        self._blobs = 0

    def _author(self) -> Account:
        return self.rng.choices(self.people, self.weights)[0]

    def _when(self) -> datetime:
        """A moment in the event, with bursts during keynotes."""
        spans: list[tuple[datetime, datetime, float]] = []
        for session in conference.SESSIONS:
            minutes = (session.ends_at - session.starts_at).total_seconds() / 60
            spans.append(
                (session.starts_at, session.ends_at, minutes * (6.0 if session.keynote else 2.0))
            )
        for day in range(conference.DAYS):
            start = conference.STARTS_AT + timedelta(days=day)
            spans.append((start, start + timedelta(hours=9), 540 * 0.6))
        evening = conference.STARTS_AT.replace(hour=18)
        spans.append((evening, evening + timedelta(hours=4), 240 * 0.4))
        start, end, _ = self.rng.choices(spans, [s[2] for s in spans])[0]
        when = start + (end - start) * self.rng.random()
        return min(when, CUTOFF - timedelta(seconds=self.rng.randrange(60, 3600)))

    def _style(self) -> str:
        return self.rng.choices(CREATED_STYLES, _STYLE_WEIGHTS)[0]

    def _session(self, when: datetime) -> str:
        for session in conference.SESSIONS:
            if session.starts_at <= when < session.ends_at:
                title = session.title
                return (
                    f"the {title.split(':')[0].lower()}"
                    if session.keynote
                    else title.split(": ", 1)[1]
                )
        return "today's sessions"

    def _tags(self) -> list[str]:
        rng = self.rng
        primary = rng.choice(("swrs26",) * 6 + ("SWRS26",) * 2 + ("Swrs26",))
        second = rng.choice(("socialworkresearch", "socialworkresearch", "SocialWorkResearch"))
        roll = rng.random()
        return [second] if roll < 0.1 else [primary, second] if roll < 0.4 else [primary]

    def _blob_png(self, width: int, height: int) -> dict[str, Any]:
        self._blobs += 1
        return self.world.add_blob(
            png(f"{self.seed}:image:{self._blobs}", width, height), "image/png"
        )

    def _images(self, count: int) -> dict[str, Any]:
        images = []
        for _ in range(count):
            width, height = self.rng.choice(((64, 48), (48, 64), (64, 36), (56, 56)))
            alt = "" if self.rng.random() < 0.5 else self.rng.choice(words.ALTS)  # "" is common
            images.append(
                {
                    "alt": alt,
                    "image": self._blob_png(width, height),
                    "aspectRatio": {"width": width * 20, "height": height * 20},
                }
            )
        return {"$type": f"{EMBED}.images", "images": images}

    def _counts(self) -> tuple[int, int, int]:
        likes = min(int(self.rng.paretovariate(1.1)) - 1, 400)
        return 0, likes // self.rng.randint(3, 8), likes

    def _post(self, author: Account, rt: RichText, when: datetime, **options: Any) -> Post:
        options.setdefault("created_style", self._style())
        options.setdefault("counts", self._counts())
        options.setdefault("indexed_at", when + timedelta(seconds=self.rng.uniform(0.5, 30)))
        # Before world.advance() the world stands at CUTOFF: anything later is late.
        if min(when, options["indexed_at"]) >= CUTOFF:
            options["late"] = True
        return self.world.post(author, rt.text, created_at=when, facets=rt.facets, **options)

    def _end_tags(self, rt: RichText, tags: list[str]) -> RichText:
        for tag in tags:
            rt.add(" ").tag(tag)
        return rt

    def _quote_embed(self, quoted: Post, media: dict[str, Any] | None = None) -> dict[str, Any]:
        record = {"$type": f"{EMBED}.record", "record": quoted.strong_ref()}
        if media is None:
            return record
        return {"$type": f"{EMBED}.recordWithMedia", "record": record, "media": media}

    def _raw(
        self,
        author: Account,
        text: str,
        facets: list[dict[str, Any]] | None,
        *,
        record: dict[str, Any] | None = None,
        invalid: bool = False,
    ) -> Post:
        when = self._when()
        record = record or {"$type": POST_TYPE, "text": text, "langs": ["en"]}
        record["createdAt"] = format_datetime(when)
        if facets is not None:
            record["facets"] = facets
        return self.world.add_post(
            author, record, indexed_at=when + timedelta(seconds=3), invalid=invalid
        )
