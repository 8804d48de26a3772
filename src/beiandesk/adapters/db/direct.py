"""Prebuilt point reads (and one hot write) run straight on the driver's cursor.

Every authenticated request reads its session row and, most often, one record by primary key.
Through ``Connection.execute`` such a read cost about 25 µs of SQLAlchemy's per-statement
machinery (execution context, cursor wrapper, ``Result`` and ``Row``) against 8 µs for the
SQLite driver itself (measured here, one core). :class:`DirectQuery` keeps SQLAlchemy for
everything it is good at — the statement is a Core ``select``, compiled once per dialect by
SQLAlchemy, and each column's value goes through that column type's own SQLAlchemy result
processor (booleans, UTC datetimes, JSON) — and only skips the per-call wrapping.

It runs inside the caller's transaction (the unit of work's connection), on either engine.
"""

from __future__ import annotations

import itertools
import re
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect

_STATEMENT_NUMBERS = itertools.count(1)
_PYFORMAT = re.compile(r"%%|%\((\w+)\)s")


def _dollar_form(sql: str) -> tuple[bytes, tuple[str, ...]]:
    """A pyformat statement (``%(name)s``, ``%%``) in libpq's form (``$1``, ``%``), with the
    parameters' names in ``$n`` order (a name used twice is one parameter)."""
    names: list[str] = []

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PYFORMAT.sub(one, sql).encode(), tuple(names)


class _Prepared:
    __slots__ = ("sql", "names", "keys", "row", "processors", "server")

    def __init__(self, stmt: Select, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        for bind in compiled.binds.values():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise TypeError(f"DirectQuery: parameter {bind.key!r} needs a bind processor")
        self.sql = compiled.string
        #: Positional drivers (SQLite's qmark) take the values in this order; others a mapping.
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup or ()) if compiled.positional else None
        )
        # ``selected_columns.keys()`` is always unique (``id``, ``id_1``: SQLAlchemy labels
        # unlabelled namesakes apart in the SQL too); two columns labelled alike are not, and
        # are refused in :meth:`bind` by the names the database answers with.
        self.keys = tuple(stmt.selected_columns.keys())
        self.row = namedtuple("DirectRow", self.keys)  # type: ignore[misc]
        self.processors: list[Callable[[Any], Any] | None] | None = None
        #: PostgreSQL: (the name it is prepared under on a connection, its libpq form, the
        #: parameters' names in order) for ``first_prepared``.
        self.server: tuple[bytes, bytes, tuple[str, ...]] | None = None
        if dialect.name == "postgresql" and self.names is None:
            sql, names = _dollar_form(self.sql)
            self.server = (f"beiandesk_{next(_STATEMENT_NUMBERS)}".encode(), sql, names)

    def bind(self, stmt: Select, dialect: Dialect, description: Any) -> None:
        names = [desc[0] for desc in description]
        if len(set(names)) != len(names):
            raise TypeError("DirectQuery: selected column names must be unique (label them)")
        # As SQLAlchemy does: each type's processor for this dialect and the driver's type code.
        self.processors = [
            col.type.dialect_impl(dialect).result_processor(dialect, desc[1])
            for col, desc in zip(stmt.selected_columns, description, strict=True)
        ]


class DirectQuery:
    """A Core ``select`` whose rows are read through the DBAPI cursor (see module docstring)."""

    def __init__(self, stmt: Select) -> None:
        self.stmt = stmt
        self._prepared: dict[str, _Prepared] = {}

    def _prepare(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[_Prepared, Any]:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = self._prepared[dialect.name] = _Prepared(self.stmt, dialect)
        args: Any = params if prepared.names is None else tuple(params[n] for n in prepared.names)
        return prepared, args

    def _run(
        self, conn: Connection, params: Mapping[str, Any], many: bool
    ) -> tuple[_Prepared, Any]:
        dialect = conn.dialect
        prepared, args = self._prepare(dialect, params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(prepared.sql, args)
            raw = cursor.fetchall() if many else cursor.fetchone()
            if prepared.processors is None:
                prepared.bind(self.stmt, dialect, cursor.description)
        finally:
            cursor.close()
        return prepared, raw

    @staticmethod
    def _row(prepared: _Prepared, raw: Any) -> Any:
        processors = prepared.processors
        assert processors is not None
        return prepared.row._make(
            value if proc is None or value is None else proc(value)
            for proc, value in zip(processors, raw)
        )

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row as a named tuple (attribute access like a ``Row``), or None."""
        prepared, raw = self._run(conn, params, many=False)
        return None if raw is None else self._row(prepared, raw)

    async def first_prepared(self, conn: Any, dialect: Dialect, params: Mapping[str, Any]) -> Any:
        """``first`` on PostgreSQL through a ``pg_wait.KeptConnection`` (of a pool, in
        autocommit), the statement prepared on it once (``prepared_row``): the same statement
        as the dialect compiles it, the same processors, so the same row as ``first`` gives
        (tested side by side)."""
        prepared, _ = self._prepare(dialect, params)
        server = prepared.server
        if server is None:
            raise TypeError("DirectQuery.first_prepared: PostgreSQL (pyformat) statements only")
        name, sql, names = server
        raw, res = await conn.prepared_row(name, sql, [params[n] for n in names])
        if prepared.processors is None:
            prepared.bind(
                self.stmt,
                dialect,
                [(res.fname(i).decode(), res.ftype(i)) for i in range(res.nfields)],
            )
        return None if raw is None else self._row(prepared, raw)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, as named tuples (for small results: a few calls, the live webhooks)."""
        prepared, raw = self._run(conn, params, many=True)
        return [self._row(prepared, r) for r in raw]


class DirectWrite:
    """A prebuilt Core INSERT/UPDATE/DELETE run on the driver's cursor, every parameter through
    its column type's own SQLAlchemy bind processor (UTC datetimes, JSON), inside the caller's
    transaction; it answers the row count.

    For the one write every save of an order runs: a 21-column UPDATE went through SQLAlchemy's
    per-execution parameter processing and result wrapping (``_init_compiled``,
    ``construct_params``, the cursor result) — a quarter of a PATCH's CPU (profiled).
    The statement must name every parameter with ``bindparam``; each execution must give them
    all (a missing one is an error, never a NULL).
    """

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._prepared: dict[str, tuple[str, tuple[str, ...], tuple[Any, ...], bool]] = {}

    def _prepare(self, dialect: Dialect) -> tuple[str, tuple[str, ...], tuple[Any, ...], bool]:
        compiled = self.stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
        processors = tuple(
            compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
        )
        return compiled.string, names, processors, bool(compiled.positional)

    def _args(self, conn: Connection, params: Mapping[str, Any]) -> tuple[str, Any]:
        dialect = conn.dialect
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = self._prepared[dialect.name] = self._prepare(dialect)
        sql, names, processors, positional = prepared
        # None too goes through the processor, as SQLAlchemy does (a JSON column stores 'null').
        values = [
            params[n] if proc is None else proc(params[n]) for n, proc in zip(names, processors)
        ]
        return sql, tuple(values) if positional else dict(zip(names, values))

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        sql, args = self._args(conn, params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, args)
            return cursor.rowcount
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """For a statement with RETURNING: the first row it answers (a plain tuple), or None."""
        sql, args = self._args(conn, params)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, args)
            return cursor.fetchone()
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, rows: list[Mapping[str, Any]]) -> None:
        """The statement once per row (the driver's ``executemany``), every row complete. One
        row is one ``execute``: psycopg runs ``executemany`` in a pipeline of its own, which
        for a single row cost a save more than the INSERT itself (profiled)."""
        if not rows:
            return
        if len(rows) == 1:
            self.execute(conn, rows[0])
            return
        prepared = [self._args(conn, row) for row in rows]
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(prepared[0][0], [args for _, args in prepared])
        finally:
            cursor.close()
