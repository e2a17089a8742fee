"""Shared fixtures: real databases (SQLite files, and PostgreSQL when configured).

Database-facing tests take the ``db_url`` fixture, which runs them against a SQLite
file always and against PostgreSQL whenever ``BACKCHANNEL_TEST_DATABASE_URL`` names
one. Under ``CI=true`` a missing PostgreSQL is a failure, never a silent skip: so is
any skip at all (:mod:`tests.ci_rule`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Under CI=true a skip fails the run (tests.ci_rule); the studio's fixtures (studio,
# organising, with_accounts), for every studio test module.
pytest_plugins = ["tests.ci_rule", "tests.studio_kit"]

PG_ENV = "BACKCHANNEL_TEST_DATABASE_URL"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a fresh SQLite file, or a wiped PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = os.environ.get(PG_ENV)
    if not url:  # a failure under CI=true (tests.ci_rule)
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests cannot run")
    _reset_postgres(url)
    yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the current directory, with no config from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BACKCHANNEL_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
