"""axe-core (from npm, pinned by package-lock.json) run in a Playwright page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


def require_node_modules() -> None:
    """The npm packages, installed by `npm ci` (`make test` runs it): skip when they are
    missing (a failure under CI=true: tests.ci_rule)."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci`")


def with_axe(context: Any) -> None:
    """Load axe-core into every page of ``context`` before the page's own scripts.

    An init script is not subject to the page's Content-Security-Policy, which (rightly)
    refuses inline scripts."""
    require_node_modules()
    context.add_init_script(path=str(AXE))


def violations(page: Any) -> list[str]:
    """What axe-core finds on the page as it stands: one line per rule and element."""
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node['failureSummary'][:200]}"
        for v in found
        for node in v["nodes"]
    ]
