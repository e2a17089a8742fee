"""The page path's statements at driver level: plain SQL, pre-built tuples, one cursor.

Through SQLAlchemy, a page of posts spent more time building statements, coercing each
value of an ``IN`` list and running each parameter through its type than the database
spent on them. Here each statement's SQL is written directly (``?`` for sqlite3, ``%s``
for psycopg) and run on the DBAPI cursor of the session's own connection, inside the
session's transaction (begun as usual: ``BEGIN IMMEDIATE`` on SQLite). Values go
through the very bind processors SQLAlchemy would apply to each column, so a row reads
back exactly as if SQLAlchemy had written it (a test compares the two). Errors come out
as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError` subclasses, as from any statement
(the PostgreSQL race retry in :mod:`backchannel.collect.service` relies on that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Convert = Callable[[Any], Any]

# Kept on each dialect, per (table, columns): the converters of :meth:`Driver.encoder`
# and :meth:`Driver.decoder` (the bind and result processors depend on the dialect).
_CODECS = "_backchannel_codecs"


class Driver:
    """Statements on the session's connection, without SQLAlchemy's per-call work."""

    def __init__(self, session: Session) -> None:
        # Pending ORM changes first, as an ORM query would autoflush them.
        session.flush()
        connection = session.connection()
        self.dialect = connection.dialect
        self.postgres = self.dialect.name == "postgresql"
        self.mark = "%s" if self.postgres else "?"
        self._error = self.dialect.loaded_dbapi.Error
        self._cursor = connection.connection.cursor()
        self._quote = self.dialect.identifier_preparer.quote
        self._limit = max(1, getattr(self.dialect, "insertmanyvalues_max_parameters", 999))

    # -- running statements ---------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """The rows a query returns."""
        try:
            self._cursor.execute(sql, params)
            return self._cursor.fetchall()
        except self._error as exc:
            raise self._wrap(exc, sql, params) from exc

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        try:
            self._cursor.execute(sql, params)
            return self._cursor.rowcount
        except self._error as exc:
            raise self._wrap(exc, sql, params) from exc

    def many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        """One statement for many rows (``executemany``; psycopg pipelines it)."""
        if not rows:
            return
        try:
            self._cursor.executemany(sql, rows)
        except self._error as exc:
            raise self._wrap(exc, sql, rows[0]) from exc

    def _wrap(self, exc: Exception, sql: str, params: Any) -> DBAPIError:
        return DBAPIError.instance(sql, params, exc, self._error, dialect=self.dialect)

    # -- writing SQL ----------------------------------------------------------------

    def quoted(self, columns: Iterable[str]) -> list[str]:
        return [self._quote(name) for name in columns]

    def names(self, columns: Iterable[str]) -> str:
        return ", ".join(self.quoted(columns))

    def in_list(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column <this>`` matches any of ``values``: SQL and its parameters."""
        if self.postgres:
            return "= ANY(%s)", [list(values)]
        return f"IN ({', '.join('?' * len(values))})", list(values)

    def insert(self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
        """``INSERT`` of already encoded rows, one executemany."""
        marks = ", ".join([self.mark] * len(columns))
        self.many(f"INSERT INTO {table} ({self.names(columns)}) VALUES ({marks})", rows)

    def insert_returning(
        self,
        table: str,
        columns: Sequence[str],
        rows: list[Sequence[Any]],
        returning: Sequence[str],
    ) -> list[Any]:
        """Multi-row ``INSERT ... RETURNING`` of encoded rows, chunked to the dialect's
        parameter limit. Rows come back in no particular order: return a key."""
        out: list[Any] = []
        one = "(" + ", ".join([self.mark] * len(columns)) + ")"
        head = f"INSERT INTO {table} ({self.names(columns)}) VALUES "
        tail = f" RETURNING {self.names(returning)}"
        step = max(1, self._limit // len(columns))
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            params = [value for row in chunk for value in row]
            out.extend(self.rows(head + ", ".join([one] * len(chunk)) + tail, params))
        return out

    def insert_ids(
        self, table: str, columns: Sequence[str], rows: list[Sequence[Any]]
    ) -> list[int]:
        """``INSERT`` of encoded rows with new ids, in row order; one executemany (which
        both drivers run faster than a multi-row ``INSERT ... RETURNING``)."""
        if not rows:
            return []
        if self.postgres:
            # The ids the column's own default would take, in one round trip.
            ids = sorted(
                new_id
                for (new_id,) in self.rows(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, len(rows)],
                )
            )
        else:
            # SQLite: a writer holds the write lock (BEGIN IMMEDIATE), so the next ids
            # are known: max + 1 onwards, as SQLite itself would choose them.
            ((top,),) = self.rows(f"SELECT max(id) FROM {table}")
            ids = list(range((top or 0) + 1, (top or 0) + 1 + len(rows)))
        self.insert(table, ("id", *columns), [(i, *row) for i, row in zip(ids, rows, strict=True)])
        return ids

    # -- values ---------------------------------------------------------------------

    def encoder(self, table: Table, columns: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]]:
        """Python values of ``columns`` -> the parameters SQLAlchemy would send."""
        converters = self._codec(table, tuple(columns), "bind")

        def encode(values: Sequence[Any]) -> list[Any]:
            row = list(values)
            for index, convert in converters:
                row[index] = convert(row[index])
            return row

        return encode

    def decoder(self, table: Table, columns: Sequence[str]) -> Callable[[Sequence[Any]], list[Any]]:
        """Values of ``columns`` as the driver returns them -> what SQLAlchemy reads."""
        converters = self._codec(table, tuple(columns), "result")

        def decode(values: Sequence[Any]) -> list[Any]:
            row = list(values)
            for index, convert in converters:
                if row[index] is not None:
                    row[index] = convert(row[index])
            return row

        return decode

    def _codec(self, table: Table, columns: tuple[str, ...], kind: str) -> list[Any]:
        cache = self.dialect.__dict__.setdefault(_CODECS, {})
        key = (table.name, columns, kind)
        if key not in cache:
            cache[key] = [
                (index, convert)
                for index, name in enumerate(columns)
                if (convert := _converter(table, name, self.dialect, kind)) is not None
            ]
        return cache[key]


def _converter(table: Table, name: str, dialect: Dialect, kind: str) -> Convert | None:
    column_type = table.c[name].type
    implementation = column_type.dialect_impl(dialect)
    if kind == "result":
        return implementation.result_processor(dialect, None)
    process = implementation.bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column_type, JSON):
        # None is JSON null here (SQLAlchemy's default), so it is converted too. None
        # and the empty list, the most common values, are converted once.
        null, empty = process(None), process([])

        def convert_json(value: Any) -> Any:
            if value is None:
                return null
            return empty if value == [] else process(value)

        return convert_json
    return _remember_last(process)


def _remember_last(process: Convert) -> Convert:
    """``process`` that skips None and converts the same datetime twice in a row once:
    a page stamps every row with one ``now``."""
    memo: list[tuple[Any, Any]] = [(None, None)]  # one tuple: swapped atomically

    def convert(value: Any) -> Any:
        if value is None:
            return None
        last, converted = memo[0]
        if value is last and isinstance(value, datetime):
            return converted
        converted = process(value)
        memo[0] = (value, converted)
        return converted

    return convert
