"""``LoopWrites`` (adapters/db/on_loop.py): on PostgreSQL a save of an order runs on the event
loop inside a greenlet, each statement awaited on psycopg's async driver. Saves side by side
stay exact (one of twenty with the same If-Match wins); a failure or a cancelled save leaves no
connection behind; another running loop gets a worker thread instead; a loop that ended hands
the engine over; ``engine.dispose()`` closes it. PostgreSQL only."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from sqlalchemy import text

from beiandesk.adapters.db import on_loop
from beiandesk.adapters.db.uow import SqlUnitOfWork
from tests.conftest import login
from tests.own_loop import run_in_own_loop
from tests.pg_support import database_url, kill_backend  # noqa: F401 - a fixture

pytestmark = pytest.mark.pg

__all__ = ["database_url"]  # the PostgreSQL-only fixture (tests/pg_support.py)


@pytest.fixture
def writes(app) -> on_loop.LoopWrites:  # noqa: ANN001
    run = app.deps.run_on_loop
    assert run is not None  # bootstrap wires it on PostgreSQL
    return run.__self__


def _draft(client) -> tuple[dict, dict]:  # noqa: ANN001
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    return h, r.json()


def test_a_save_runs_on_the_loop_with_the_async_driver(client, monkeypatch) -> None:  # noqa: ANN001
    h, draft = _draft(client)
    seen: list[tuple[bool, bool, int]] = []
    real = SqlUnitOfWork.__enter__

    def enter(self):  # noqa: ANN001, ANN202
        seen.append((self.engine.dialect.is_async, self.readonly, threading.get_ident()))
        return real(self)

    loop_thread: list[int] = []

    @client.app.get("/_test/loop-thread")
    async def loop() -> dict:
        loop_thread.append(threading.get_ident())
        return {}

    client.get("/_test/loop-thread")
    monkeypatch.setattr(SqlUnitOfWork, "__enter__", enter)
    r = client.patch(f"/api/v1/changes/{draft['id']}", headers={**h, "If-Match": '"1"'},
                     json={"name": "在事件循环上保存"})
    assert r.status_code == 200 and r.headers["etag"] == '"2"', r.text
    # The read and the write of the save: both on the async driver, on the loop's thread.
    assert seen == [(True, True, loop_thread[0]), (True, False, loop_thread[0])]
    assert client.get(f"/api/v1/changes/{draft['id']}", headers=h).json()["proposed"]["name"] == "在事件循环上保存"


def test_saves_side_by_side_one_of_twenty_wins(client) -> None:  # noqa: ANN001
    h, draft = _draft(client)
    app = client.app

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            rs = await asyncio.gather(*(
                c.patch(f"/api/v1/changes/{draft['id']}", headers={**h, "If-Match": '"1"'},
                        json={"name": f"并发保存{i}"})
                for i in range(20)
            ))
        return sorted(r.status_code for r in rs)

    assert run_in_own_loop(main) == [200] + [412] * 19
    stored = client.get(f"/api/v1/changes/{draft['id']}", headers=h).json()
    assert stored["version"] == 2 and stored["proposed"]["name"].startswith("并发保存")
    events = client.get(f"/api/v1/changes/{draft['id']}/events", headers=h).json()
    assert sum(e["kind"] == "edited" for e in events) == 1


def _checked_out(writes: on_loop.LoopWrites) -> int:
    """Connections in use: out of the pool and not idle among the kept ones."""
    bound = writes._bound
    kept = len(bound.readers._free) + len(bound.writers._free)
    return bound.engine.sync_engine.pool.checkedout() - kept


def test_a_failed_or_cancelled_save_leaves_no_connection_behind(app, writes) -> None:  # noqa: ANN001
    d = app.deps

    def fails() -> None:
        with d.uow() as uow:
            uow.conn.execute(text("SELECT 1/0"))

    def slow() -> None:
        with d.uow() as uow:
            uow.conn.execute(text("SELECT pg_sleep(5)"))

    def count() -> int:
        with d.uow(readonly=True) as uow:
            return uow.conn.execute(text("SELECT count(*) FROM accounts")).scalar_one()

    async def main() -> tuple[int, int, int]:
        with pytest.raises(Exception, match="division by zero"):
            await writes.run(fails)
        after_error = _checked_out(writes)
        task = asyncio.create_task(writes.run(slow))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        after_cancel = _checked_out(writes)
        return after_error, after_cancel, await writes.run(count)

    assert run_in_own_loop(main) == (0, 0, 0)


def test_another_running_loop_gets_a_worker_thread(app, writes) -> None:  # noqa: ANN001
    d = app.deps
    ran: list[tuple[bool, int]] = []

    def where() -> None:
        with d.uow(readonly=True) as uow:
            ran.append((uow.engine.dialect.is_async, threading.get_ident()))

    bound, release = threading.Event(), threading.Event()

    async def holder() -> None:  # binds the engine to its loop and keeps that loop running
        await writes.run(where)
        bound.set()
        await asyncio.to_thread(release.wait, 30)

    th = threading.Thread(target=lambda: asyncio.run(holder()))
    th.start()
    try:
        assert bound.wait(30)

        async def other() -> int:
            await writes.run(where)
            return threading.get_ident()

        other_thread = run_in_own_loop(other)
    finally:
        release.set()
        th.join(30)
    assert ran[0][0] is True  # the async driver, on the loop that holds the engine
    assert ran[1][0] is False and ran[1][1] != other_thread  # sync engine, a worker thread


def test_an_ended_loop_hands_the_engine_over_and_dispose_closes_it(app, writes) -> None:  # noqa: ANN001
    d = app.deps

    def count() -> int:
        with d.uow(readonly=True) as uow:
            return uow.conn.execute(text("SELECT count(*) FROM accounts")).scalar_one()

    async def once() -> object:
        await writes.run(count)
        return writes._bound

    first = run_in_own_loop(once)
    assert _open(first) >= 1  # kept for this loop
    second = run_in_own_loop(once)  # the first loop has ended: taken over
    assert second is not first
    assert _open(first) == 0  # the old one's connections closed
    app.engine.dispose()
    assert writes._bound is None and _open(second) == 0


def _open(bound) -> int:  # noqa: ANN001
    """Connections an engine bound to a loop still holds: idle in its pool or kept readers."""
    return (
        bound.engine.sync_engine.pool.checkedin()
        + len(bound.readers._free)
        + len(bound.writers._free)
    )


def test_saves_reuse_a_kept_writer_and_a_killed_one_is_replaced(app, writes, database_url, monkeypatch) -> None:  # noqa: ANN001
    from beiandesk.adapters.db.uow import PgWriterPool

    d = app.deps
    monkeypatch.setattr(PgWriterPool, "ALIVE_S", 0.05)

    def pid() -> int:
        with d.uow() as uow:
            return uow.conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    async def main() -> tuple[int, int, int]:  # one loop: the same engine throughout
        first = await writes.run(pid)
        second = await writes.run(pid)  # kept: no check-out, no pre-ping round trip
        await asyncio.to_thread(kill_backend, database_url, first)
        await asyncio.sleep(0.1)  # idle past the window: pinged, found gone, replaced
        return first, second, await writes.run(pid)

    first, second, third = run_in_own_loop(main)
    assert first == second and third != first


def test_a_pinged_writer_opens_no_transaction_so_the_save_is_one_statement(client, monkeypatch) -> None:  # noqa: ANN001
    """A kept writer idle past ``ALIVE_S`` is pinged in autocommit: no transaction is left open
    by the ping, so a PATCH after a pause is still the one-statement save
    (``ChangeRepo._save_alone``), on the loop's async driver."""
    from beiandesk.adapters.db import changes as changes_repo
    from beiandesk.adapters.db.uow import PgWriterPool

    answers: list = []
    real = changes_repo._SAVE_ALONE.first
    monkeypatch.setattr(
        changes_repo._SAVE_ALONE,
        "first",
        lambda conn, params: answers.append(real(conn, params)) or answers[-1],
    )
    monkeypatch.setattr(PgWriterPool, "ALIVE_S", 0.0)  # every save's writer is pinged first
    h, draft = _draft(client)
    for version in (1, 2):
        r = client.patch(
            f"/api/v1/changes/{draft['id']}",
            headers={**h, "If-Match": f'"{version}"'},
            json={"name": f"暂停后保存{version}"},
        )
        assert r.status_code == 200 and r.headers["etag"] == f'"{version + 1}"', r.text
    assert answers == [(draft["id"],), (draft["id"],)]
    events = client.get(f"/api/v1/changes/{draft['id']}/events", headers=h).json()
    assert sum(e["kind"] == "edited" for e in events) >= 1
