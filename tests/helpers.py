"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select

from backchannel.cli import main
from backchannel.store.models import Base

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, config: Path | None = None, input: str | None = None) -> Result:
    argv = (["--config", str(config)] if config else []) + list(args)
    return CliRunner().invoke(main, argv, input=input, catch_exceptions=False)


def run_cli_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed console script in a real subprocess, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("BACKCHANNEL_CONFIG", None)
    script = Path(sys.executable).with_name("backchannel")
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "the database is unchanged" assertions."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                for name, table in Base.metadata.tables.items()
            }
    finally:
        engine.dispose()


def write_config(folder: Path, db_url: str, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n{extra}', encoding="utf-8")
    return path


# Real recorded platform responses and the official lexicons (see fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures"
