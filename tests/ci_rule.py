"""One rule for CI: under ``CI=true`` a skipped test is a failed test.

Locally a missing PostgreSQL, Chromium or npm package skips the tests that need it;
in CI (which installs all of them) such a skip would hide a whole area untested, so
the report of any skip, whatever raised it (``pytest.skip``, ``skipif``,
``importorskip``, a fixture), is turned into a failure that keeps its reason. An
expected failure (``xfail``) is not a skip and is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"CI=true and this test was skipped, which CI never allows: {reason}"
