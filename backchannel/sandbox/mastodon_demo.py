"""The Mastodon half of the generated demo event, deterministic from a seed.

``build_demo_world(seed=conference.SEED)`` returns a :class:`MastodonWorld` with
three source instances (``SOURCES``, registered in the demo config) and two more
(``EXTRAS``) that are home to some authors but not collected from. About 1,500
posts: bursts during keynotes, a few very active posters and many occasional ones,
replies, threads and quotes, link cards, images with and without alt text, content
warnings, custom emoji, te reo Māori, RTL scripts and ZWJ emoji, hashtag case
variants, unlisted/private posts with the tag, boosts, posts outside and at the edges
of the event window, opted-out authors and bots, and changes that happen at step 1
(``world.advance()``): late-federated posts with backdated ids arrive, some posts
are deleted and some edited.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from backchannel.sandbox import conference
from backchannel.sandbox import mastodon_demo_text as words
from backchannel.sandbox.mastodon_world import Account, Card, Edit, MastodonWorld, Media, Poll, Post

log = logging.getLogger(__name__)

SOURCES = ("kea.example", "tui.example", "ruru.example")
EXTRAS = ("weka.example", "kaka.example")
TITLES = {
    "kea.example": "Kea Social",
    "tui.example": "Tūī Network",
    "ruru.example": "Ruru Research Commons",
    "weka.example": "Weka Town",
    "kaka.example": "Kākā Cafe",
}
EMOJI = {"kea.example": ("kea", "blobheart"), "tui.example": ("tui", "koru"), "ruru.example": ("ruru",),
         "weka.example": ("weka",), "kaka.example": ("kaka", "flax")}  # fmt: skip
HOME_WEIGHTS = (34, 30, 24, 14, 14)  # accounts per instance, in SOURCES + EXTRAS order
PRIMARY_VARIANTS = ("#SWRS26", "#swrs26", "#Swrs26", "#swrs26", "#SWRS26")
SECOND_VARIANTS = ("#socialworkresearch", "#SocialWorkResearch")
MAIN_POSTS = 1310
MARGIN = timedelta(hours=1)


def build_demo_world(seed: int = conference.SEED) -> MastodonWorld:
    """The demo world: same seed, same world (ids, texts, schedule)."""
    return _Builder(seed).build()


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = MastodonWorld()
        self.people: list[Account] = []
        self.weights: list[float] = []
        self.visible: dict[str, set[str]] = {}  # account key -> instances that see it
        self.tagged: list[Post] = []  # public tagged in-window posts, for replies/quotes
        self.media_count = 0

    def build(self) -> MastodonWorld:
        world = self.world
        for name in SOURCES + EXTRAS:
            world.add_instance(name, TITLES[name])
            for code in EMOJI[name]:
                world.add_emoji(name, code)
        world.sources = list(SOURCES)
        self._accounts()
        self._main_posts()
        self._threads()
        self._special_posts()
        self._schedule_changes()
        log.debug("demo world: %d accounts, %d posts", len(world.accounts), len(world.posts))
        return world

    # -- accounts -------------------------------------------------------------------

    def _accounts(self) -> None:
        rng, names = self.rng, SOURCES + EXTRAS
        homes = [n for n, w in zip(names, HOME_WEIGHTS, strict=True) for _ in range(w)]
        rng.shuffle(homes)
        used: set[str] = set()
        for index, home in enumerate(homes):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
            attrs: dict[str, object] = {}
            username = _username(first, last, used)
            display = f"{first} {last}"
            if index % 13 == 0:
                display += f" :{rng.choice(EMOJI[home])}:"
            elif index % 17 == 0:
                display += f" {rng.choice(words.ZWJ)}"
            note = f"{rng.choice(words.ROLES)} in {rng.choice(words.PLACES)}. Views my own."
            fields = [("Pronouns", rng.choice(("she/her", "he/him", "they/them", "ia")))]
            # Opt-outs, each at a fixed index so every kind exists whatever the seed.
            if index in (23, 41, 88):
                attrs["noindex"] = True
                if index == 88:  # its noindex is only visible at a home that is not a source
                    home = EXTRAS[0]
            if index in (9, 60):
                note += " Please do not archive my posts. #nobot"
            if index in (14, 77):
                fields.append(("Archiving", "#noarchive"))
            if index in (20, 50, 95, 100):
                attrs["indexable"] = False
                attrs["discoverable"] = None if index % 2 else False
            others = [n for n in names if n != home]
            seen_by = [n for n in others if rng.random() < 0.42]
            if index < 12:  # the very active posters are widely followed
                seen_by = [n for n in others if rng.random() < 0.8]
            account = self.world.add_account(
                username, home, seen_by=seen_by, display_name=display, note=note, fields=fields,
                avatar=None if index % 7 == 3 else f"avatar-{username}",
                avatar_description="" if index % 3 else "A drawn portrait.",
                created_at=conference.STARTS_AT - timedelta(days=200 + rng.randrange(900)),
                **attrs,
            )  # fmt: skip
            self.people.append(account)
            self.weights.append(1.0 / (index + 1) ** 0.9)  # a long tail of occasional posters
            self.visible[account.key] = {home, *seen_by}
        self.bots = []
        for name, home in (("swrs26_bot", "kea.example"), ("sessionbot", "weka.example")):
            bot = self.world.add_account(
                name, home, seen_by=[n for n in SOURCES if n != home], display_name="SWRS26 bot 🤖",
                note="Automated session announcements.", bot=True,
            )  # fmt: skip
            self.bots.append(bot)
            self.visible[bot.key] = {home, *SOURCES}

    # -- posts ---------------------------------------------------------------------

    def _when(self) -> datetime:
        rng = self.rng
        if rng.random() < 0.15:
            span = (conference.ENDS_AT - conference.STARTS_AT).total_seconds()
            return conference.STARTS_AT + timedelta(seconds=rng.uniform(0, span))
        weights = [5.0 if s.keynote else 1.0 for s in conference.SESSIONS]
        session = rng.choices(conference.SESSIONS, weights)[0]
        span = (session.ends_at - session.starts_at).total_seconds()
        if session.keynote:  # the burst: most posts in the first half hour
            return session.starts_at + timedelta(seconds=min(span, rng.expovariate(1 / 1200)))
        return session.starts_at + timedelta(seconds=rng.uniform(0, span))

    def _tags(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return rng.choice(PRIMARY_VARIANTS)
        if roll < 0.85:
            return rng.choice(SECOND_VARIANTS)
        return f"{rng.choice(PRIMARY_VARIANTS)} {rng.choice(SECOND_VARIANTS)}"

    def _body(self, author: Account) -> tuple[str, str]:
        """(text, language) of an ordinary post."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return f"{rng.choice(words.TE_REO)} {self._tags()}", "mi"
        if roll < 0.11:
            language, phrase = rng.choice(words.RTL)
            return f"{phrase} {self._tags()}", language
        body = f"{rng.choice(words.OPENERS)} {rng.choice(words.IDEAS)}. {rng.choice(words.CLOSERS)}"
        tags = self._tags()
        if rng.random() < 0.5:
            body = f"{body} {tags}"
        else:
            body = f"{body}\n\n{tags}"
        if roll > 0.97:
            body = f"{rng.choice(words.ZWJ)} {body}"
        if rng.random() < 0.04:
            body += f" :{rng.choice(EMOJI[author.home])}:"
        if rng.random() < 0.12:
            other = rng.choice(self.people)
            if other.key != author.key:
                body = f"@{other.username}@{other.home} {body}"
        return body.replace(" \n", "\n").replace(".  ", ". "), "en"

    def _extras(self, created_at: datetime) -> dict[str, object]:
        rng, attrs = self.rng, {}
        roll = rng.random()
        if roll < 0.13:
            attrs["media"] = [self._media() for _ in range(rng.choice((1, 1, 2)))]
            if rng.random() < 0.15:
                attrs["sensitive"] = True
        elif roll < 0.2:
            url, title, provider, description = rng.choice(words.LINKS)
            image = f"card-{url.rsplit('/', 1)[-1]}" if rng.random() < 0.6 else None
            attrs["card"] = Card(url, title, description, provider, image)
            attrs["_link"] = url
        elif roll < 0.205:
            options = rng.choice(words.POLL_OPTIONS)
            attrs["poll"] = Poll(list(options), created_at + timedelta(hours=6))
        if rng.random() < 0.025:
            attrs["spoiler_text"] = rng.choice(words.CW_TOPICS)
            attrs["sensitive"] = True
        return attrs

    def _media(self) -> Media:
        self.media_count += 1
        rng = self.rng
        description = rng.choice(words.ALT_TEXTS) if rng.random() < 0.6 else None
        width, height = rng.choice(((96, 64), (64, 96), (80, 80)))
        focus = (
            (round(rng.uniform(-1, 1), 2), round(rng.uniform(-1, 1), 2))
            if rng.random() < 0.3
            else None
        )
        return Media(f"img-{self.media_count:04d}", description, width, height, focus)

    def _post(self, author: Account, when: datetime, body: str, **attrs: object) -> Post:
        link = attrs.pop("_link", None)
        if link:
            body = body.replace("\n\n", f" {link}\n\n", 1) if "\n\n" in body else f"{body} {link}"
        attrs.setdefault("favourites_count", self.rng.randrange(0, 30))
        attrs.setdefault("reblogs_count", self.rng.randrange(0, 8))
        if author.home in SOURCES and self.rng.random() < 0.5:
            attrs.setdefault("application", self.rng.choice(("Web", "Tusky", "Ivory", "Phanpy")))
        return self.world.add_post(author, body, created_at=when, **attrs)

    def _main_posts(self) -> None:
        rng = self.rng
        for _ in range(MAIN_POSTS):
            author = rng.choices(self.people, self.weights)[0]
            when = self._when()
            body, language = self._body(author)
            attrs = self._extras(when)
            parent = self._pick_related(author, when) if rng.random() < 0.12 else None
            if parent is not None:
                attrs["in_reply_to"] = parent.key
                parent_author = self.world.accounts[parent.author]
                body = f"@{parent_author.username}@{parent_author.home} {body}"
            elif rng.random() < 0.03:
                quoted = self._pick_related(author, when)
                if quoted is not None:
                    attrs["quote_of"] = quoted.key
            post = self._post(author, when, body, language=language, **attrs)
            self.tagged.append(post)
        for bot in self.bots:
            for session in conference.SESSIONS:
                self._post(bot, session.starts_at, f"Now starting: {session.title} #SWRS26")

    def _pick_related(self, author: Account, when: datetime) -> Post | None:
        """An earlier post seen wherever ``author`` is seen, so ids resolve everywhere."""
        need = self.visible[author.key]
        for _ in range(8):
            if not self.tagged:
                return None
            candidate = self.rng.choice(self.tagged[-200:])
            ok = need <= self.visible[candidate.author] and candidate.created_at < when
            if ok and candidate.author != author.key:
                return candidate
        return None

    def _threads(self) -> None:
        """Self-threads (1/3, 2/3, ...) by the most active posters; replies drop the tag."""
        rng = self.rng
        for index in range(14):
            author = self.people[index % 8]
            when = self._when()
            parts = rng.choice((2, 3, 4))
            previous = self._post(
                author, when, f"A thread on this session 🧵 1/{parts} {self._tags()}"
            )
            for part in range(2, parts + 1):
                when += timedelta(minutes=rng.randrange(1, 4))
                body = f"{part}/{parts} {rng.choice(words.IDEAS).capitalize()}."
                if rng.random() < 0.5:
                    body += f" {self._tags()}"
                previous = self._post(author, when, body, in_reply_to=previous.key)

    def _special_posts(self) -> None:
        rng, start, end = self.rng, conference.STARTS_AT, conference.ENDS_AT
        people = self.people[:60]
        # Outside the window: hype days before, reflections days after.
        for index in range(28):
            when = (
                start - timedelta(days=rng.uniform(1.5, 6))
                if index % 2
                else end + timedelta(days=rng.uniform(1, 4))
            )
            self._post(
                rng.choice(people), when, f"{rng.choice(words.IDEAS).capitalize()}. {self._tags()}"
            )
        # At the edges of the window (start - margin, end + margin), 10 s either side.
        for edge in (start - MARGIN, end + MARGIN):
            for offset in (-10, 10):
                self._post(
                    rng.choice(people),
                    edge + timedelta(seconds=offset),
                    f"Edge of the day {self._tags()}",
                )
        # Tagged, but never in a tag timeline.
        for index, visibility in enumerate(["unlisted"] * 24 + ["private"] * 10 + ["direct"] * 4):
            self._post(rng.choice(people), self._when(), f"Just for my followers, {index}: {self._tags()}",
                       visibility=visibility)  # fmt: skip
        # Boosts: wrappers exist (statuses/:id) but never appear in tag timelines.
        for _ in range(30):
            original = rng.choice(self.tagged)
            booster = rng.choice(people)
            self.world.add_boost(
                booster, original, original.created_at + timedelta(minutes=rng.randrange(1, 90))
            )
        # Late federation: authors on the extra instances, posts in the last 6 hours,
        # reaching the sources only at step 1 (ids backdated to created_at).
        remote = [p for p in self.people if p.home in EXTRAS and not p.noindex]
        for index in range(26):
            when = end - timedelta(minutes=rng.uniform(10, 350))
            arrives = {s: 1 for s in SOURCES if rng.random() < 0.6} or {SOURCES[index % 3]: 1}
            arrives.update({s: 1_000_000 for s in SOURCES if s not in arrives})
            self._post(rng.choice(remote), when, f"Late to the party: {rng.choice(words.IDEAS)}. {self._tags()}",
                       arrives=arrives)  # fmt: skip

    def _schedule_changes(self) -> None:
        """Edits already made (step 0), and deletions and edits that happen at step 1."""
        rng = self.rng
        referenced = {p.in_reply_to for p in self.world.posts.values()} | {
            p.quote_of for p in self.world.posts.values()
        }
        candidates = [p for p in self.tagged if p.key not in referenced and not p.reblog_of]
        chosen = rng.sample(candidates, 45)
        for post in chosen[:15]:
            self.world.schedule_delete(post, 1)
        for index, post in enumerate(chosen[15:45]):
            step = 0 if index < 15 else 1
            suffix = rng.choice(words.EDIT_SUFFIXES)
            new_content = post.content[:-4] + suffix.replace("'", "&#39;") + "</p>"
            edited_at = post.created_at + timedelta(minutes=rng.randrange(2, 50))
            post.edits.append(Edit(step, new_content, edited_at))
        self.world.changed()  # the edits above went in directly


def _username(first: str, last: str, used: set[str]) -> str:
    import unicodedata

    def ascii_part(name: str) -> str:
        folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        return "".join(c for c in folded.lower() if c.isalnum())

    base = f"{ascii_part(first)}_{ascii_part(last)[:8]}"
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}{n}"
    used.add(name)
    return name
