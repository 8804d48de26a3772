"""The unit of work: one transaction, its repositories, and what to do after commit.

Use cases commit explicitly; leaving the block without ``commit()`` rolls back.
``after_commit`` callbacks (waking the job runner) run only once the data is durable.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db.accounts import AccountAdminRepo
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


#: The repositories a unit of work offers: built on first use (a request touches one or two of
#: sixteen; building them all was a third of an empty read-only unit of work).
_REPOS: dict[str, Callable[[Any], Any]] = {
    "accounts": lambda u: AccountRepo(u.conn),
    "subjects": lambda u: SubjectRepo(u.conn, u.cipher),
    "websites": lambda u: WebsiteRepo(u.conn, u.cipher),
    "changes": lambda u: ChangeRepo(u.conn, u.cipher),
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
    ) -> None:
        self.engine, self.cipher, self.readonly = engine, cipher, readonly
        self._after: list[Callable[[], Any]] = []
        #: Called after commit with the outbox rows the repositories queued by themselves
        #: (webhook deliveries fanned out from timeline events), to wake the worker at once.
        self._on_queued = on_queued

    def __enter__(self) -> SqlUnitOfWork:
        self._lock = None if self.readonly else _write_lock(self.engine)
        if self._lock is not None:
            self._lock.acquire()
        opts = {"sqlite_begin": "DEFERRED" if self.readonly else "IMMEDIATE"}
        self.conn = self.engine.connect().execution_options(**opts)
        self.tx = self.conn.begin()
        return self

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
        changes = self.__dict__.get("changes")  # only a unit of work that used it queued any
        queued: list[int] = []
        if changes is not None:
            queued, changes.webhook_outbox_ids = changes.webhook_outbox_ids, []
        if queued and self._on_queued is not None:
            self._after.append(lambda: self._on_queued(queued))
        callbacks, self._after = self._after, []
        for fn in callbacks:
            fn()

    def rollback(self) -> None:
        if self.tx.is_active:
            self.tx.rollback()

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
            self.conn.close()
        finally:
            if self._lock is not None:
                self._lock.release()


# -- one read-only unit of work per request ------------------------------------------------------

_SHARED: ContextVar[SharedReads | None] = ContextVar("beiandesk_shared_reads", default=None)


class SharedReads:
    """Within ``with SharedReads():`` (an HTTP request), the read-only units of work share one
    connection and one read transaction: the session check and the route's own read were two
    pool check-outs, two BEGINs and two ROLLBACKs — a fifth of a ``GET /api/v1/websites/{id}``.

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
