"""PostgreSQL point reads awaited on the event loop (``ports.AsyncPointReads``).

A request's session check and its record read were each a round trip run on the event loop
with the sync driver: the loop stood still until PostgreSQL answered. Measured under wrk
(``GET /api/v1/websites/{id}``, 32 connections, 100,000 websites): the server's one thread was
busy only three quarters of the time, the rest spent in ``poll()`` for the answer, while
PostgreSQL's own work waited for the next request. Awaited on psycopg's ``AsyncConnection``,
the loop serves other requests meanwhile; each kept connection stays registered with its loop
and runs each read as a statement prepared on it once, without a cursor
(``pg_wait.KeptConnection``; measured there, per read: a kept cursor cost half of psycopg's
own wait with a fresh cursor, and the prepared read about a third less again).

The statements are the sync repositories' own (``DirectQuery``, compiled by SQLAlchemy for
the dialect, each column through its type's result processor) and the rows become domain
objects through the same functions, so both paths give the same objects (tested side by side).
Reads only, in autocommit (as the sync readers: under READ COMMITTED a read transaction gives
no snapshot anyway).

Connections are kept per event loop (a connection waits on the loop it is used from), at most
``size`` in use at once per loop (``BEIANDESK_DB_READ_CONNECTIONS``, 6: fewer PostgreSQL
backends in turn were measured faster than 16); the others wait for one. A kept connection
that fails — a restarted server, a terminated backend — is dropped and the read runs once more
on a fresh one (a read is safe to repeat); any other failure, or a read cancelled halfway,
drops its connection and is raised. ``engine.dispose()`` and the end of a loop close them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections import namedtuple
from typing import Any

import psycopg
from sqlalchemy import Engine, event, literal_column, select, true

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db.direct import DirectQuery
from beiandesk.adapters.db.pg_wait import KeptConnection
from beiandesk.adapters.db.records import (
    _SUBJECT,
    _WEBSITE_WITH_OWNER,
    AccountRepo,
    SubjectRepo,
    WebsiteRepo,
)
from beiandesk.adapters.db.sessions import _CHECK
from beiandesk.domain.model import Account, Subject, Website


class _WithSession:
    """A record's point read and the session check in **one** statement (one round trip
    instead of two for ``GET /api/v1/websites/{id}``): a row of one constant joined with
    both reads, each at most one row, so the session's columns are NULL when there is no such
    session and the record's when there is no such record. Each half comes back as the row its
    own statement gives (same names, same processors)."""

    def __init__(self, record: DirectQuery) -> None:
        check, other = _CHECK.stmt.subquery("s"), record.stmt.subquery("r")
        one = select(literal_column("1").label("one")).subquery("one")
        self.check_keys = tuple(_CHECK.stmt.selected_columns.keys())
        self.record_keys = tuple(record.stmt.selected_columns.keys())
        self.check_row = namedtuple("SessionRow", self.check_keys)  # type: ignore[misc]
        self.record_row = namedtuple("RecordRow", self.record_keys)  # type: ignore[misc]
        self.query = DirectQuery(
            select(
                *(check.c[k].label(f"s_{k}") for k in self.check_keys),
                *(other.c[k].label(f"r_{k}") for k in self.record_keys),
            ).select_from(one.outerjoin(check, true()).outerjoin(other, true()))
        )

    def split(self, row: Any) -> tuple[Any, Any]:
        n = len(self.check_keys)
        check = None if row[0] is None else self.check_row._make(row[:n])  # s_id: the account's
        record = None if row[n] is None else self.record_row._make(row[n:])  # r_id: the record's
        return check, record


_SESSION_AND_WEBSITE = _WithSession(_WEBSITE_WITH_OWNER)
_SESSION_AND_SUBJECT = _WithSession(_SUBJECT)


class _LoopConnections:
    """One event loop's kept connections and the limit on those in use."""

    __slots__ = ("loop", "free", "slots")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = weakref.ref(loop)
        self.free: list[KeptConnection] = []
        self.slots = asyncio.Semaphore(size)


def _finish(conns: list[KeptConnection]) -> None:
    """Close connections from anywhere (the loop they waited on may be gone or another
    thread's): ``KeptConnection.finish``, the libpq connection closed synchronously."""
    while conns:
        conns.pop().finish()


class PgAsyncReads:
    """``ports.AsyncPointReads`` on PostgreSQL (see the module docstring)."""

    def __init__(self, engine: Engine, cipher: DataCipher, size: int = 6) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("PgAsyncReads: PostgreSQL only")
        self.dialect, self.size = engine.dialect, size
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._websites = WebsiteRepo(None, cipher)  # type: ignore[arg-type]  # row → Website only
        self._subjects = SubjectRepo(None, cipher)  # type: ignore[arg-type]
        self._loops: dict[int, _LoopConnections] = {}
        self._guard = threading.Lock()
        self._pid = os.getpid()
        ref = weakref.ref(self)

        def _disposed(_engine: Engine) -> None:
            reads = ref()
            if reads is not None:
                reads.close()

        event.listen(engine, "engine_disposed", _disposed)

    # -- the reads ---------------------------------------------------------------------------

    async def session(self, jti: str) -> tuple[Any, Account] | None:
        row = await self._first(_CHECK, {"jti": jti})
        return (row, AccountRepo._to(row)) if row else None

    async def session_and_website(
        self, jti: str, website_id: int
    ) -> tuple[tuple[Any, Account] | None, tuple[Website, int] | None]:
        """``session(jti)`` and ``website_with_owner(website_id)`` in one round trip."""
        check, row = _SESSION_AND_WEBSITE.split(
            await self._first(_SESSION_AND_WEBSITE.query, {"jti": jti, "website_id": website_id})
        )
        return (
            (check, AccountRepo._to(check)) if check else None,
            (self._websites._to(row), row.owner_account_id) if row else None,
        )

    async def session_and_subject(
        self, jti: str, subject_id: int
    ) -> tuple[tuple[Any, Account] | None, Subject | None]:
        """``session(jti)`` and ``subject(subject_id)`` in one round trip."""
        check, row = _SESSION_AND_SUBJECT.split(
            await self._first(_SESSION_AND_SUBJECT.query, {"jti": jti, "subject_id": subject_id})
        )
        return (
            (check, AccountRepo._to(check)) if check else None,
            self._subjects._to(row) if row else None,
        )

    # -- connections ---------------------------------------------------------------------------

    def _connections(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        kept = self._loops.get(id(loop))  # the common case, without the lock (dict.get is atomic)
        if kept is not None and kept.loop() is loop and self._pid == os.getpid():
            return kept
        with self._guard:
            if self._pid != os.getpid():  # a forked child: the parent's sockets are not its own
                self._loops, self._pid = {}, os.getpid()
            kept = self._loops.get(id(loop))
            if kept is None or kept.loop() is not loop:
                # Loops that ended (a test client's) leave connections no loop will use again.
                for key, other in list(self._loops.items()):
                    gone = other.loop()
                    if gone is None or gone.is_closed():
                        _finish(other.free)
                        del self._loops[key]
                kept = self._loops[id(loop)] = _LoopConnections(loop, self.size)
            return kept

    async def _first(self, query: DirectQuery, params: dict[str, Any]) -> Any:
        kept = self._connections()
        async with kept.slots:
            conn = None
            while kept.free and conn is None:
                conn = kept.free.pop()
                # Nothing is due on a kept read connection: one that spoke while idle was, in
                # all likelihood, told goodbye (a restart, a terminated backend). A fresh one,
                # rather than a read that finds out (under uvloop, after the watchdog's tick).
                if conn.closed or conn.spoke_while_idle:
                    _finish([conn])
                    conn = None
            reused = conn is not None
            if conn is None:
                conn = await self._connect()
            try:
                row = await query.first_prepared(conn, self.dialect, params)
            except psycopg.OperationalError:
                _finish([conn])
                if not reused:
                    raise
                # A kept connection gone stale (server restarted, backend terminated): the
                # read once more on a fresh one, as the sync readers' ping would have.
                conn = await self._connect()
                try:
                    row = await query.first_prepared(conn, self.dialect, params)
                except BaseException:
                    _finish([conn])
                    raise
            except BaseException:  # another error, or cancelled halfway: not kept
                _finish([conn])
                raise
            if conn.closed or conn.broken:
                _finish([conn])
            else:
                kept.free.append(conn)
            return row

    async def _connect(self) -> KeptConnection:
        return await KeptConnection.connect(self.conninfo, autocommit=True)

    def close(self) -> None:
        """Close every kept connection (``engine.dispose()``: before ``serve --workers``
        starts its nodes, before a restore)."""
        with self._guard:
            loops, self._loops = self._loops, {}
        for kept in loops.values():
            _finish(kept.free)
