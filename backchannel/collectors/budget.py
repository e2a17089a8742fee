"""The time a source may take in one collection: a budget held on this thread.

The collect service opens :func:`budget_until` around each source's pass (the moment
the source's own budget, ``collect.source_budget``, or the run's, ``collect --budget``,
ends: the sooner). Everything the source's thread does then keeps to it without being
told: a request's deadline ends at the budget if that comes first
(:mod:`backchannel.collectors.deadline`), and a wait for a rate limit or a retry is cut
short at it (:class:`~backchannel.collectors.retry.Pacer`), which then raises
:class:`~backchannel.errors.BudgetSpent`. Kept apart from ``deadline`` so that naming
it loads no HTTP library.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

_current = threading.local()


@contextlib.contextmanager
def budget_until(moment: float | None) -> Iterator[None]:
    """While the block runs, this thread's work ends at ``moment`` (``time.monotonic``);
    None: no budget."""
    outer = getattr(_current, "until", None)
    _current.until = moment if outer is None or moment is None else min(moment, outer)
    try:
        yield
    finally:
        _current.until = outer


def budget_end() -> float | None:
    """When this thread's budget ends (``time.monotonic``), if it has one."""
    return getattr(_current, "until", None)


def budget_left() -> float | None:
    """Seconds left of this thread's budget (0 when spent), or None without one."""
    until = budget_end()
    return None if until is None else max(0.0, until - time.monotonic())
