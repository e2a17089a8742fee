"""Waiting politely: rate-limit sleeps and capped exponential backoff with jitter.

Shared by every collector so that all of them wait the same way: each sleep is logged
with its reason and length, is capped, and ends early (raising
:class:`backchannel.errors.Interrupted`) when a stop is asked for.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

from backchannel.collectors.budget import budget_left
from backchannel.errors import BudgetSpent, Interrupted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to wait. Defaults suit real servers; tests shrink them."""

    attempts: int = 5  # tries of one request before the source fails
    backoff_base: float = 1.0  # seconds before the first retry
    backoff_cap: float = 60.0  # no single backoff is longer
    max_rate_limit_sleep: float = 300.0  # no single rate-limit sleep is longer


@dataclass(frozen=True)
class Bounds:
    """How long one request may take in all, and how large its answer may be
    (enforced by :mod:`backchannel.collectors.bounded`). Here, not there, so that
    naming them does not load httpx."""

    deadline: float = 120.0  # seconds: connecting, headers and body together
    max_bytes: int = 32_000_000  # a page of 40 statuses is about 100 kB


class Pacer:
    """Sleeps for collectors. One per collector; thread-safe enough for one thread."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.stop = stop or threading.Event()
        self._rng = rng or random.Random()
        self.slept = 0.0  # total seconds waited, for the run summary

    def sleep(self, seconds: float, reason: str) -> None:
        """Wait ``seconds`` (never negative), logging why; raise Interrupted on stop,
        and BudgetSpent at once when the wait would outlast this thread's budget."""
        seconds = max(0.0, seconds)
        if seconds <= 0:
            return
        left = budget_left()
        if left is not None and left <= seconds:
            raise BudgetSpent(f"its time for this run ran out before a wait of {seconds:.0f} s "
                              f"({reason})")  # fmt: skip
        log.info("waiting %.1f s: %s", seconds, reason)
        started = time.monotonic()
        stopped = self.stop.wait(seconds)
        self.slept += time.monotonic() - started
        if stopped:
            raise Interrupted(f"stopped while waiting ({reason})")

    def rate_limited(self, reset_at: float | None, reason: str) -> None:
        """Wait until the epoch time ``reset_at`` (capped), or a backoff if unknown."""
        if reset_at is None:
            delay = self.policy.backoff_cap
        else:
            delay = reset_at - time.time() + 0.05
        self.sleep(min(delay, self.policy.max_rate_limit_sleep), f"rate limit: {reason}")

    def backoff(self, attempt: int, reason: str) -> None:
        """Wait before retry number ``attempt`` (1-based): capped exponential, jittered."""
        delay = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        delay *= 0.5 + self._rng.random() / 2  # jitter: between half and all of it
        self.sleep(delay, f"retry {attempt}/{self.policy.attempts - 1} after {reason}")

    def check(self) -> None:
        """Raise Interrupted if a stop was asked for, BudgetSpent if this thread's time
        is spent (call between pages and before each try)."""
        if self.stop.is_set():
            raise Interrupted("stopped between pages")
        if budget_left() == 0:
            raise BudgetSpent("its time for this run ran out")
