"""Long work (an export, a collection) on a thread, its failure kept for the page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

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
