"""The organiser's consent records: allow/deny entries, an event's policy, the report.

``backchannel consent`` is a thin layer over these. The report counts every post of an
event left out, by reason: what the store declined at collection (recorded in
:mod:`backchannel.consent.exclusions`) and what the consent rule leaves out of the stored posts
now, the same rule the export applies. Handles are shown only when asked for.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.consent import exclusions
from backchannel.consent.imported import imported_rule
from backchannel.consent.rule import author_verdict, event_policy, normalize_handle, verdict
from backchannel.errors import InputError
from backchannel.events import get_event
from backchannel.store import Author, ConsentOverride, EventPost, Post, reset_cursors

log = logging.getLogger(__name__)

DECISIONS = ("allow", "deny")
POLICIES = ("opt-out", "opt-in")


def set_decision(
    session: Session, slug: str, handle: str, decision: str, note: str | None = None
) -> ConsentOverride:
    """Record (or change) the organiser's decision about one author for one event."""
    if decision not in DECISIONS:
        raise InputError(f"decision must be allow or deny, not {decision!r}")
    wanted = normalize_handle(handle)
    if not wanted or any(c.isspace() for c in wanted):
        raise InputError(f"{handle!r} is not a handle (user@server or name.bsky.social)")
    event = get_event(session, slug)
    row = session.scalar(
        select(ConsentOverride).where(
            ConsentOverride.event_id == event.id, ConsentOverride.handle == wanted
        )
    )
    if row is None:
        row = ConsentOverride(event_id=event.id, handle=wanted)
        session.add(row)
    row.decision, row.note = decision, note
    session.flush()
    if decision == "allow" and exclusions.excluded_handles(session, event.id).get(wanted):
        _reread(session, event.id)
    return row


def _reread(session: Session, event_id: int) -> None:
    """Posts declined earlier may now be archived: collect the event's window again."""
    if reset_cursors(session, event_id):
        log.info("the next collection re-reads the event's window for posts declined earlier")


def remove_decision(session: Session, slug: str, handle: str) -> bool:
    event = get_event(session, slug)
    row = session.scalar(
        select(ConsentOverride).where(
            ConsentOverride.event_id == event.id,
            ConsentOverride.handle == normalize_handle(handle),
        )
    )
    if row is None:
        return False
    if row.decision == "deny" and exclusions.excluded_handles(session, event.id).get(row.handle):
        _reread(session, event.id)
    session.delete(row)
    return True


def decisions(session: Session, slug: str) -> list[ConsentOverride]:
    event = get_event(session, slug)
    return list(
        session.scalars(
            select(ConsentOverride)
            .where(ConsentOverride.event_id == event.id)
            .order_by(ConsentOverride.decision, ConsentOverride.handle)
        )
    )


def set_policy(session: Session, slug: str, policy: str) -> None:
    if policy not in POLICIES:
        raise InputError(f"policy must be opt-out or opt-in, not {policy!r}")
    event = get_event(session, slug)
    if event.policy == "opt-in" and policy == "opt-out":
        _reread(session, event.id)
    event.policy = policy


@dataclass
class Report:
    policy: str
    collected: Counter[str] = field(default_factory=Counter)  # reason -> posts never stored
    stored: Counter[str] = field(default_factory=Counter)  # reason -> stored, not published
    not_indexed: int = 0  # published, kept out of search and data
    names: dict[str, Counter[str]] = field(default_factory=dict)  # handle -> reason -> posts

    @property
    def total(self) -> Counter[str]:
        return self.collected + self.stored


def report(
    session: Session, slug: str, default_opt_in: bool = False, allow_bots: bool = False
) -> Report:
    event = get_event(session, slug)
    policy = event_policy(session, event, default_opt_in, allow_bots)
    out = Report("opt-in" if policy.opt_in else "opt-out")
    out.collected = exclusions.counts(session, event.id)
    out.names = exclusions.excluded_handles(session, event.id)
    imported = imported_rule(session, event)
    rows = session.execute(
        select(EventPost.state, Post.deleted_at, Post.visibility, Author, Post.id)
        .join(Post, Post.id == EventPost.post_id)
        .join(Author, Author.id == Post.author_id)
        .where(EventPost.event_id == event.id)
    )
    for state, deleted_at, visibility, author, post_id in rows:
        decided = verdict(state, deleted_at, visibility, author_verdict(author, policy))
        allowed = normalize_handle(author.handle) in policy.allowed
        decided = imported.apply(post_id, decided, allowed)
        if not decided.publish:
            reason = decided.reason or "excluded"
            out.stored[reason] += 1
            if author_verdict(author, policy).reason == reason:
                out.names.setdefault(normalize_handle(author.handle), Counter())[reason] += 1
        elif not decided.index:
            out.not_indexed += 1
    return out
