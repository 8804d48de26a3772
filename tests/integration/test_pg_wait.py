"""``KeptConnection`` (adapters/db/pg_wait.py): a psycopg async connection whose socket stays
registered with its event loop between waits. Registered once however many reads; right
answers one after another and side by side; a socket readable while nobody waits leaves the
loop (and the next read reports the lost link); waits with a timeout and waits to write are
psycopg's own and the reads after them still work; a cancelled wait leaves nothing behind;
``finish`` from another thread takes the socket off a running loop on that loop's thread, and
the loop keeps working with the next sockets. On asyncio's loop and on uvloop (the server's).
PostgreSQL only."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
import pytest
import uvloop
from sqlalchemy.engine import make_url

from beiandesk.adapters.db import pg_wait
from beiandesk.adapters.db.pg_wait import KeptConnection
from tests.own_loop import run_in_own_loop
from tests.pg_support import database_url, kill_backend  # noqa: F401 - a fixture

pytestmark = pytest.mark.pg

__all__ = ["database_url"]


class _Counting:
    """A loop that counts its reader registrations, and notes each removal: the socket, the
    thread that removed it, and whether the socket was still open then."""

    def _count_init(self) -> None:
        self.added = self.removed = 0
        self.removals: list[tuple[int, int, bool]] = []

    def add_reader(self, fd, callback, *args):  # noqa: ANN001, ANN002, ANN201
        self.added += 1
        return super().add_reader(fd, callback, *args)  # type: ignore[misc]

    def remove_reader(self, fd):  # noqa: ANN001, ANN201
        self.removed += 1
        try:
            os.fstat(fd)
            still_open = True
        except OSError:
            still_open = False
        self.removals.append((fd, threading.get_ident(), still_open))
        return super().remove_reader(fd)  # type: ignore[misc]


class CountingAsyncio(_Counting, asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._count_init()


class CountingUvloop(_Counting, uvloop.Loop):
    def __init__(self) -> None:
        super().__init__()
        self._count_init()


@pytest.fixture(params=[CountingAsyncio, CountingUvloop], ids=["asyncio", "uvloop"])
def loop_class(request: pytest.FixtureRequest) -> type:
    return request.param


@pytest.fixture
def conninfo(database_url: str) -> str:  # noqa: F811
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(loop_class: type, make: Callable[[asyncio.AbstractEventLoop], Coroutine[Any, Any, Any]]) -> Any:
    """``make(loop)`` to completion on a new loop of ``loop_class`` in a thread of its own."""

    async def main() -> Any:
        return await make(asyncio.get_running_loop())

    return run_in_own_loop(main, new_loop=loop_class)


async def _read(conn: KeptConnection, i: int) -> tuple:
    cur = conn.cursor()
    await cur.execute("SELECT %s::int + 1, pg_backend_pid()", (i,))
    return await cur.fetchone()


def test_registered_once_however_many_reads(loop_class, conninfo) -> None:  # noqa: ANN001
    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        connected = loop.added, loop.removed  # the connection attempt's own waits
        one = [await _read(conn, i) for i in range(100)]
        after_one = loop.added - connected[0], loop.removed - connected[1]
        conns = [await KeptConnection.connect(conninfo, autocommit=True) for _ in range(8)]
        before = loop.added, loop.removed

        async def many(c: KeptConnection, base: int) -> list:
            return [await _read(c, base + i) for i in range(50)]

        side = await asyncio.gather(*(many(c, k * 1000) for k, c in enumerate(conns)))
        after_side = loop.added - before[0], loop.removed - before[1]
        await asyncio.sleep(0.05)  # a loop that reports a socket once more after its answer
        quiet = [c.spoke_while_idle for c in [conn, *conns]]
        for c in [conn, *conns]:
            c.finish()
        return one, after_one, side, after_side, [c.closed for c in [conn, *conns]], quiet

    one, after_one, side, after_side, closed, quiet = _run(loop_class, main)
    assert not any(quiet)  # nothing came while they were idle: none is taken for a goodbye
    assert [r[0] for r in one] == list(range(1, 101)) and len({r[1] for r in one}) == 1
    assert after_one == (1, 0)  # psycopg's own wait: 100 of each
    for k, rows in enumerate(side):
        assert [r[0] for r in rows] == [k * 1000 + i + 1 for i in range(50)]
    assert len({rows[0][1] for rows in side}) == 8  # eight backends, one each
    assert after_side == (8, 0)
    assert all(closed)


def test_readable_while_idle_leaves_the_loop_and_the_next_read_reports_it(loop_class, conninfo, database_url, monkeypatch) -> None:  # noqa: ANN001, E501, F811
    calls = []
    real = KeptConnection._readable

    def counted(self) -> None:  # noqa: ANN001
        calls.append(self._waiter is None)
        real(self)

    monkeypatch.setattr(KeptConnection, "_readable", counted)

    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        pid = (await _read(conn, 1))[1]
        removed, woken = loop.removed, len(calls)
        await asyncio.to_thread(kill_backend, database_url, pid)
        await asyncio.sleep(0.2)
        idle = len(calls)
        await asyncio.sleep(0.2)  # the loop runs on: the closed socket must not wake it forever
        idle = (conn._watched, loop.removed - removed, calls[woken:idle], len(calls) - idle)
        assert conn.spoke_while_idle
        with pytest.raises(psycopg.OperationalError):
            await _read(conn, 2)
        conn.finish()
        return idle

    watched, removed, idle_calls, later = _run(loop_class, main)
    assert watched is None and removed == 1
    # Woken by the closed link with nobody waiting (asyncio's loop may have reported the answer
    # once more before), taken off the loop, then quiet.
    assert idle_calls and all(idle_calls) and len(idle_calls) <= 2 and later == 0


def test_waits_with_a_timeout_and_waits_to_write_are_psycopgs_own(loop_class, conninfo, monkeypatch) -> None:  # noqa: ANN001, E501
    own = []
    real = psycopg.AsyncConnection.wait

    async def spied(self, gen, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        own.append(kwargs.get("timeout"))
        return await real(self, gen, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "wait", spied)
    big = "x" * (1 << 20)

    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        other = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        first = await _read(conn, 1)  # registered
        # A small send buffer on the connection's socket, so the big statement must wait to
        # write whatever the machine's buffers have grown to.
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as same:
            same.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        cur = conn.cursor()
        await cur.execute("SELECT length(%s)", (big,))
        length = (await cur.fetchone())[0]
        after_write = (conn._watched, len(own))
        second = await _read(conn, 2)
        await conn.execute("LISTEN beiandesk_wait_test")
        await other.execute("NOTIFY beiandesk_wait_test, 'hello'")
        got = [n.payload async for n in conn.notifies(timeout=5, stop_after=1)]
        third = await _read(conn, 3)  # registered again after psycopg's own waits
        conn.finish()
        await other.close()
        return first[0], length, after_write, second[0], got, third[0]

    first, length, (watched, writes), second, got, third = _run(loop_class, main)
    assert (first, length, second, third) == (2, 1 << 20, 3, 4)
    assert watched is None and writes >= 1  # the write wait went to psycopg, off our loop
    assert got == ["hello"] and any(t is not None for t in own)  # notifies' timed wait too


def test_a_cancelled_wait_leaves_nothing_behind(loop_class, conninfo) -> None:  # noqa: ANN001
    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        task = asyncio.create_task(conn.cursor().execute("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        waiter = conn._waiter
        conn.finish()
        fresh = await KeptConnection.connect(conninfo, autocommit=True)
        row = await _read(fresh, 41)
        fresh.finish()
        return waiter, conn.closed, conn._watched, row[0]

    assert _run(loop_class, main) == (None, True, None, 42)


def test_finish_from_another_thread_takes_the_socket_off_the_running_loop(loop_class, conninfo, monkeypatch) -> None:  # noqa: ANN001, E501
    loop = loop_class()
    th = threading.Thread(target=loop.run_forever)
    th.start()

    def on_loop(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    loop_thread: list[int] = []
    loop.call_soon_threadsafe(lambda: loop_thread.append(threading.get_ident()))
    try:

        async def open_and_read() -> tuple[KeptConnection, int]:
            conn = await KeptConnection.connect(conninfo, autocommit=True)
            await _read(conn, 1)
            return conn, conn.pgconn.socket

        conn, fd = on_loop(open_and_read())
        assert (conn._watched[0](), conn._watched[1]) == (loop, fd)
        removals = len(loop.removals)
        conn.finish()  # this thread is not the loop's: closed there, and waited for
        assert conn.closed and conn._watched is None
        # Taken off the loop by the loop's own thread, while the socket was still open.
        assert loop.removals[removals:] == [(fd, loop_thread[0], True)]

        async def after() -> list:
            # New sockets, likely on the old one's number, work on that loop.
            conns = [await KeptConnection.connect(conninfo, autocommit=True) for _ in range(3)]
            rows = [(await _read(c, 9))[0] for c in conns]
            for c in conns:
                c.finish()
            return rows

        assert on_loop(after()) == [10, 10, 10]

        # A loop too busy to close it in time closes it when it gets there.
        monkeypatch.setattr(pg_wait, "FINISH_WAIT", 0.05)
        late, fd = on_loop(open_and_read())
        gate = threading.Event()
        loop.call_soon_threadsafe(gate.wait, 5)  # the loop is stuck in a callback
        late.finish()
        assert not late.closed  # not closed from here: the socket is still on the loop
        gate.set()
        on_loop(asyncio.sleep(0.05))
        assert late.closed and late._watched is None
    finally:
        loop.call_soon_threadsafe(loop.stop)
        th.join(10)
        loop.close()


def test_a_registration_lost_behind_its_back_costs_a_tick_not_a_hung_read(loop_class, conninfo) -> None:  # noqa: ANN001, E501
    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        await _read(conn, 1)
        loop.remove_reader(conn._watched[1])  # as libuv drops a poll handle on a socket error
        started = time.monotonic()
        row = await _read(conn, 2)  # woken by the watchdog, registered again
        took = time.monotonic() - started
        again = (await _read(conn, 3))[0]
        conn.finish()
        return row[0], took, again

    row, took, again = _run(loop_class, main)
    assert row == 3 and again == 4
    assert took < 1.0


def test_finish_after_the_loop_has_ended(loop_class, conninfo) -> None:  # noqa: ANN001
    async def main(loop) -> KeptConnection:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        await _read(conn, 1)
        return conn

    conn = _run(loop_class, main)  # that loop is closed now
    conn.finish()
    assert conn.closed and conn._watched is None


def test_an_ended_loop_is_not_kept_alive_by_its_connections_or_its_watchdog(loop_class, conninfo) -> None:  # noqa: ANN001, E501
    refs = []

    async def main(loop) -> KeptConnection:  # noqa: ANN001
        refs.append(weakref.ref(loop))
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        await _read(conn, 1)  # registered, and the loop's watchdog made
        assert loop in pg_wait._WATCHDOGS
        return conn

    conn = _run(loop_class, main)  # closed, and no one else holds it
    gc.collect()
    assert refs[0]() is None  # the open connection held it weakly, and so did the watchdogs
    conn.finish()  # nothing to take it off: closed all the same
    assert conn.closed and conn._watched is None


_ADD = b"SELECT $1::int + $2::int AS sum, pg_backend_pid() AS pid WHERE $1::int >= 0"
_DIVIDE = b"SELECT 10 / $1::int AS q"


def test_prepared_reads_prepare_once_and_answer_rows_none_and_errors(loop_class, conninfo) -> None:  # noqa: ANN001
    async def main(loop) -> tuple:  # noqa: ANN001
        conn = await KeptConnection.connect(conninfo, autocommit=True)
        connected = loop.added  # the connection attempt's own waits
        rows = [(await conn.prepared_row(b"t_add", _ADD, [i, 1]))[0] for i in range(3)]
        none, res = await conn.prepared_row(b"t_add", _ADD, [-5, 1])  # no row
        columns = [(res.fname(i), res.ftype(i)) for i in range(res.nfields)]
        with pytest.raises(psycopg.errors.DivisionByZero):  # psycopg's own error class
            await conn.prepared_row(b"t_div", _DIVIDE, [0])
        after = (await conn.prepared_row(b"t_div", _DIVIDE, [5]))[0]  # the connection still works
        cur = conn.cursor()
        await cur.execute("SELECT name, statement FROM pg_prepared_statements ORDER BY name")
        prepared = await cur.fetchall()
        watched = conn._watched is not None and conn._watched[0]() is loop
        conn.finish()
        return rows, none, columns, after, prepared, watched, loop.added - connected

    rows, none, columns, after, prepared, watched, added = _run(loop_class, main)
    assert [r[0] for r in rows] == [1, 2, 3] and len({r[1] for r in rows}) == 1
    assert none is None and columns == [(b"sum", 23), (b"pid", 23)]  # int4, binary results
    assert after == (2,)
    assert [p[0] for p in prepared] == ["t_add", "t_div"]  # each prepared once on the connection
    assert watched and added == 1  # its waits are this module's: the socket registered once


def test_the_libpq_form_of_a_pyformat_statement() -> None:
    from beiandesk.adapters.db.direct import _dollar_form

    sql, names = _dollar_form("SELECT %(a)s, %(b)s, %(a)s, 'x %% y' WHERE c = %(c)s")
    assert sql == b"SELECT $1, $2, $1, 'x % y' WHERE c = $3" and names == ("a", "b", "c")
