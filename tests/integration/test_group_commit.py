"""Group commit (adapters/db/durability.py), SQLite's own mechanism, so these run on a SQLite file
only (PostgreSQL syncs its own commits: test_write_attempt.py checks it has no log syncer): a
write unit of work commits into the log with ``synchronous=NORMAL`` and is acknowledged only
after an fsync of the log that started after its commit; commits that arrive while an fsync runs
share the next one; the pooled connections go back to ``synchronous=FULL`` for everything else;
a PATCH served on the event loop answers only once its fsync is over; a write attempt meeting
another connection's lock on the file steps aside at once."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from beiandesk.adapters.db import durability
from beiandesk.adapters.db.engine import SQLITE_BUSY_TIMEOUT_MS
from beiandesk.adapters.db.uow import _wal_sync, write_attempt
from beiandesk.services.ports import WriteWouldWait
from tests.conftest import login
from tests.own_loop import run_in_own_loop


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite file only (see the module docstring)."""
    path = tmp_path / "beiandesk.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _write(deps, what: str) -> None:  # noqa: ANN001
    with deps.uow() as uow:
        uow.conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'test', :a, 't', '{}')"
            ),
            {"a": what},
        )
        uow.commit()


@pytest.fixture
def fsyncs(monkeypatch):  # noqa: ANN001, ANN201
    """Every fsync of the log, slowed to 80 ms so that commits pile up behind one."""
    done: list[float] = []
    real = durability.os.fsync

    def slow(fd: int) -> None:
        time.sleep(0.08)
        real(fd)
        done.append(time.monotonic())

    monkeypatch.setattr(durability.os, "fsync", slow)
    return done


def test_a_commit_returns_after_an_fsync_and_concurrent_ones_share_it(app, deps, fsyncs) -> None:  # noqa: ANN001
    assert _wal_sync(app.engine) is not None
    started = time.monotonic()
    _write(deps, "alone")
    assert len(fsyncs) == 1 and fsyncs[0] <= time.monotonic()  # acknowledged after its fsync
    assert time.monotonic() - started >= 0.08
    fsyncs.clear()
    returned: list[float] = []
    threads = [
        threading.Thread(
            target=lambda i=i: (_write(deps, f"t{i}"), returned.append(time.monotonic()))
        )
        for i in range(8)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(20)
    assert len(returned) == 8
    # no commit came back before an fsync that finished after it was made…
    assert all(any(f <= r for f in fsyncs) for r in returned)
    # …and eight commits needed fewer fsyncs than eight (the ones that queued shared one)
    assert 1 <= len(fsyncs) < 8, fsyncs
    with deps.uow(readonly=True) as uow:
        n = uow.conn.execute(text("SELECT count(*) FROM audit_log WHERE actor = 'test'")).scalar()
    assert n == 9


def test_pooled_connections_are_back_to_full_after_a_write(app, deps) -> None:  # noqa: ANN001
    _write(deps, "x")
    with deps.uow() as uow:  # a failed write too
        uow.conn.execute(text("SELECT 1"))
        writers, kept = uow._writers, uow.conn
    # The kept writer stays in NORMAL (group commit), outside the engine's pool …
    assert kept.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    with deps.uow(readonly=True) as r:  # … and nothing else is: not the readers
        assert r.conn.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    writers.close()  # as engine.dispose() does: the writer goes back to the pool in FULL
    assert kept.closed
    idle = [app.engine.raw_connection() for _ in range(app.engine.pool.checkedin())]
    try:
        assert idle
        for conn in idle:
            assert conn.driver_connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        for conn in idle:
            conn.close()


def test_a_patch_on_the_loop_answers_only_after_its_fsync(client, monkeypatch) -> None:  # noqa: ANN001
    deps = client.app.state.deps
    assert deps.inline_writes and _wal_sync(client.app.state.app.engine) is not None
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    c = client.post(f"/api/v1/websites/{site}/changes", headers=h).json()
    gate, entered = threading.Event(), threading.Event()
    real = durability.os.fsync

    def held(fd: int) -> None:
        entered.set()
        assert gate.wait(10)
        real(fd)

    monkeypatch.setattr(durability.os, "fsync", held)
    answer: list = []
    th = threading.Thread(
        target=lambda: answer.append(
            client.patch(
                f"/api/v1/changes/{c['id']}",
                headers={**h, "If-Match": '"1"'},
                json={"name": "落盘后才答复"},
            )
        )
    )
    th.start()
    assert entered.wait(10)  # the save is committed to the log and its fsync has begun…
    time.sleep(0.3)
    assert answer == []  # …and no answer has gone out
    # meanwhile the server still answers other requests (the fsync waits in a thread)
    assert client.get(f"/api/v1/websites/{site}", headers=h).status_code == 200
    gate.set()
    th.join(10)
    assert answer and answer[0].status_code == 200 and answer[0].json()["version"] == 2


def test_another_connections_lock_fails_the_attempt_fast_and_keeps_the_timeout(
    app, deps, settings
) -> None:  # noqa: ANN001
    path = settings.database_url.removeprefix("sqlite:///")
    with deps.uow() as first:  # the kept writer
        writer = first.conn
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process's writer, as far as SQLite can tell
    try:
        started = time.monotonic()
        with pytest.raises(WriteWouldWait), write_attempt(), deps.uow() as uow:
            uow.conn.execute(text("SELECT 1"))
        assert time.monotonic() - started < 2  # not the 30 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()
    # the writer that stepped aside is kept (it began nothing) and waits its full busy timeout
    # for ordinary writers again, as does every connection of the engine's pool
    with deps.uow() as again:
        assert again.conn is writer
        raw = again.conn.connection.driver_connection
        assert raw.execute("PRAGMA busy_timeout").fetchone()[0] == SQLITE_BUSY_TIMEOUT_MS
    idle = [app.engine.raw_connection() for _ in range(app.engine.pool.checkedin())]
    try:
        for conn in idle:
            timeout = conn.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0]
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
    finally:
        for conn in idle:
            conn.close()


def test_a_log_that_is_not_where_sqlite_writes_is_never_taken_for_synced(tmp_path: Path) -> None:
    wal = durability.WalSync(tmp_path / "missing.db")
    seq = wal.committed()
    with pytest.raises(RuntimeError):
        wal.wait(seq)
    assert not wal.durable(seq)
    (tmp_path / "missing.db").write_bytes(b"")  # the database is there, its log checkpointed away
    wal.wait(seq)
    assert wal.durable(seq)


def test_outside_wal_mode_writes_keep_fulls_own_sync(app, deps, fsyncs) -> None:  # noqa: ANN001
    """A database that is not in WAL mode (the PRAGMA refused, a file system without shared
    memory): no NORMAL, no log syncer — SQLite's FULL syncs inside COMMIT as before."""
    wal = _wal_sync(app.engine)
    app.engine.dispose()
    raw = sqlite3.connect(str(wal.database))
    raw.execute("PRAGMA journal_mode=DELETE")
    raw.close()
    wal.wal_mode = None  # as for a fresh process
    from sqlalchemy import event

    @event.listens_for(app.engine, "connect")
    def _journal(dbapi_conn, _record) -> None:  # noqa: ANN001 — after the engine's WAL PRAGMA
        dbapi_conn.execute("PRAGMA journal_mode=DELETE")

    _write(deps, "no wal")
    assert wal.wal_mode is False and fsyncs == []
    with deps.uow() as uow:
        assert uow.conn.execute(text("PRAGMA synchronous")).scalar() == 2
        assert uow.conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"


def test_a_connection_that_cannot_go_back_to_full_is_not_pooled_again(
    app, deps, monkeypatch
) -> None:  # noqa: ANN001
    from beiandesk.adapters.db.uow import SqlUnitOfWork

    seen: list = []

    def broken(self, conn) -> None:  # noqa: ANN001
        seen.append(conn.connection.driver_connection)
        raise RuntimeError("restore failed")

    monkeypatch.setattr(SqlUnitOfWork, "_restore_sync", broken)
    # a unit of work on the engine's pool (no kept writers: as built outside bootstrap)
    with pytest.raises(RuntimeError), SqlUnitOfWork(app.engine, deps.uow(True).cipher) as uow:
        uow.conn.execute(text("SELECT 1"))
    monkeypatch.undo()
    idle = [app.engine.raw_connection() for _ in range(app.engine.pool.checkedin())]
    try:
        assert all(c.driver_connection is not seen[0] for c in idle)  # discarded, not pooled
        _write(deps, "after")  # and the next write works on a fresh connection
    finally:
        for c in idle:
            c.close()


def test_a_kept_writer_that_cannot_go_back_to_full_is_not_pooled_again(app, deps) -> None:  # noqa: ANN001
    """``WriterPool``: a writer goes back to the engine's pool only once it is in FULL again; if
    that fails it is dropped (never handed out in NORMAL to a migration or a backup)."""
    _write(deps, "x")
    with deps.uow() as uow:
        writers, kept = uow._writers, uow.conn
    raw = kept.connection.driver_connection
    raw.close()  # PRAGMA synchronous=FULL will fail on it
    with pytest.raises(sqlite3.ProgrammingError):
        writers.close()
    idle = [app.engine.raw_connection() for _ in range(app.engine.pool.checkedin())]
    try:
        assert all(c.driver_connection is not raw for c in idle)  # discarded, not pooled
        _write(deps, "after")  # and the next write works on a fresh connection
    finally:
        for c in idle:
            c.close()


# --- waiting on the event loop (WalSync.wait_async, WriteAttempt.made_durable) ------------------


def _attempted_write(deps, what: str):  # noqa: ANN001, ANN202
    """A write as ``point_write`` makes it on the loop: committed, its fsync left to the caller."""
    with write_attempt() as attempt:
        _write(deps, what)
    return attempt


def test_waiters_on_the_loop_are_answered_only_after_an_fsync_and_share_it(app, deps, fsyncs) -> None:  # noqa: ANN001
    wal = _wal_sync(app.engine)
    answered: list[float] = []

    async def save(i: int) -> None:
        attempt = _attempted_write(deps, f"loop{i}")
        assert attempt.needs_sync
        await attempt.made_durable()
        answered.append(time.monotonic())
        assert wal.durable(attempt.pending)

    async def main() -> None:
        ticks = 0

        async def ticker() -> None:  # the loop keeps serving while the fsyncs run
            nonlocal ticks
            while len(answered) < 8:
                ticks += 1
                await asyncio.sleep(0.005)

        await asyncio.gather(ticker(), *(save(i) for i in range(8)))
        assert ticks >= 10

    run_in_own_loop(main)
    assert len(answered) == 8
    assert all(any(f <= a for f in fsyncs) for a in answered)  # none before an fsync
    assert 1 <= len(fsyncs) < 8, fsyncs  # eight saves, fewer fsyncs: one answered several


def test_a_failed_fsync_fails_its_waiters_and_the_next_ones_succeed(app, deps, monkeypatch) -> None:  # noqa: ANN001
    real = durability.os.fsync
    broken = {"on": True}

    def fsync(fd: int) -> None:
        if broken["on"]:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(durability.os, "fsync", fsync)

    async def main() -> None:
        attempt = _attempted_write(deps, "io-error")
        with pytest.raises(OSError, match="Input/output"):
            await attempt.made_durable()  # never answered as saved
        broken["on"] = False
        again = _attempted_write(deps, "after")
        await again.made_durable()
        assert again.wal.durable(again.pending)

    run_in_own_loop(main)


def test_a_cancelled_waiter_does_not_disturb_the_others(app, deps, fsyncs) -> None:  # noqa: ANN001
    async def main() -> None:
        first, second = _attempted_write(deps, "gone"), _attempted_write(deps, "stays")
        gone = asyncio.ensure_future(first.made_durable())
        stays = asyncio.ensure_future(second.made_durable())
        await asyncio.sleep(0.01)
        gone.cancel()  # the client went away mid-wait
        await stays
        assert second.wal.durable(second.pending)
        with pytest.raises(asyncio.CancelledError):
            await gone

    run_in_own_loop(main)


def test_the_syncer_thread_ends_when_idle_and_starts_again(app, deps, monkeypatch) -> None:  # noqa: ANN001
    wal = _wal_sync(app.engine)
    monkeypatch.setattr(durability.WalSync, "IDLE_S", 0.05)

    async def save(what: str) -> None:
        await _attempted_write(deps, what).made_durable()

    run_in_own_loop(lambda: save("one"))
    thread = wal._syncer
    assert thread is not None and thread.name == "beiandesk-wal-sync"
    thread.join(2)
    assert not thread.is_alive() and wal._syncer is None
    run_in_own_loop(lambda: save("two"))  # a new one on demand
    assert wal._syncer is not None and wal._syncer is not thread
