"""Long work (an export, a collection) on a thread, its failure kept for the page."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from backchannel.errors import BackchannelError


class Run(Protocol):
    finished: bool
    error: str | None


def in_background(run: Run, what: str, work: Callable[[], None]) -> None:
    """Do ``work`` on a daemon thread; ``run`` ends ``finished``, with the one-line
    ``error`` when it failed (never lost in the thread)."""

    def target() -> None:
        try:
            work()
        except BackchannelError as exc:
            run.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            run.error = f"{what} failed: {type(exc).__name__}: {exc}"
        finally:
            run.finished = True

    threading.Thread(target=target, daemon=True).start()


R = TypeVar("R", bound=Run)


class Latest(Generic[R]):
    """The latest run of each key (an event; a kind and an event), one at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # also for whoever updates a run's progress
        self._runs: dict[Hashable, R] = {}

    def state(self, key: Hashable) -> R | None:
        """A copy of the key's latest run as it is now: a page reads it once, before the
        database, and a run shown finished has committed all its work."""
        with self.lock:
            run = self._runs.get(key)
            return copy.deepcopy(run) if run is not None else None

    def begin(self, key: Hashable, make: Callable[[], R]) -> R | None:
        """A new run for ``key``, or None while the last one is still going."""
        with self.lock:
            current = self._runs.get(key)
            if current is not None and not current.finished:
                return None
            run = self._runs[key] = make()
            return run
