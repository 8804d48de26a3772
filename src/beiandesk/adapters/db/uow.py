"""The unit of work: one transaction, its repositories, and what to do after commit.

Use cases commit explicitly; leaving the block without ``commit()`` rolls back.
``after_commit`` callbacks (waking the job runner) run only once the data is durable.
"""

from __future__ import annotations

import threading
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


class SqlUnitOfWork:
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
        self.accounts = AccountRepo(self.conn)
        self.subjects = SubjectRepo(self.conn, self.cipher)
        self.websites = WebsiteRepo(self.conn, self.cipher)
        self.changes = ChangeRepo(self.conn, self.cipher)
        self.outbox = OutboxRepo(self.conn, self.cipher)
        self.webhooks = WebhookRepo(self.conn, self.cipher)
        self.auth_codes = AuthCodeRepo(self.conn)
        self.domain_cache = DomainFactsCache(self.conn)
        self.audit = AuditRepo(self.conn)
        self.reminders = ReminderRepo(self.conn)
        self.reports = ReportRepo(self.conn)
        self.claims = ClaimRepo(self.conn)
        self.sweeps = SweepRepo(self.conn)
        self.imports = ImportRepo(self.conn, self.cipher)
        self.sessions = SessionRepo(self.conn)
        self.account_admin = AccountAdminRepo(self.conn)
        return self

    def after_commit(self, fn: Callable[[], Any]) -> None:
        self._after.append(fn)

    def commit(self) -> None:
        self.tx.commit()
        queued, self.changes.webhook_outbox_ids = self.changes.webhook_outbox_ids, []
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
