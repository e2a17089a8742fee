"""Who and what may be archived: one place decides, at collection and at export.

The defaults are the strictest reasonable ones (DESIGN.md, Consent); an organiser can
make them stricter, never silently looser. A decision is a reason string, or None
when the post may be kept, so every exclusion is counted by its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from backchannel.collectors import NormalizedAuthor, NormalizedPost

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from backchannel.store import Event

# Opt-out hashtags the fediverse uses in bios and profile fields.
OPT_OUT_TAGS = ("nobot", "noarchive", "noindex", "nosearch")
_OPT_OUT = re.compile(r"(?<![\w#])#(" + "|".join(OPT_OUT_TAGS) + r")\b", re.IGNORECASE)
NO_UNAUTHENTICATED = "!no-unauthenticated"
HIDDEN = "hidden by a curator"
DELETED = "deleted at the source"
NOT_PUBLIC = "not public"


@dataclass(frozen=True)
class Policy:
    """The consent settings in force for one event."""

    opt_in: bool = False  # only explicitly allowed authors are archived
    allow_bots: bool = False
    allowed: frozenset[str] = frozenset()  # normalised handles
    denied: frozenset[str] = frozenset()


def normalize_handle(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


def author_opt_out(author: NormalizedAuthor | object) -> str | None:
    """The author's own opt-out signal, if any: these hold whatever the organiser says,
    except for an explicit allow entry (the author's consent given directly)."""
    if getattr(author, "suspended", False):
        return "suspended"
    if getattr(author, "limited", False):
        return "limited"
    if getattr(author, "noindex", None) is True:
        return "noindex"
    match = _OPT_OUT.search(getattr(author, "bio_text", "") or "")
    if match:
        return f"#{match.group(1).lower()} in profile"
    if NO_UNAUTHENTICATED in (getattr(author, "labels", None) or ()):
        return NO_UNAUTHENTICATED
    return None


def exclusion_reason(author: NormalizedAuthor | object, policy: Policy) -> str | None:
    """Why this author's posts may not be archived for this event, or None."""
    handle = normalize_handle(getattr(author, "handle", ""))
    if handle in policy.denied:
        return "denied by organiser"
    if handle in policy.allowed:
        return None
    if policy.opt_in:
        return "not on the opt-in list"
    reason = author_opt_out(author)
    if reason:
        return f"opted out: {reason}"
    if getattr(author, "bot", False) and not policy.allow_bots:
        return "bot"
    return None


def post_exclusion_reason(post: NormalizedPost, policy: Policy) -> str | None:
    """At collection: why this post may not be stored, or None."""
    return verdict("included", None, post.visibility, author_verdict(post.author, policy)).reason


def is_author_reason(reason: str | None) -> bool:
    """Whether a reason is about the author (so the author's handle may be recorded)."""
    return reason is not None and reason not in (HIDDEN, DELETED, NOT_PUBLIC)


class Verdict(NamedTuple):
    publish: bool
    index: bool
    reason: str | None = None


def author_verdict(author: object, policy: Policy) -> Verdict:
    """May this author's posts be stored and published, and indexed?"""
    reason = exclusion_reason(author, policy)
    if reason:
        return Verdict(False, False, reason)
    return Verdict(True, may_index(author))


def verdict(state: str, deleted_at: datetime | None, visibility: str, author: Verdict) -> Verdict:
    """THE rule for one post of an event, at collection (may it be stored?) and at export
    (may it be published, and indexed?): the same function, so a new signal or a
    stricter setting applies to the whole archive at the next export.

    A post the curator hid or that was deleted at its source is left out of
    everything; so is a post that is not public; then the author's verdict applies:
    left out, or published but kept out of search and data (``indexable`` false).
    """
    if state == "hidden":
        return Verdict(False, False, HIDDEN)
    if deleted_at is not None:
        return Verdict(False, False, DELETED)
    if visibility != "public":
        return Verdict(False, False, NOT_PUBLIC)
    return author


def may_index(author: object) -> bool:
    """Whether the author's posts may go into search and data downloads."""
    return getattr(author, "indexable", None) is not False


def policy_for(opt_in: bool, allow_bots: bool, overrides: Mapping[str, str]) -> Policy:
    """A Policy from an event's setting and its allow/deny entries (handle -> decision)."""
    return Policy(
        opt_in=opt_in,
        allow_bots=allow_bots,
        allowed=frozenset(h for h, d in overrides.items() if d == "allow"),
        denied=frozenset(h for h, d in overrides.items() if d == "deny"),
    )


def event_policy(
    session: Session, event: Event, default_opt_in: bool = False, allow_bots: bool = False
) -> Policy:
    """The policy in force for ``event`` now: the config's defaults, the event's own
    setting and its allow/deny entries. Collection and export both build it here."""
    from sqlalchemy import select

    from backchannel.store import ConsentOverride

    overrides = dict(
        session.execute(
            select(ConsentOverride.handle, ConsentOverride.decision).where(
                ConsentOverride.event_id == event.id
            )
        ).all()
    )
    return policy_for(event.policy == "opt-in" or default_opt_in, allow_bots, overrides)


def describe(policy: Policy) -> list[str]:
    """The policy in plain language, for the archive's About page."""
    if policy.opt_in:
        lines = ["Only people who told the organisers they agree to be archived are included."]
    else:
        lines = [
            "Public posts with the event's hashtags are archived, except those of people "
            "who opted out.",
            "Opting out: a Mastodon account set not to be indexed by search engines "
            "(noindex), #nobot, #noarchive, #noindex or #nosearch in the profile, a "
            "suspended or limited account, or a Bluesky account that asks to be hidden "
            "from logged-out visitors (!no-unauthenticated).",
        ]
        lines.append(
            "Automated (bot) accounts are included."
            if policy.allow_bots
            else "Automated (bot) accounts are left out."
        )
    lines += [
        "Unlisted, followers-only and direct posts are never archived.",
        "People whose account asks not to appear in search (indexable off) are shown on "
        "the pages but left out of the search index, the data downloads and the feed.",
        "Content warnings are kept: such posts stay collapsed.",
    ]
    return lines
