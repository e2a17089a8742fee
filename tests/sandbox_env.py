"""A running demo sandbox with a config and a database: the setup a user has."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backchannel.config import Config, load_config
from backchannel.sandbox import demo
from backchannel.sandbox.demo import RunningSandbox
from backchannel.store.db import Database


@dataclass
class SandboxEnv:
    sandbox: RunningSandbox
    config: Config
    config_path: Path
    db: Database

    @property
    def env(self) -> dict[str, str]:
        """Environment for a `backchannel` subprocess using this config."""
        return {
            **os.environ,
            "BACKCHANNEL_CONFIG": str(self.config_path),
            demo.PASSWORD_ENV: self.sandbox.bluesky.app_password,
        }


@contextmanager
def sandbox_env(folder: Path, db_url: str) -> Iterator[SandboxEnv]:
    folder.mkdir(parents=True, exist_ok=True)
    with demo.running_sandbox() as sandbox:
        path = demo.write_config(folder, folder / "site", sandbox, db_url=db_url)
        os.environ[demo.PASSWORD_ENV] = sandbox.bluesky.app_password
        config = load_config(path)
        db = Database(config.database_url)
        db.init()
        demo.register_demo_event(db, sandbox)
        try:
            yield SandboxEnv(sandbox, config, path, db)
        finally:
            db.dispose()
