"""``PgAsyncReads`` (adapters/db/async_reads.py): the per-request point reads awaited on the
event loop on PostgreSQL. The same objects as the units of work's repositories give; kept
connections per loop, at most ``size`` in use; a kept connection that fails is replaced and the
read repeated once; any other failure or a cancelled read drops its connection; connections of
an ended loop and of a disposed engine are closed. PostgreSQL only."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
import uvloop
from sqlalchemy import func, literal_column, select

from beiandesk.adapters.db import pg_wait
from beiandesk.adapters.db.async_reads import PgAsyncReads
from beiandesk.adapters.db.direct import DirectQuery
from tests.own_loop import run_in_own_loop
from tests.pg_support import database_url, kill_backend  # noqa: F401 - a fixture

pytestmark = pytest.mark.pg

__all__ = ["database_url"]  # the PostgreSQL-only fixture (tests/pg_support.py)


@pytest.fixture
def reads(app) -> PgAsyncReads:  # noqa: ANN001
    assert isinstance(app.deps.async_reads, PgAsyncReads)  # bootstrap wires it on PostgreSQL
    return app.deps.async_reads


_PID = DirectQuery(select(func.pg_backend_pid().label("pid")))


async def _pid(reads: PgAsyncReads) -> int:
    return (await reads._first(_PID, {})).pid


def test_the_same_objects_as_the_repositories(seeded, reads, app) -> None:  # noqa: ANN001
    from beiandesk.services import auth

    token = auth.login(seeded, "demo-enterprise", "beiandesk-demo")[1]
    jti = auth.session_id(seeded, token)
    with seeded.uow(readonly=True) as uow:
        site_ids = [w.id for w in uow.websites.list()]
        subject_ids = [s.id for s in uow.subjects.list()]
        want = (
            uow.sessions.check(jti),
            [uow.websites.get_with_owner(i) for i in site_ids],
            [uow.subjects.get(i) for i in subject_ids],
            uow.sessions.check("no-such-jti"),
            uow.websites.get_with_owner(999_999),
            uow.subjects.get(999_999),
        )

    async def main() -> tuple:
        # Each record read with the session in one statement, and the session alone.
        websites = [await reads.session_and_website(jti, i) for i in site_ids + [999_999]]
        subjects = [await reads.session_and_subject(jti, i) for i in subject_ids + [999_999]]
        return (
            await reads.session(jti),
            [w for _, w in websites[:-1]],
            [s for _, s in subjects[:-1]],
            await reads.session("no-such-jti"),
            websites[-1][1],
            subjects[-1][1],
            {_key(found) for found, _ in websites + subjects},
            await reads.session_and_website("no-such-jti", site_ids[0]),
            await reads.session_and_subject("no-such-jti", 999_999),
        )

    got = run_in_own_loop(main)
    assert site_ids and subject_ids and want[0] is not None
    # The session row (named tuple) and its Account; the websites with their owners; subjects.
    assert got[0][0]._asdict() == want[0][0]._asdict() and got[0][1] == want[0][1]
    assert got[1:6] == want[1:]
    assert want[3:] == (None, None, None)
    assert got[6] == {_key(want[0])}  # every combined read judged the same session
    # No session: None beside the record found (or not) as before.
    assert got[7] == (None, want[1][0]) and got[8] == (None, None)


def _key(found) -> tuple:  # noqa: ANN001
    return (tuple(found[0]._asdict().items()), found[1])


def test_a_kept_connection_is_reused_and_in_autocommit(reads) -> None:  # noqa: ANN001
    async def main() -> tuple[int, int, list]:
        first = await _pid(reads)
        second = await _pid(reads)
        kept = reads._connections().free
        return first, second, [c.autocommit for c in kept]

    first, second, autocommit = run_in_own_loop(main)
    assert first == second and autocommit == [True]


def test_at_most_size_connections_per_loop(reads, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(reads, "size", 3)
    sleep = DirectQuery(select(func.pg_backend_pid().label("pid"), func.pg_sleep(literal_column("0.05")).label("slept")))
    in_use = {"now": 0, "most": 0}
    real = DirectQuery.first_prepared

    async def counted(self, *args):  # noqa: ANN001, ANN002, ANN202
        in_use["now"] += 1
        in_use["most"] = max(in_use["most"], in_use["now"])
        try:
            return await real(self, *args)
        finally:
            in_use["now"] -= 1

    monkeypatch.setattr(DirectQuery, "first_prepared", counted)

    async def main() -> tuple[set[int], int]:
        rows = await asyncio.gather(*(reads._first(sleep, {}) for _ in range(12)))
        return {r.pid for r in rows}, len(reads._connections().free)

    pids, kept = run_in_own_loop(main)
    assert in_use["most"] == 3 and len(pids) == 3 and kept == 3


def test_the_number_of_kept_connections_is_a_setting(reads, settings, fakes) -> None:  # noqa: ANN001
    from beiandesk import bootstrap

    assert reads.size == 6  # BEIANDESK_DB_READ_CONNECTIONS' default
    built = bootstrap.build(settings.model_copy(update={"db_read_connections": 2}), migrate=False, **fakes)
    try:
        assert built.deps.async_reads.size == 2
        async def six_at_once() -> list[int]:
            return await asyncio.gather(*(_pid_slowly(built.deps.async_reads) for _ in range(6)))

        pids = run_in_own_loop(six_at_once)
        assert len(set(pids)) == 2  # six reads at once shared the two connections
    finally:
        built.engine.dispose()


async def _pid_slowly(reads: PgAsyncReads) -> int:
    slow = DirectQuery(select(func.pg_backend_pid().label("pid"), func.pg_sleep(literal_column("0.05")).label("s")))
    return (await reads._first(slow, {})).pid


def test_a_kept_connection_killed_on_the_server_is_replaced_not_an_error(reads, database_url) -> None:  # noqa: ANN001
    async def main() -> tuple[int, int]:
        before = await _pid(reads)
        await asyncio.to_thread(kill_backend, database_url, before)
        await asyncio.sleep(0.1)
        return before, await _pid(reads)  # no error: read again on a fresh connection

    before, after = run_in_own_loop(main)
    assert after != before


@pytest.mark.parametrize("new_loop", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"])
def test_a_connection_killed_while_kept_is_dropped_before_use(reads, database_url, monkeypatch, new_loop) -> None:  # noqa: ANN001, E501
    # The server's goodbye is noticed when it comes, so the next read takes a fresh connection
    # at once: it never waits for the watchdog (made a minute long here) on a dead one.
    monkeypatch.setattr(pg_wait, "WATCHDOG_TICK", 60.0)

    async def main() -> tuple[int, int, bool, float]:
        before = await _pid(reads)
        kept = reads._connections().free[0]
        await asyncio.to_thread(kill_backend, database_url, before)
        for _ in range(100):  # until the goodbye has come
            if kept.spoke_while_idle:
                break
            await asyncio.sleep(0.02)
        started = time.monotonic()
        after = await _pid(reads)
        return before, after, kept.closed and kept not in reads._connections().free, time.monotonic() - started

    before, after, closed, took = run_in_own_loop(main, new_loop=new_loop)  # fails if it waited
    assert closed and after != before and took < 30


def test_a_fresh_connection_that_fails_is_an_error(reads, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(reads, "conninfo", reads.conninfo.replace("5432", "1"))  # nothing there

    async def main() -> None:
        await _pid(reads)

    with pytest.raises(psycopg.OperationalError):
        run_in_own_loop(main)


def test_another_failure_or_a_cancelled_read_drops_its_connection(reads) -> None:  # noqa: ANN001
    bad = DirectQuery(select(func.sqrt(literal_column("-1")).label("x")))  # PostgreSQL refuses: not a lost link
    slow = DirectQuery(select(func.pg_sleep(literal_column("5")).label("x")))

    async def main() -> tuple[int, int, int]:
        await _pid(reads)
        kept = reads._connections().free
        conn = kept[0]
        with pytest.raises(psycopg.errors.InvalidArgumentForPowerFunction):
            await reads._first(bad, {})
        after_error = len(kept)
        assert conn.closed
        task = asyncio.create_task(reads._first(slow, {}))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after_cancel = len(kept)
        await _pid(reads)  # and the next read takes a new one
        return after_error, after_cancel, len(kept)

    assert run_in_own_loop(main) == (0, 0, 1)


def test_connections_of_an_ended_loop_and_of_a_disposed_engine_are_closed(reads, app) -> None:  # noqa: ANN001
    async def first() -> list:
        await _pid(reads)
        return list(reads._connections().free)

    ended = run_in_own_loop(first)  # that loop is over: its connection waits for no one
    assert ended and not ended[0].closed

    async def second() -> list:
        await _pid(reads)
        return list(reads._connections().free)

    kept = run_in_own_loop(second)
    assert ended[0].closed and not kept[0].closed  # closed on the next loop's first read
    app.engine.dispose()
    assert kept[0].closed and reads._loops == {}
