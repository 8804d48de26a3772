"""``ReaderPool`` and ``WriterPool`` (adapters/db/uow.py): SQLite's units of work reuse
connections kept open. Each read still has its own read transaction — a fresh snapshot that sees every commit
made before it, one snapshot for all of its statements (run on the driver's cursor or through
SQLAlchemy alike) — and a connection gives nothing of one read to the next. A failed read's
connection is not kept; ``engine.dispose()`` closes the idle ones; at most ``keep`` are idle.
SQLite only (PostgreSQL keeps the engine's pool: test_the_wiring)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.engine import build_engine
from beiandesk.adapters.db.uow import ReaderPool, SharedReads, SqlUnitOfWork, WriterPool
from tests.integration.test_shared_reads import _add_account as _add  # a committed write

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite file only (see the module docstring)."""
    path = tmp_path / "beiandesk.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _count(uow) -> int:  # noqa: ANN001
    return uow.conn.execute(select(func.count()).select_from(t.accounts)).scalar_one()


def _raw_count(uow) -> int:  # noqa: ANN001 - on the driver's cursor, as DirectQuery reads
    cur = uow.conn.connection.cursor()
    try:
        cur.execute("SELECT count(*) FROM accounts")
        return cur.fetchone()[0]
    finally:
        cur.close()


def _account(name: str):  # noqa: ANN202 - the INSERT of a plain applicant account
    return insert(t.accounts).values(
        username=name,
        password_hash="h",
        role="applicant",
        display_name=name,
        email="",
        enterprise_verified=False,
        created_at=NOW,
    )


def _add_elsewhere(url: str, name: str) -> None:
    """A commit by another connection of another engine (another process, as it were)."""
    engine = build_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(_account(name))
    finally:
        engine.dispose()


def test_the_wiring(deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        assert isinstance(a._readers, ReaderPool)
        conn = a.conn
    with deps.uow(readonly=True) as b:
        assert b is not a and b.conn is conn  # the same connection, kept and reused
    with deps.uow() as w:  # a write never takes a reader: its own kept connection
        assert w._readers is None and isinstance(w._writers, WriterPool) and w.conn is not conn
        writer = w.conn
    with deps.uow() as w2:
        assert w2.conn is writer
    with deps.uow(readonly=True) as c:
        assert c.conn is not writer


def test_a_reused_connection_reads_a_fresh_snapshot_each_time(deps, database_url) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        before = _count(a)
        conn = a.conn
    _add(deps, "alice")
    _add_elsewhere(database_url, "bob")
    with deps.uow(readonly=True) as b:
        assert b.conn is conn
        assert _count(b) == _raw_count(b) == before + 2


def test_one_snapshot_for_every_statement_of_a_read(deps, database_url) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        first = _raw_count(a)  # the driver's cursor: the snapshot starts here
        _add_elsewhere(database_url, "carol")
        # SQLAlchemy's own autobegin finds the read's transaction open and joins it
        assert _count(a) == _raw_count(a) == first
        assert a.conn.in_transaction()
    with deps.uow(readonly=True) as b:
        assert _count(b) == first + 1


def test_a_connection_carries_nothing_from_one_read_to_the_next(deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        _count(a)  # SQLAlchemy began as well
        conn = a.conn
    raw = conn.connection.driver_connection
    assert not raw.in_transaction and not conn.in_transaction()  # both ended
    with deps.uow(readonly=True) as b:
        assert b.conn is conn and raw.in_transaction and b.tx.is_active
    assert not raw.in_transaction and not b.tx.is_active


def test_readers_run_side_by_side_in_threads(deps) -> None:  # noqa: ANN001
    _add(deps, "dave")
    inside = threading.Barrier(4, timeout=10)
    seen: list[int] = []
    conns: set[int] = set()

    def read() -> None:
        with deps.uow(readonly=True) as u:
            inside.wait()  # all four inside a read at once: four connections
            conns.add(id(u.conn))
            seen.append(_count(u))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(conns) == 4 and len(set(seen)) == 1 and seen[0] >= 1


def test_a_kept_connection_taken_by_another_thread_meanwhile_is_no_error(deps) -> None:  # noqa: ANN001
    """Threads of the threadpool share the free list: between seeing it non-empty and taking
    from it, another thread may have taken the last one. The read then opens one."""
    with deps.uow(readonly=True) as u:
        readers = u._readers

    class EmptiedMeanwhile(list):
        def __bool__(self) -> bool:  # looked non-empty a moment ago …
            return True

    readers._free = EmptiedMeanwhile()  # … but nothing is left to take
    with deps.uow(readonly=True) as u:
        assert _count(u) == 0


def test_a_failed_read_leaves_a_clean_connection_for_the_next(deps) -> None:  # noqa: ANN001
    with pytest.raises(OperationalError):
        with deps.uow(readonly=True) as a:
            a.conn.execute(text("SELECT * FROM no_such_table"))
    with deps.uow(readonly=True) as b:  # the next read works, on a clean transaction
        assert _count(b) >= 0 and b.tx.is_active
    assert not b.conn.connection.driver_connection.in_transaction


def test_a_broken_connection_is_closed_not_kept(app) -> None:  # noqa: ANN001
    with app.deps.uow(readonly=True) as a:
        conn = a.conn
        conn.invalidate()  # as SQLAlchemy does after a disconnect
    assert conn.closed
    with app.deps.uow(readonly=True) as b:
        assert b.conn is not conn and _count(b) >= 0


def test_engine_dispose_closes_the_idle_readers(app) -> None:  # noqa: ANN001
    with app.deps.uow(readonly=True) as a:
        conn = a.conn
    app.engine.dispose()
    assert conn.closed
    with app.deps.uow(readonly=True) as b:  # and reading goes on with a new one
        assert b.conn is not conn and _count(b) >= 0


def test_at_most_keep_idle_connections(app) -> None:  # noqa: ANN001
    readers = ReaderPool(app.engine, keep=2)
    cipher = DataCipher("k")
    uows = [SqlUnitOfWork(app.engine, cipher, readonly=True, readers=readers) for _ in range(4)]
    for u in uows:
        u.__enter__()
    for u in uows:
        u.__exit__(None, None, None)
    assert len(readers._free) == 2
    assert sum(u.conn.closed for u in uows) == 2
    readers.close()
    assert all(u.conn.closed for u in uows) and not readers._free


def test_a_read_only_commit_ends_the_read(deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        _count(a)
        a.commit()
        assert not a.tx.is_active and not a.conn.connection.driver_connection.in_transaction


def test_a_write_in_a_request_scope_is_seen_by_its_later_reads(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow(readonly=True) as before:
            n = _count(before)
        _add(deps, "erin")
        with deps.uow(readonly=True) as after:
            assert after is not before and _count(after) == n + 1


def _synchronous(conn) -> int:  # noqa: ANN001
    return conn.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0]


def test_a_kept_writer_commits_durably_and_goes_back_to_full(app) -> None:  # noqa: ANN001
    """A WriterPool's connection stays in NORMAL between writes (group commit syncs each commit
    before the write returns) and, when the pool goes away without a dispose, returns to the
    engine's pool in FULL."""
    import gc

    writers = WriterPool(app.engine)
    cipher = DataCipher("k")
    for name in ("frank", "grace"):
        with SqlUnitOfWork(app.engine, cipher, writers=writers) as w:
            w.conn.execute(_account(name))
            conn = w.conn
            w.commit()
            assert w._wal is not None and w._wal.durable(w._wal._committed)  # synced on return
        assert _synchronous(conn) == 1 and not conn.closed
    del writers, w  # the unit of work held it too
    gc.collect()
    assert conn.closed  # given back to the engine's pool …
    idle = [app.engine.raw_connection() for _ in range(app.engine.pool.checkedin())]
    try:  # … in FULL, like every connection there
        assert idle and all(
            c.driver_connection.execute("PRAGMA synchronous").fetchone()[0] == 2 for c in idle
        )
    finally:
        for c in idle:
            c.close()


def test_a_failed_write_drops_its_kept_writer(app) -> None:  # noqa: ANN001
    writers = WriterPool(app.engine)
    cipher = DataCipher("k")
    with pytest.raises(OperationalError):
        with SqlUnitOfWork(app.engine, cipher, writers=writers) as w:
            conn = w.conn
            w.conn.execute(text("INSERT INTO no_such_table VALUES (1)"))
    with SqlUnitOfWork(app.engine, cipher, writers=writers) as w2:
        # a plain SQL error leaves the connection clean (rolled back) and it is kept
        assert w2.conn is conn and w2.tx.is_active
    assert not conn.connection.driver_connection.in_transaction
    conn.invalidate()  # as after a disconnect: never kept again
    with SqlUnitOfWork(app.engine, cipher, writers=writers) as w3:
        assert w3.conn is not conn
    writers.close()
