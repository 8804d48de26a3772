"""``write_attempt`` (adapters/db/uow.py) and ``point_write`` (entrypoints/api/security.py): a
single-write use case runs on the event loop only while SQLite's write lock is free; when it is
taken — by another thread of this process or by another connection to the file — the attempt
steps aside at once (``WriteWouldWait``, nothing written) and the request is served again from
the threadpool, exactly once. After an attempt's first commit nothing steps aside any more (a
use case is never run twice after it wrote). On PostgreSQL the attempt changes nothing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import text

from beiandesk.adapters.db.uow import write_attempt
from beiandesk.entrypoints.api import routes_changes
from beiandesk.services.ports import WriteWouldWait
from tests.conftest import login


def _is_sqlite(deps) -> bool:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        return uow.conn.dialect.name == "sqlite"


class _Holder:
    """Another thread holding a write unit of work (the process's write lock) until released."""

    def __init__(self, deps) -> None:  # noqa: ANN001
        self.deps, self.taken, self.release = deps, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.deps.uow():
            self.taken.set()
            self.release.wait(10)

    def __enter__(self) -> _Holder:
        self.thread.start()
        assert self.taken.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def _audit_count(deps) -> int:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        return uow.conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()


def _write_audit(uow, what: str) -> None:  # noqa: ANN001
    uow.conn.execute(
        text(
            "INSERT INTO audit_log (at, actor, action, target, detail) "
            "VALUES (CURRENT_TIMESTAMP, 'test', :a, 't', '{}')"
        ),
        {"a": what},
    )


def test_it_steps_aside_at_once_when_another_thread_holds_the_lock(deps) -> None:  # noqa: ANN001
    """SQLite: one writer, so the attempt steps aside. PostgreSQL: writers run side by side
    (there is no such lock), so the attempt just writes."""
    before = _audit_count(deps)
    with _Holder(deps):
        started = time.monotonic()
        if _is_sqlite(deps):
            with pytest.raises(WriteWouldWait), write_attempt(), deps.uow() as uow:
                _write_audit(uow, "never")
                uow.commit()
        else:
            with write_attempt(), deps.uow() as uow:
                _write_audit(uow, "side by side")
                uow.commit()
            before += 1
        assert time.monotonic() - started < 1
    assert _audit_count(deps) == before
    with write_attempt(), deps.uow() as uow:  # the lock is free again: it goes through
        _write_audit(uow, "once")
        uow.commit()
    assert _audit_count(deps) == before + 1


def test_after_its_first_commit_an_attempt_waits_like_anyone(deps) -> None:  # noqa: ANN001
    before = _audit_count(deps)
    with write_attempt():
        with deps.uow() as uow:
            _write_audit(uow, "first")
            uow.commit()
        holder = _Holder(deps)
        with holder:
            threading.Timer(0.3, holder.release.set).start()
            started = time.monotonic()
            with deps.uow() as uow:  # waits for the holder instead of stepping aside
                _write_audit(uow, "second")
                uow.commit()
            waited = time.monotonic() - started
    assert _audit_count(deps) == before + 2
    if _is_sqlite(deps):
        assert waited >= 0.25


def test_only_sqlite_files_have_a_log_syncer(app) -> None:  # noqa: ANN001
    """Group commit is SQLite's (adapters/db/durability.py); PostgreSQL syncs its own commits."""
    from beiandesk.adapters.db.uow import _wal_sync

    assert (_wal_sync(app.engine) is None) is (app.engine.dialect.name == "postgresql")
    assert app.deps.inline_writes is (app.engine.dialect.name == "sqlite")


def _order(client):  # noqa: ANN001, ANN202
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    return h, r.json()


def test_a_patch_runs_on_the_loop_or_once_in_a_thread_when_the_lock_is_taken(
    client, monkeypatch
) -> None:  # noqa: ANN001
    h, c = _order(client)
    deps = client.app.state.deps
    runs: list[bool] = []  # per call of the use case: on the event loop?
    real = routes_changes.changes.update_change

    def recorded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            asyncio.get_running_loop()
            runs.append(True)
        except RuntimeError:
            runs.append(False)
        return real(*args, **kwargs)

    monkeypatch.setattr(routes_changes.changes, "update_change", recorded)
    r = client.patch(
        f"/api/v1/changes/{c['id']}", headers={**h, "If-Match": '"1"'}, json={"name": "第一次保存"}
    )
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    sqlite = _is_sqlite(deps)
    # On the loop on both: SQLite's attempt, PostgreSQL's greenlet (adapters/db/on_loop.py).
    assert runs == [True]
    runs.clear()
    holder = _Holder(deps)
    with holder:
        threading.Timer(0.3, holder.release.set).start()
        r = client.patch(
            f"/api/v1/changes/{c['id']}",
            headers={**h, "If-Match": '"2"'},
            json={"name": "锁被占用时的保存"},
        )
    assert r.status_code == 200 and r.json()["version"] == 3, r.text
    # SQLite: tried on the loop, stepped aside, served once from a thread; PostgreSQL: another
    # writer takes no lock that the save would wait for — on the loop, once.
    assert runs == ([True, False] if sqlite else [True])
    stored = client.get(f"/api/v1/changes/{c['id']}", headers=h).json()
    assert stored["version"] == 3 and stored["proposed"]["name"] == "锁被占用时的保存"
    with deps.uow(readonly=True) as uow:
        edits = [e for e in uow.changes.events(c["id"]) if e.kind == "edited"]
    assert len(edits) == 2  # one per save: the attempt that stepped aside wrote nothing


def test_reads_on_postgresql_skip_begin_and_rollback(deps) -> None:  # noqa: ANN001
    """PostgreSQL (READ COMMITTED: each statement its own snapshot anyway) reads in autocommit —
    two round trips fewer per request; SQLite keeps its read transaction (one WAL snapshot);
    writes are transactions on both."""
    with deps.uow(readonly=True) as uow:
        raw = uow.conn.connection.driver_connection
        uow.conn.execute(text("SELECT 1"))
        if uow.conn.dialect.name == "postgresql":
            assert raw.autocommit is True
            assert raw.info.transaction_status.name == "IDLE"  # no BEGIN was sent
        else:
            assert raw.in_transaction
    with deps.uow() as uow:
        raw = uow.conn.connection.driver_connection
        uow.conn.execute(text("SELECT 1"))
        if uow.conn.dialect.name == "postgresql":
            assert raw.autocommit is False and raw.info.transaction_status.name != "IDLE"
        else:
            assert raw.in_transaction
