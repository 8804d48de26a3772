"""``PgReaderPool`` (adapters/db/uow.py): PostgreSQL's read-only units of work on kept
connections in autocommit; a connection idle for longer than ``ALIVE_S`` is pinged before use
and replaced if the ping fails (the server restarted, the backend was killed): no read fails
for it. PostgreSQL only (SQLite's readers: test_reader_pool.py)."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import func, insert, select

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.uow import PgReaderPool
from tests.pg_support import database_url, kill_backend  # noqa: F401 - a fixture

pytestmark = pytest.mark.pg

__all__ = ["database_url"]  # the PostgreSQL-only fixture (tests/pg_support.py)


def _count(uow) -> int:  # noqa: ANN001
    return uow.conn.execute(select(func.count()).select_from(t.accounts)).scalar_one()


def _pid(uow) -> int:  # noqa: ANN001
    return uow.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def test_reads_reuse_a_kept_connection_in_autocommit(deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        assert isinstance(a._readers, PgReaderPool)
        pid, conn = _pid(a), a.conn
        assert conn.connection.driver_connection.autocommit
    with deps.uow(readonly=True) as b:
        assert b.conn is conn and _pid(b) == pid
    with deps.uow() as w:  # writes keep the engine's pool
        assert w._writers is None and w.conn is not conn
        w.conn.execute(insert(t.accounts).values(
            username="alice", password_hash="h", role="applicant", display_name="alice",
            email="", enterprise_verified=False, created_at=func.now()))
        w.commit()
    with deps.uow(readonly=True) as c:  # autocommit: each read sees what was committed
        assert c.conn is conn and _count(c) == 1


def test_an_idle_connection_killed_on_the_server_is_replaced_not_an_error(deps, database_url, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(PgReaderPool, "ALIVE_S", 0.05)
    with deps.uow(readonly=True) as a:
        pid, conn = _pid(a), a.conn
    kill_backend(database_url, pid)
    time.sleep(0.1)  # idle past the window: pinged before use
    with deps.uow(readonly=True) as b:
        assert _count(b) == 0  # no error: a fresh connection
        assert b.conn is not conn and _pid(b) != pid
    assert conn.closed or conn.invalidated


def test_a_connection_used_a_moment_ago_is_not_pinged(deps, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(PgReaderPool, "ALIVE_S", 60)
    with deps.uow(readonly=True) as a:
        conn = a.conn
    pings: list[str] = []
    raw = conn.connection.driver_connection
    real = psycopg.Cursor.execute

    def counting(self, query, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.connection is raw and "SELECT 1" == str(query):
            pings.append(query)
        return real(self, query, *args, **kw)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    with deps.uow(readonly=True) as b:
        assert b.conn is conn and _count(b) == 0
    assert pings == []
    monkeypatch.setattr(PgReaderPool, "ALIVE_S", 0.0)
    time.sleep(0.01)
    with deps.uow(readonly=True) as c:
        assert c.conn is conn
    assert pings == ["SELECT 1"]


def test_dispose_closes_the_idle_readers(app) -> None:  # noqa: ANN001
    with app.deps.uow(readonly=True) as a:
        conn = a.conn
    app.engine.dispose()
    assert conn.closed
    with app.deps.uow(readonly=True) as b:
        assert b.conn is not conn and _count(b) == 0


def test_a_read_whose_backend_dies_fails_with_that_error_and_is_dropped(deps, database_url) -> None:  # noqa: ANN001
    """Not a PendingRollbackError from putting the dead connection away (seen once in the
    worker's log after every backend was terminated)."""
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError, match="terminating connection"):
        with deps.uow(readonly=True) as a:
            conn = a.conn
            kill_backend(database_url, _pid(a))
            time.sleep(0.1)
            _count(a)
    assert conn.closed or conn.invalidated
    with deps.uow(readonly=True) as b:  # and the next read is served
        assert b.conn is not conn and _count(b) == 0
