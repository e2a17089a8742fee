"""Who and what may be archived: one place decides, at collection and at export.

The defaults are the strictest reasonable ones (DESIGN.md, Consent); an organiser can
make them stricter, never silently looser. A decision is a reason string, or None
when the post may be kept, so every exclusion is counted by its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from backchannel.collectors.base import NormalizedAuthor, NormalizedPost

# Opt-out hashtags the fediverse uses in bios and profile fields.
OPT_OUT_TAGS = ("nobot", "noarchive", "noindex", "nosearch")
_OPT_OUT = re.compile(r"(?<![\w#])#(" + "|".join(OPT_OUT_TAGS) + r")\b", re.IGNORECASE)
NO_UNAUTHENTICATED = "!no-unauthenticated"


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
    if post.visibility != "public":
        return "not public"
    return exclusion_reason(post.author, policy)


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
