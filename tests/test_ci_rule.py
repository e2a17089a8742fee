"""The one rule of tests.ci_rule: under CI=true any skip fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

SKIPPING = """
import pytest

def test_skipped_in_its_body():
    pytest.skip("no database here")

@pytest.mark.skipif(True, reason="not on this machine")
def test_skipped_by_a_mark():
    pass

def test_skipped_for_a_missing_module():
    pytest.importorskip("a_module_nobody_has")

@pytest.fixture
def database():
    pytest.skip("no database for the fixture")

def test_skipped_by_a_fixture(database):
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_expected_to_fail():
    assert False

def test_passing():
    assert True
"""


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_skips.py").write_text(SKIPPING, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.ci_rule", "-p", "no:cacheprovider",
         "-q", str(tmp_path / "test_skips.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_under_ci_every_kind_of_skip_fails_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path, "true")
    assert run.returncode == 1, run.stdout
    # A skip in the test's body fails it; one in its setup (a mark, a fixture) errors it.
    assert "2 failed, 1 passed, 1 xfailed, 2 errors" in run.stdout, run.stdout
    summary = run.stdout.split("short test summary info")[1]
    assert summary.count("CI=true and this test was skipped, which CI never allows: ") == 4
    assert "no database for the fixture" in run.stdout  # the reason is kept


def test_elsewhere_a_skip_is_a_skip(tmp_path: Path) -> None:
    run = _run(tmp_path, None)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 4 skipped, 1 xfailed" in run.stdout, run.stdout
