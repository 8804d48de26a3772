"""Rows read along with another: one statement, two repositories.

A statement that joins a row another repository will be asked for in the same read (the
order's read brings its subject: ``changes._ORDER``) leaves that row here, and the other
repository takes it instead of reading it again — one round trip fewer, and the row is from
the very same read. Only read-only units of work keep one (a write could change the row after
it was read), and a row is taken once: a second ``get`` reads again.
"""

from __future__ import annotations

from typing import Any


class ReadAlong:
    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[tuple[str, int], Any] = {}

    def leave(self, table: str, key: int, row: Any) -> None:
        self._rows[(table, key)] = row

    def take(self, table: str, key: int) -> Any | None:
        return self._rows.pop((table, key), None)


class Prefixed:
    """A joined row's ``prefix``-labelled columns, read as a row of their own table
    (``row.subj_name`` as ``.name``)."""

    __slots__ = ("_row", "_prefix")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._row, self._prefix + name)
        except AttributeError:
            raise AttributeError(name) from None
