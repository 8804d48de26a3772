"""The unit of work: one transaction, its repositories, and what to do after commit.

Use cases commit explicitly; leaving the block without ``commit()`` rolls back.
``after_commit`` callbacks (waking the job runner) run only once the data is durable.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db.accounts import AccountAdminRepo
from beiandesk.adapters.db.along import ReadAlong
from beiandesk.adapters.db.audit import AuditRepo
from beiandesk.adapters.db.changes import ChangeRepo
from beiandesk.adapters.db.outbox import OutboxRepo
from beiandesk.adapters.db.webhooks import WebhookRepo
from beiandesk.adapters.db.claims import ClaimRepo
from beiandesk.adapters.db.reminders import ReminderRepo
from beiandesk.adapters.db.reports import ReportRepo
from beiandesk.adapters.db.sweeps import SweepRepo
from beiandesk.adapters.db.records import AccountRepo, SubjectRepo, WebsiteRepo
from beiandesk.adapters.db.records_import import ImportRepo
from beiandesk.adapters.db.sessions import SessionRepo
from beiandesk.adapters.db.support import AuthCodeRepo, DomainFactsCache
from beiandesk.adapters.db.durability import WalSync
from beiandesk.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS
from beiandesk.services.ports import WriteWouldWait


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.RLock()


def _write_lock(engine: Engine) -> threading.RLock | None:
    """SQLite allows one writer: writers of this process queue on a lock instead of in SQLite's
    busy handler, which sleeps in growing steps and makes the latency tail long."""
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.RLock()
        return lock


_WAL_SYNCS: weakref.WeakKeyDictionary[Engine, WalSync | None] = weakref.WeakKeyDictionary()


def _wal_sync(engine: Engine) -> WalSync | None:
    """The group-commit log syncer of a SQLite database file (``durability.py``); None for
    PostgreSQL and in-memory SQLite (their commits are synced as they are)."""
    with _LOCKS_GUARD:
        if engine not in _WAL_SYNCS:
            db = engine.url.database if engine.dialect.name == "sqlite" else None
            _WAL_SYNCS[engine] = (
                WalSync(db) if db and db != ":memory:" and "mode=memory" not in db else None
            )
        return _WAL_SYNCS[engine]


#: The repositories a unit of work offers: built on first use (a request touches one or two of
#: sixteen; building them all was a third of an empty read-only unit of work).
_REPOS: dict[str, Callable[[Any], Any]] = {
    "accounts": lambda u: AccountRepo(u.conn),
    "subjects": lambda u: SubjectRepo(u.conn, u.cipher, u.read_along),
    "websites": lambda u: WebsiteRepo(u.conn, u.cipher),
    "changes": lambda u: ChangeRepo(u.conn, u.cipher, u.read_along),
    "outbox": lambda u: OutboxRepo(u.conn, u.cipher),
    "webhooks": lambda u: WebhookRepo(u.conn, u.cipher),
    "auth_codes": lambda u: AuthCodeRepo(u.conn),
    "domain_cache": lambda u: DomainFactsCache(u.conn),
    "audit": lambda u: AuditRepo(u.conn),
    "reminders": lambda u: ReminderRepo(u.conn),
    "reports": lambda u: ReportRepo(u.conn),
    "claims": lambda u: ClaimRepo(u.conn),
    "sweeps": lambda u: SweepRepo(u.conn),
    "imports": lambda u: ImportRepo(u.conn, u.cipher),
    "sessions": lambda u: SessionRepo(u.conn),
    "account_admin": lambda u: AccountAdminRepo(u.conn),
}


class SqlUnitOfWork:
    accounts: AccountRepo
    subjects: SubjectRepo
    websites: WebsiteRepo
    changes: ChangeRepo
    outbox: OutboxRepo
    webhooks: WebhookRepo
    auth_codes: AuthCodeRepo
    domain_cache: DomainFactsCache
    audit: AuditRepo
    reminders: ReminderRepo
    reports: ReportRepo
    claims: ClaimRepo
    sweeps: SweepRepo
    imports: ImportRepo
    sessions: SessionRepo
    account_admin: AccountAdminRepo

    def __init__(
        self,
        engine: Engine,
        cipher: DataCipher,
        *,
        readonly: bool = False,
        on_queued: Callable[[list[int]], Any] | None = None,
        readers: ReaderPool | None = None,
        writers: WriterPool | None = None,
    ) -> None:
        self.engine, self.cipher, self.readonly = engine, cipher, readonly
        #: Where a unit of work takes its connection (SQLite; None: the engine's pool).
        self._readers = readers if readonly else None
        self._writers = None if readonly else writers
        self._after: list[Callable[[], Any]] = []
        #: Rows one repository read along with its own for another (``along.py``): read-only
        #: units of work only.
        self.read_along = ReadAlong() if readonly else None
        #: Called after commit with the outbox rows the repositories queued by themselves
        #: (webhook deliveries fanned out from timeline events), to wake the worker at once.
        self._on_queued = on_queued

    def __enter__(self) -> SqlUnitOfWork:
        if self._readers is not None:
            self._attempt = self._wal = self._lock = None
            self.conn, self.tx = self._readers.take()
            return self
        attempt = None if self.readonly else _ATTEMPT.get()
        #: Inside a write attempt that has not committed yet: take the lock only if it is free.
        try_only = attempt is not None and not attempt.committed
        self._attempt = attempt
        self._wal = None if self.readonly else _wal_sync(self.engine)
        self._lock = None if self.readonly else _write_lock(self.engine)
        if self._lock is not None:
            if not self._lock.acquire(blocking=not try_only):
                self._lock = None
                raise WriteWouldWait()
        try:
            opts: dict[str, Any] = {"sqlite_begin": "DEFERRED" if self.readonly else "IMMEDIATE"}
            if self.readonly and self.engine.dialect.name == "postgresql":
                # Reads without BEGIN/ROLLBACK: under READ COMMITTED (PostgreSQL's default,
                # ours) every statement of a transaction takes its own snapshot anyway, so a
                # read-only transaction bought nothing but two round trips per request (a
                # GET's session check and website read were five round trips, now three).
                opts["isolation_level"] = "AUTOCOMMIT"
            if self._writers is not None:
                self.conn = self._writers.take()
            else:
                self.conn = self.engine.connect().execution_options(**opts)
            if self._wal is not None:
                raw = self.conn.connection.driver_connection
                if self._wal.wal_mode is None:  # once: group commit needs the write-ahead log
                    mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
                    self._wal.wal_mode = str(mode).lower() == "wal"
                if self._wal.wal_mode:
                    # Written to the log at COMMIT, synced after it, outside the lock
                    # (``_durable``). A kept writer stays so (``WriterPool``); a connection of
                    # the engine's pool goes back to FULL before it returns there.
                    if not self.conn.info.get(_NORMAL):
                        raw.execute("PRAGMA synchronous=NORMAL")
                        self.conn.info[_NORMAL] = True
                    self._normal = self._writers is None
                else:  # another journal mode: FULL's own sync inside COMMIT, as before
                    self._wal = None
            if try_only and self._lock is not None:
                self.tx = self._begin_without_waiting()
            else:
                self.tx = self.conn.begin()
        except BaseException as exc:
            conn = self.__dict__.pop("conn", None)
            if conn is not None:
                if self._writers is not None and isinstance(exc, WriteWouldWait):
                    self._writers.give(conn)  # it began nothing: kept for the next write
                elif self._writers is not None:
                    self._writers.discard(conn)
                else:
                    self._restore_sync(conn)
                    conn.close()
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            raise
        return self

    def _begin_without_waiting(self) -> Any:
        """BEGIN IMMEDIATE that fails at once (``WriteWouldWait``) when another connection —
        another process on the same file — holds SQLite's write lock, instead of waiting in the
        busy handler for up to ``SQLITE_BUSY_TIMEOUT_MS`` on the event loop."""
        raw = self.conn.connection.driver_connection
        raw.execute("PRAGMA busy_timeout=0")
        try:
            return self.conn.begin()
        except Exception as exc:
            text = str(getattr(exc, "orig", exc)).lower()
            if isinstance(exc, OperationalError | sqlite3.OperationalError) and (
                "locked" in text or "busy" in text
            ):
                raise WriteWouldWait() from exc
            raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: a repository's first use in this unit of work.
        factory = _REPOS.get(name)
        if factory is None or "conn" not in self.__dict__:
            raise AttributeError(name)
        repo = factory(self)
        setattr(self, name, repo)
        return repo

    def after_commit(self, fn: Callable[[], Any]) -> None:
        self._after.append(fn)

    def commit(self) -> None:
        self.tx.commit()
        if self._attempt is not None:  # from now on the attempt cannot be run again: it waits
            self._attempt.committed = True
        if self._wal is not None:
            self._durable(self._wal.committed())
        changes = self.__dict__.get("changes")  # only a unit of work that used it queued any
        queued: list[int] = []
        if changes is not None:
            queued, changes.webhook_outbox_ids = changes.webhook_outbox_ids, []
        if queued and self._on_queued is not None:
            self._after.append(lambda: self._on_queued(queued))
        callbacks, self._after = self._after, []
        for fn in callbacks:
            fn()

    def _durable(self, seq: int) -> None:
        """Commit ``seq`` is in the log, not yet on disk: give the write lock back first (the
        next writer commits while this one's fsync runs, and that fsync covers it too), then
        wait for the fsync — or, inside a write attempt, leave the wait to the entry point,
        which answers only once it is over (``WriteAttempt.made_durable``)."""
        self._restore_sync(self.conn)
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.release()
        attempt = self._attempt
        if attempt is not None:
            attempt.pending, attempt.wal = max(attempt.pending, seq), self._wal
        else:
            assert self._wal is not None
            self._wal.wait(seq)

    def _restore_sync(self, conn: Any) -> None:
        """Back to FULL once, after the commit or on the way out, whichever comes first."""
        if self.__dict__.get("_normal") and not conn.closed and not conn.invalidated:
            conn.connection.driver_connection.execute("PRAGMA synchronous=FULL")
            conn.info.pop(_NORMAL, None)
            self._normal = False

    def rollback(self) -> None:
        if self.tx.is_active:
            self.tx.rollback()

    def __exit__(self, *exc: object) -> None:
        if self._readers is not None:
            self._readers.give(self.conn, self.tx)
            return
        if self._writers is not None:
            try:
                try:
                    self.rollback()
                except BaseException:
                    self._writers.discard(self.conn)
                    raise
                self._writers.give(self.conn)
            finally:
                if self._lock is not None:
                    self._lock.release()
            return
        try:
            try:
                self.rollback()
                self._restore_sync(self.conn)
            except BaseException:
                if self._wal is not None:  # never back into the pool still set to NORMAL
                    self.conn.invalidate()
                raise
            finally:
                self.conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()


# -- connections kept open for the units of work ---------------------------------------------


class ReaderPool:
    """The read-only units of work's connections on SQLite, kept checked out and reused.

    Every request opens one read-only unit of work (``SharedReads``); through the engine's pool
    that was a check-out (pool queue, four event dispatches, a ``Connection``), a BEGIN, and on
    the way back a ROLLBACK, the pool's own reset ROLLBACK and a check-in — 27 µs, half of a
    request's session check (measured here). These connections stay checked out in a free list
    of their own; a read takes one, begins its read transaction on the driver (``BEGIN
    DEFERRED``: one snapshot for the whole unit of work, as before) and gives it back rolled
    back. Nothing else changes: statements run through the same SQLAlchemy ``Connection``
    (whose own autobegin finds the transaction open, ``engine._sqlite_begin``), a connection
    that failed is closed instead of kept, and at most ``keep`` idle ones are kept (the others
    go back to the engine's pool). When the app that built it goes away, so do its connections
    (back to the engine's pool; a sync driver's connection is returned, not dropped).
    """

    options: dict[str, Any] = {"beiandesk_reader": True}

    def __init__(self, engine: Engine, keep: int = 64) -> None:
        self.engine, self.keep = engine, keep
        self._free: list[Any] = []
        # ``engine.dispose()`` (before ``serve --workers`` starts its nodes, before a restore)
        # closes these too: the pool's own dispose leaves checked-out connections alone. So
        # does the pool's end (the app that built it gone) — see ``_release``.
        ref = weakref.ref(self)

        def _disposed(_engine: Engine) -> None:
            pool = ref()
            if pool is not None:
                pool.close()

        event.listen(engine, "engine_disposed", _disposed)
        weakref.finalize(self, _release, self._free)

    def _connection(self) -> Any:
        while True:
            try:  # one atomic pop: threads of the threadpool take connections too
                conn = self._free.pop()
            except IndexError:
                break
            if not conn.closed and not conn.invalidated:
                return conn
            _release([conn])  # invalidated while idle (a disconnect): not handed out
        return self.engine.connect().execution_options(**self.options)

    def take(self) -> tuple[Any, _ReadTx]:
        conn = self._connection()
        try:
            conn.connection.driver_connection.execute("BEGIN DEFERRED")
        except BaseException:
            self.discard(conn)
            raise
        return conn, _ReadTx(conn, begun=True)

    def give(self, conn: Any, tx: _ReadTx) -> None:
        try:
            tx.rollback()
        except BaseException:
            self.discard(conn)
            raise
        self._keep(conn)

    def _keep(self, conn: Any) -> None:
        if conn.closed or conn.invalidated or len(self._free) >= self.keep:
            _release([conn])
        else:
            self._free.append(conn)

    @staticmethod
    def discard(conn: Any) -> None:
        """A connection that failed: dropped, never kept nor pooled again."""
        if not conn.closed:
            conn.invalidate()
            conn.close()

    def close(self) -> None:
        """Give every idle connection back to the engine's pool (before ``engine.dispose()``)."""
        _release(self._free)


def _release(conns: list[Any]) -> None:
    """Give kept connections back to the engine's pool as the pool hands them out: a writer's
    ``synchronous`` back to FULL first (``WriterPool``), or dropped if even that fails."""
    while True:
        try:  # one atomic pop, as in ``_connection``
            conn = conns.pop()
        except IndexError:
            return
        if conn.closed:
            continue
        try:
            # ``invalidated`` first: an invalidated connection's ``info`` would try to reconnect
            # and raise PendingRollbackError over the error that invalidated it.
            if not conn.invalidated and conn.info.get(_NORMAL):
                conn.connection.driver_connection.execute("PRAGMA synchronous=FULL")
                conn.info.pop(_NORMAL, None)
        except BaseException:
            conn.invalidate()
            raise
        finally:
            conn.close()


#: ``Connection.info`` flag: this connection is set to ``synchronous=NORMAL`` (group commit).
_NORMAL = "beiandesk_synchronous_normal"


class WriterPool(ReaderPool):
    """The write units of work's connections on SQLite, kept like the readers' (``ReaderPool``)
    and kept in ``synchronous=NORMAL`` (group commit: ``durability.py``): a save's unit of work
    was a pool check-out and check-in and four PRAGMAs around its BEGIN IMMEDIATE — 65–100 µs
    of a PATCH (measured here). Writes still queue on the process's write lock and begin as
    before (``engine._sqlite_begin``); a kept writer is used only for group-committed writes,
    which wait for their fsync, and goes back to FULL before it returns to the engine's pool
    (dispose, or the app gone), so migrations and backups commit as before."""

    options = {"sqlite_begin": "IMMEDIATE"}

    def take(self) -> Any:  # type: ignore[override]
        return self._connection()

    def give(self, conn: Any) -> None:  # type: ignore[override]
        self._keep(conn)


class PgReaderPool(ReaderPool):
    """PostgreSQL's read-only units of work on kept connections, in autocommit (as before: under
    READ COMMITTED a read transaction bought no snapshot, only round trips).

    Through the engine's pool every request's read was a check-out with ``pool_pre_ping``: a
    ``SELECT 1`` round trip before the session check, a third of a ``GET``'s round trips. A kept
    connection is pinged only when it has been idle for more than ``ALIVE_S`` (HikariCP's
    "alive bypass window" of 500 ms): one used a moment ago answered a moment ago. A ping that
    fails drops the connection and takes a fresh one from the engine's pool (pre-pinged), so a
    restarted server costs no request an error, as with the pre-ping.
    """

    options = {"isolation_level": "AUTOCOMMIT"}
    ALIVE_S = 0.5

    def take(self) -> tuple[Any, _ReadTx]:
        conn = self._connection()
        if time.monotonic() - conn.info.get(_USED, 0.0) > self.ALIVE_S:
            try:
                self._ping(conn)
            except Exception:  # noqa: BLE001 - gone (a restart, a timeout): a fresh one
                self.discard(conn)
                conn = self.engine.connect().execution_options(**self.options)
        return conn, _ReadTx(conn, begun=False)

    @staticmethod
    def _ping(conn: Any) -> None:
        # Through the DBAPI cursor, not the driver's connection: the same call on the sync
        # driver and on the async one under a greenlet (``adapters/db/on_loop.py``).
        cur = conn.connection.cursor()
        try:
            cur.execute("SELECT 1")
        finally:
            cur.close()

    def give(self, conn: Any, tx: _ReadTx) -> None:
        if not conn.closed and not conn.invalidated:
            conn.info[_USED] = time.monotonic()
        super().give(conn, tx)


class PgWriterPool(PgReaderPool):
    """PostgreSQL's write units of work on kept connections, pinged only after ``ALIVE_S``
    idle like the readers (``PgReaderPool``) instead of the pool's pre-ping round trip before
    every save. Writes begin and commit as before (READ COMMITTED); a unit of work that did
    not commit is rolled back before its connection is kept again, and one whose rollback
    fails is dropped (``SqlUnitOfWork.__exit__``): none is kept mid-transaction. Used by the
    saves run on the loop (``on_loop.py``)."""

    options: dict[str, Any] = {}

    def take(self) -> Any:  # type: ignore[override]
        return super().take()[0]

    @staticmethod
    def _ping(conn: Any) -> None:
        """The ping in autocommit (setting it sends nothing): outside a transaction, it opens
        none — a BEGIN fewer, and the save after a pause can still be one statement
        (``ChangeRepo._save_alone``)."""
        raw = conn.connection.dbapi_connection
        raw.autocommit = True
        try:
            PgReaderPool._ping(conn)
        finally:
            raw.autocommit = False

    def give(self, conn: Any) -> None:  # type: ignore[override]
        if not conn.closed and not conn.invalidated:
            conn.info[_USED] = time.monotonic()
        self._keep(conn)


#: ``Connection.info``: when a kept PostgreSQL reader last answered (``time.monotonic``).
_USED = "beiandesk_reader_used"


class _ReadTx:
    """The read of a kept reader: on SQLite a transaction begun on the driver; if a statement
    run through SQLAlchemy made the ``Connection`` begin too, ended through it."""

    __slots__ = ("conn", "is_active", "begun")

    def __init__(self, conn: Any, *, begun: bool) -> None:
        self.conn, self.is_active, self.begun = conn, True, begun

    def _end(self, how: str) -> None:
        if not self.is_active:
            return
        self.is_active = False  # this unit of work's read is over (its connection may be reused)
        conn = self.conn
        if conn.closed or conn.invalidated:
            return
        if conn.in_transaction():
            (conn.commit if how == "COMMIT" else conn.rollback)()
        elif self.begun:
            raw = conn.connection.driver_connection
            if raw.in_transaction:
                raw.execute(how)

    def commit(self) -> None:
        self._end("COMMIT")

    def rollback(self) -> None:
        self._end("ROLLBACK")


# -- a write attempt on the event loop ----------------------------------------------------------

_ATTEMPT: ContextVar[WriteAttempt | None] = ContextVar("beiandesk_write_attempt", default=None)


class WriteAttempt:
    """What one attempt committed: whether (no more stepping aside) and up to which commit the
    log must be synced before the entry point answers."""

    __slots__ = ("committed", "pending", "wal")

    def __init__(self) -> None:
        self.committed = False
        self.pending = 0
        self.wal: WalSync | None = None

    @property
    def needs_sync(self) -> bool:
        return self.wal is not None and not self.wal.durable(self.pending)

    def make_durable(self) -> None:
        """Block until every commit of the attempt is on disk (run it off the event loop)."""
        if self.wal is not None and self.pending:
            self.wal.wait(self.pending)

    async def made_durable(self) -> None:
        """``make_durable`` on the event loop: wait, without blocking it, for the fsync that
        covers every commit of the attempt (``WalSync.wait_async``)."""
        if self.wal is not None and self.pending:
            await self.wal.wait_async(self.pending)


@contextlib.contextmanager
def write_attempt() -> Iterator[WriteAttempt]:
    """Inside, a write unit of work takes SQLite's write lock only if it is free at once and
    raises ``WriteWouldWait`` otherwise — until the first commit; later ones wait as usual, so a
    use case is never asked to run again after it wrote something. The entry point runs a
    single-write use case this way on the event loop (``entrypoints/api/security.point_write``)
    and, on ``WriteWouldWait``, again in the threadpool. The attempt's commits are synced to
    disk only by ``made_durable()``, which the entry point awaits before it answers."""
    attempt = WriteAttempt()
    token = _ATTEMPT.set(attempt)
    try:
        yield attempt
    finally:
        _ATTEMPT.reset(token)


# -- one read-only unit of work per request ------------------------------------------------------

_SHARED: ContextVar[SharedReads | None] = ContextVar("beiandesk_shared_reads", default=None)


class SharedReads:
    """Within ``with SharedReads():`` (an HTTP request), the read-only units of work share one
    connection (and, on SQLite, one read transaction; PostgreSQL reads run in autocommit): the
    session check and the route's own read were two pool check-outs, two BEGINs and two
    ROLLBACKs — a fifth of a ``GET /api/v1/websites/{id}``.

    A write opened in the scope ends the shared read first, so a later read sees the write
    (read-your-writes, as with separate units of work). A read asked for while the shared one is
    stale but still in use gets a private unit of work, as before.
    """

    def __init__(self) -> None:
        self._uow: SqlUnitOfWork | None = None
        self._depth = 0
        self._stale = False

    def __enter__(self) -> SharedReads:
        self._token = _SHARED.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _SHARED.reset(self._token)
        self._close()

    def _close(self) -> None:
        uow, self._uow, self._stale = self._uow, None, False
        if uow is not None:
            uow.__exit__(None, None, None)

    def _write_opened(self) -> None:
        if self._depth == 0:
            self._close()
        else:
            self._stale = True

    def _reader(self, make: Callable[[], SqlUnitOfWork]) -> Any:
        if self._stale and self._depth > 0:
            return make()
        return _SharedHandle(self, make)


class _SharedHandle:
    __slots__ = ("scope", "make")

    def __init__(self, scope: SharedReads, make: Callable[[], SqlUnitOfWork]) -> None:
        self.scope, self.make = scope, make

    def __enter__(self) -> SqlUnitOfWork:
        scope = self.scope
        if scope._uow is None:
            scope._uow = self.make().__enter__()
        scope._depth += 1
        return scope._uow

    def __exit__(self, exc_type: object, *exc: object) -> None:
        scope = self.scope
        scope._depth -= 1
        if exc_type is not None:
            scope._stale = True  # a failed read may have left the connection unusable
        if scope._depth == 0 and scope._stale:
            scope._close()


def scoped_uow(make: Callable[[bool], SqlUnitOfWork]) -> Callable[..., Any]:
    """Wrap a unit-of-work factory so that it honours an active :class:`SharedReads`."""

    def uow(readonly: bool = False) -> Any:
        shared = _SHARED.get()
        if shared is None:
            return make(readonly)
        if readonly:
            return shared._reader(lambda: make(True))
        shared._write_opened()
        write = make(False)
        # A read opened while the write was open (before its commit) must not be the one a
        # later read reuses either: on SQLite its snapshot predates the commit.
        write.after_commit(shared._write_opened)
        return write

    return uow
