"""The answer key of a Mastodon sandbox world: what a correct collector ends up with.

The key describes the *final* state (every scheduled step applied: late posts have
arrived, scheduled deletions and edits have happened), whatever step the world is
at now, so a test can compare after it has driven the world to its end.

URIs are the bound ones when the sandbox runs (``sb.answer_key()``), else
``bc-instance://`` placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backchannel.sandbox import conference
from backchannel.sandbox import mastodon_text as text
from backchannel.sandbox.mastodon_world import NEVER, Account, MastodonWorld, Post

_OPT_OUT_TAGS = {"noarchive", "noindex", "nosearch"}  # besides #nobot


@dataclass(frozen=True)
class AnswerKey:
    """What the sources serve for each hashtag, and what consent subtracts.

    ``by_tag[tag][instance]``: uris of public posts with ``tag`` created inside the
    window that ``instance`` (a source) serves in the final state, deleted ones
    excluded. ``expected[tag]`` is the union over sources, ``all_expected`` over tags.
    The other sets say why a uri is special; ``opted_out`` maps uri -> reason
    ("noindex", "nobot", "noarchive" or "bot") for every tagged post of an
    opted-out author (in or out of the window).
    """

    window_start: datetime
    window_end: datetime
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    by_tag: dict[str, dict[str, frozenset[str]]]
    expected: dict[str, frozenset[str]]
    all_expected: frozenset[str]
    not_public: frozenset[str]  # unlisted/private/direct posts with a tag: never served
    outside_window: frozenset[str]  # served by a source, but outside the window
    late: frozenset[str]  # reach a source only after advance(); backdated ids
    deleted: frozenset[str]  # tagged posts deleted (now or at a scheduled step)
    edited: frozenset[str]  # tagged posts whose final content is an edit
    opted_out: dict[str, str]
    not_indexable: frozenset[str]  # archived, but kept out of the search index

    def archivable(self, tag: str | None = None) -> frozenset[str]:
        """The expected uris minus those whose authors opted out."""
        base = self.expected[tag] if tag else self.all_expected
        return frozenset(u for u in base if u not in self.opted_out)


def opt_out_reason(account: Account) -> str | None:
    """Why an author must not be archived, as a collector can read it from the profile."""
    if account.noindex:
        return "noindex"
    bio = {t.lower() for t in text.tags_in_html(account.note)}
    fields = " ".join(f"{name} {text.strip_html(value)}" for name, value in account.fields)
    field_tags = {t.lower() for t in re.findall(r"#(\w+)", fields)}
    if "nobot" in bio or "nobot" in field_tags:
        return "nobot"
    if (bio | field_tags) & _OPT_OUT_TAGS:
        return "noarchive"
    if account.bot:
        return "bot"
    return None


def build_answer_key(
    world: MastodonWorld,
    *,
    tags: Sequence[str] = conference.HASHTAGS,
    sources: Sequence[str] | None = None,
    starts_at: datetime = conference.STARTS_AT,
    ends_at: datetime = conference.ENDS_AT,
    margin: timedelta = timedelta(hours=1),
) -> AnswerKey:
    """The answer key for ``world`` (see :class:`AnswerKey`); the window is inclusive."""
    sources = tuple(sources or world.sources or world.instances)
    start, end = starts_at - margin, ends_at + margin
    with world.lock:
        final = world.last_step()
        by_tag: dict[str, dict[str, set[str]]] = {t: {s: set() for s in sources} for t in tags}
        not_public, outside, late, deleted, edited = set(), set(), set(), set(), set()
        opted_out: dict[str, str] = {}
        not_indexable = set()
        for post in world.posts.values():
            if post.reblog_of:
                continue
            post_tags = {text.normalize_tag(t) for t in world.tags(post, final)}
            post_tags |= {text.normalize_tag(t) for t in world.tags(post, 0)}
            matched = [t for t in tags if text.normalize_tag(t) in post_tags]
            if not matched:
                continue
            uri = world.uri(post)
            author = world.accounts[post.author]
            reason = opt_out_reason(author)
            if reason:
                opted_out[uri] = reason
            if post.visibility != "public":
                not_public.add(uri)
                continue
            if post.deleted_at is not None:
                deleted.add(uri)
                continue
            served_by = [s for s in sources if world.arrival(post, s) <= final]
            if not served_by:
                continue
            if not start <= post.created_at <= end:
                outside.add(uri)
                continue
            if _is_late(world, post, sources):
                late.add(uri)
            if world.current(post, final)[2] is not None:
                edited.add(uri)
            if not author.indexable:
                not_indexable.add(uri)
            final_tags = {text.normalize_tag(t) for t in world.tags(post, final)}
            for tag in matched:
                if text.normalize_tag(tag) in final_tags:
                    for source in served_by:
                        by_tag[tag][source].add(uri)
    frozen = {t: {s: frozenset(u) for s, u in per.items()} for t, per in by_tag.items()}
    expected = {t: frozenset().union(*per.values()) for t, per in frozen.items()}
    return AnswerKey(
        window_start=start,
        window_end=end,
        sources=sources,
        tags=tuple(tags),
        by_tag=frozen,
        expected=expected,
        all_expected=frozenset().union(*expected.values()),
        not_public=frozenset(not_public),
        outside_window=frozenset(outside),
        late=frozenset(late),
        deleted=frozenset(deleted),
        edited=frozenset(edited),
        opted_out=opted_out,
        not_indexable=frozenset(not_indexable),
    )


def _is_late(world: MastodonWorld, post: Post, sources: Sequence[str]) -> bool:
    """True when some source receives the post only after an advance()."""
    return any(0 < world.arrival(post, s) < NEVER for s in sources)
