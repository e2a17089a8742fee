"""Engine, sessions, schema check and migrations, for SQLite and PostgreSQL alike.

SQLite is tuned in one place (:func:`make_engine`): WAL so readers never block the
writer (checkpointed less often than by default), foreign keys on, and a busy timeout. Write transactions on SQLite begin with
``BEGIN IMMEDIATE``: with the default deferred BEGIN two writers that both read first
deadlock, and one gets "database is locked" at once instead of waiting its turn.

Migrations run from code through Alembic; users never need an alembic.ini. Alembic is
imported only to migrate: the schema check that every command makes reads the
``alembic_version`` row with one query and compares it with :data:`SCHEMA_REVISION`, so
opening the database stays fast.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.orm import Session, sessionmaker

from backchannel.errors import DatabaseError, SchemaOutOfDateError
from backchannel.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

# The newest revision in migrations/versions (tests/test_migrations.py checks it is
# Alembic's head): the schema this version of backchannel reads and writes.
SCHEMA_REVISION = "0018"
BUSY_TIMEOUT_MS = 30_000
WAL_CHECKPOINT_PAGES = 10_000


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc
    try:
        if parsed.get_backend_name() != "sqlite":
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
    except NoSuchModuleError as exc:
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise DatabaseError(
                f"the URL scheme {parsed.drivername}:// is not one backchannel knows: "
                "use sqlite:/// or postgresql+psycopg://"
            ) from exc
        raise DatabaseError(
            f"no driver for {parsed.drivername}: for PostgreSQL install backchannel[postgres]"
        ) from exc

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Collection commits a page at a time; checkpointing the WAL into the database
        # every 1,000 pages (the default) cost more than the writes themselves. Every
        # WAL_CHECKPOINT_PAGES pages instead (~40 MB), a page rewritten by many commits
        # (an index leaf) is copied back once.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: object) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate")  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")  # type: ignore[attr-defined]

    return engine


class Database:
    """An engine and its two kinds of session: reading, and writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._checked = False  # whether check_integrity passed (before the first write)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error.

        The first one of this object checks the file first (:meth:`check_integrity`):
        nothing is written into a damaged database.
        """
        if not self._checked:
            self.check_integrity()
        with self._write() as session, session.begin():
            yield session

    def check_integrity(self, full: bool = False) -> list[str]:
        """Refuse a damaged SQLite file (``PRAGMA quick_check``); [] when it is sound.

        ``full`` runs ``integrity_check`` instead and returns its findings rather than
        raising (for ``backchannel db check``). PostgreSQL checks its own pages: [].
        """
        if self.sqlite_path is None:
            self._checked = True
            return []
        if not self.sqlite_path.exists() or self.sqlite_path.stat().st_size == 0:
            # A new database, before its first write; but `db check` was asked about a
            # database, and an empty file or none is not one (SQLite would say "ok").
            self._checked = True
            missing = "does not exist" if not self.sqlite_path.exists() else "is empty"
            return [f"the file {missing}: no database was ever written there"] if full else []
        pragma = "integrity_check" if full else "quick_check"
        try:
            with self.engine.connect() as connection:
                found = [str(row[0]) for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
        except SADatabaseError as exc:
            if full:
                return [str(exc.orig)]
            raise DatabaseError(self._unusable(exc)) from exc
        problems = [] if found == ["ok"] else found
        if problems and not full:
            raise DatabaseError(self._damaged(problems[0]))
        self._checked = not problems
        return problems

    def _unusable(self, exc: SADatabaseError) -> str:
        """One line for a database that cannot be read at all."""
        if self.sqlite_path is not None:
            return self._damaged(str(exc.orig))
        return f"cannot open the database {self.display_url}: {exc.orig}"

    def _damaged(self, finding: str) -> str:
        assert self.sqlite_path is not None
        name = self.sqlite_path.name
        return (
            f"{self.sqlite_path} is damaged ({finding}): nothing was written. Run `backchannel "
            f"db check` for the details, then restore a copy (`db upgrade` leaves one beside "
            f"it as {name}.<revision>.<time>.bak)"
        )

    def dispose(self) -> None:
        """Close every connection, the write-ahead log copied into the SQLite file first
        (:meth:`checkpoint`), so that the file alone holds what was written."""
        self.checkpoint()
        self.engine.dispose()

    def checkpoint(self) -> None:
        """Copy a SQLite database's write-ahead log into the file (``PASSIVE``: it waits
        for no one; a reader still using an older snapshot keeps those pages in the log
        until the next checkpoint). Nothing to do on PostgreSQL, or before the file exists.
        A copy of ``backchannel.db`` alone then holds everything written so far."""
        path = self.sqlite_path
        if path is None or not path.exists():
            return
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except SADatabaseError as exc:  # a busy or damaged file: the log stays beside it
            log.info("no checkpoint of %s: %s", path, exc)

    def backup(self, target: Path) -> Path:
        """A consistent copy of a live SQLite database at ``target`` (SQLite's backup API:
        pages written while it copies are copied again), written beside as a temporary
        file and renamed into place whole. Refuses PostgreSQL (use ``pg_dump``) and an
        existing target."""
        path = self.sqlite_path
        if path is None:
            raise DatabaseError(
                f"{self.display_url} is PostgreSQL: back it up with pg_dump (pg_dump -Fc "
                f"-f {target.name} DATABASE_NAME), restore with pg_restore"
            )
        if not path.exists():
            raise DatabaseError(f"{path} does not exist: nothing to back up")
        target = target.expanduser().resolve()
        if target.exists():
            raise DatabaseError(f"{target} exists already: choose another name")
        if target == path.resolve():
            raise DatabaseError("the backup cannot be the database itself")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)) as source:
                with closing(sqlite3.connect(partial)) as copy:
                    source.backup(copy, pages=1024)  # steps: writers are not held off
                    problem = copy.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise DatabaseError(f"the copy of {path} did not check out: {problem}")
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return target

    # -- schema ---------------------------------------------------------------------

    def current_revision(self) -> str | None:
        """The schema revision stamped in the database; None for a new or empty one.

        A SQLite file that does not exist yet is not created by asking.
        """
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return None
        try:
            with self.engine.connect() as connection:
                if not inspect(connection).has_table("alembic_version"):
                    return None
                rows = connection.execute(text("SELECT version_num FROM alembic_version"))
                revisions = [row[0] for row in rows]
        except SADatabaseError as exc:
            raise DatabaseError(self._unusable(exc)) from exc
        if len(revisions) > 1:
            raise DatabaseError(f"the database has several schema revisions: {revisions}")
        return revisions[0] if revisions else None

    def check_schema(self) -> None:
        """Refuse a database that is missing, or not at this version's schema."""
        current = self.current_revision()
        head = head_revision()
        if current == head:
            return
        if current is None:
            raise SchemaOutOfDateError(
                f"the database at {self.display_url} is not initialised: run `backchannel init`"
            )
        raise SchemaOutOfDateError(
            f"the database schema is at revision {current} but this backchannel needs "
            f"{head}: run `backchannel db upgrade`"
        )

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            return Path(parsed.database)
        return None

    def init(self) -> bool:
        """Create the schema at head. False when it was already there."""
        if self.sqlite_path is not None:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        current = self.current_revision()
        if current == head_revision():
            return False
        if current is None and self._has_tables():
            raise DatabaseError(
                f"{self.display_url} already holds tables that backchannel did not create"
            )
        if current is not None:
            raise SchemaOutOfDateError(
                f"the database exists at revision {current}: run `backchannel db upgrade`"
            )
        self._upgrade()
        return True

    def upgrade(self) -> tuple[str | None, str, Path | None]:
        """Migrate to head, backing up a SQLite file first. (from, to, backup path)."""
        current = self.current_revision()
        head = head_revision()
        if current is None and not self._has_tables():
            raise SchemaOutOfDateError(
                f"the database at {self.display_url} is not initialised: run `backchannel init`"
            )
        backup = None
        if current != head:
            backup = self._backup(current)
            self._upgrade()
        return current, head, backup

    def _has_tables(self) -> bool:
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            return False
        with self.engine.connect() as connection:
            return bool(inspect(connection).get_table_names())

    def _upgrade(self) -> None:
        from alembic import command

        with self.engine.begin() as connection:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def _backup(self, revision: str | None) -> Path | None:
        path = self.sqlite_path
        if path is None or not path.exists():
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = path.with_name(f"{path.name}.{revision or 'empty'}.{stamp}.bak")
        # The backup API copies a consistent snapshot even with a WAL file beside it.
        with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        log.info("backed up %s to %s", path, target)
        return target


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    update: list[str],
) -> None:
    """Insert ``rows``, or update ``update`` columns where ``keys`` already match.

    One atomic ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL alike), so writers
    racing on the same key (concurrent sources, or `run` beside `collect`) cannot
    collide the way a read-then-insert can.
    """
    if not rows:
        return
    # Imported here: the PostgreSQL dialect costs every command ~25 ms to import.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(rows)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The schema revision this version of backchannel needs."""
    return SCHEMA_REVISION


def alembic_head() -> str | None:
    """The head of the migration scripts, as Alembic reads them (slow: for tests)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
