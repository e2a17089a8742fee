"""Migrations: an empty database upgrades to head and matches the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from backchannel.errors import SchemaOutOfDateError
from backchannel.store.db import SCHEMA_REVISION, Database, alembic_head, head_revision
from backchannel.store.models import Base
from tests.helpers import run_cli, write_config


def _not_search_index(name: str | None, type_: str, parent: object) -> bool:
    return not (name or "").startswith(("posts_fts", "posts_search"))


def test_empty_database_upgrades_to_head_matching_the_models(db_url: str) -> None:
    db = Database(db_url)
    assert db.init() is True
    assert db.current_revision() == head_revision()
    with db.engine.connect() as connection:
        # The search index (migration 0008) is SQL of its own, not the models'.
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_search_index}
        )
        assert compare_metadata(context, Base.metadata) == []
    assert db.init() is False  # idempotent
    db.dispose()


def test_commands_refuse_an_uninitialised_database(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    result = run_cli("event", "list", config=config)
    assert result.exit_code == 1
    assert "not initialised: run `backchannel init`" in result.output


def test_schema_revision_is_the_migrations_head() -> None:
    # The schema check compares with this constant, so that opening a database never
    # needs Alembic to read the migration scripts.
    assert alembic_head() == SCHEMA_REVISION == head_revision()


def test_a_command_without_a_database_creates_no_file(tmp_path: Path) -> None:
    missing = tmp_path / "archive.db"
    config = write_config(tmp_path, f"sqlite:///{missing}")
    for args in (["event", "list"], ["db", "current"], ["db", "upgrade"], ["status"]):
        result = run_cli(*args, config=config)
        assert "backchannel init" in result.output, (args, result.output)
        assert not missing.exists(), args
    assert run_cli("init", config=config).exit_code == 0
    assert missing.exists()


def _make_out_of_date(db: Database) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ancient'"))


def test_commands_refuse_an_out_of_date_schema(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    assert run_cli("init", config=config).exit_code == 0
    db = Database(sqlite_url)
    _make_out_of_date(db)
    with pytest.raises(SchemaOutOfDateError):
        db.check_schema()
    result = run_cli("event", "list", config=config)
    assert result.exit_code == 1 and "backchannel db upgrade" in result.output
    assert "ancient: out of date" in run_cli("db", "current", config=config).output


def test_db_upgrade_backs_up_sqlite_first(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path, sqlite_url)
    assert run_cli("init", config=config).exit_code == 0
    db = Database(sqlite_url)
    # A database from before the first revision: the version table is there, empty.
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(text(f"DROP TABLE {table.name}"))
        connection.execute(text("DROP TABLE posts_fts"))  # the search index (0008)
        connection.execute(text("DELETE FROM alembic_version"))
    result = run_cli("db", "upgrade", config=config)
    assert result.exit_code == 0, result.output
    assert "backed up to" in result.output
    backups = list(tmp_path.glob("test.db.*.bak"))
    assert len(backups) == 1 and backups[0].stat().st_size > 0
    assert run_cli("db", "current", config=config).output.endswith("up to date\n")
    assert "already at revision" in run_cli("db", "upgrade", config=config).output


def test_a_wrong_url_scheme_is_named_as_such() -> None:
    from backchannel.errors import DatabaseError

    with pytest.raises(DatabaseError) as caught:
        Database("postgres://me:secret@db.example/archive")
    assert str(caught.value) == (
        "the URL scheme postgres:// is not one backchannel knows: "
        "use sqlite:/// or postgresql+psycopg://"
    )


def test_a_first_command_in_an_empty_folder_says_to_run_init(workdir: Path) -> None:
    result = run_cli("event", "list")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: no config.toml in {workdir} and no database: run `backchannel init` to set up"
    )
    assert list(workdir.iterdir()) == []
