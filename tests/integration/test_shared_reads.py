"""``SharedReads`` + ``scoped_uow`` (adapters/db/uow.py), as ``bootstrap.build`` wires them: in a
scope the read-only units of work share one connection and read transaction; a write ends the
shared read so later reads see it; a stale shared read still in use hands out private ones; a
failed read closes it; nothing is shared outside a scope or across scopes, tasks or threads.
Plus the lazy repositories of ``SqlUnitOfWork``."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.uow import _REPOS, SharedReads, SqlUnitOfWork

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _accounts(uow) -> int:  # noqa: ANN001
    return uow.conn.execute(select(func.count()).select_from(t.accounts)).scalar_one()


def _released(uow) -> bool:  # noqa: ANN001
    """Its read is over and its connection given back: closed (to the engine's pool) or, on
    SQLite, kept among the app's readers for the next read (``uow.ReaderPool``)."""
    return uow.conn.closed or not uow.tx.is_active


def _add_account(deps, name: str) -> None:  # noqa: ANN001
    with deps.uow() as uow:
        uow.conn.execute(
            insert(t.accounts).values(
                username=name,
                password_hash="h",
                role="applicant",
                display_name=name,
                email="",
                enterprise_verified=False,
                created_at=NOW,
            )
        )
        uow.commit()


def test_the_wiring(app) -> None:  # noqa: ANN001
    assert app.deps.read_scope is SharedReads


def test_reads_in_a_scope_share_one_transaction(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow(readonly=True) as a:
            assert _accounts(a) == 0
            with deps.uow(readonly=True) as nested:  # a read inside a read: the same one
                assert nested is a
        with deps.uow(readonly=True) as b:
            assert b is a and b.tx.is_active and b.readonly
        assert not _released(a)
    assert _released(a)  # the scope's end returns the connection
    if a.conn.dialect.name == "sqlite":  # kept for the next read, with no transaction open
        assert not a.conn.closed and not a.conn.connection.driver_connection.in_transaction


def test_outside_a_scope_every_read_is_its_own(deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as a:
        assert isinstance(a, SqlUnitOfWork) and a.readonly
    with deps.uow(readonly=True) as b:
        assert b is not a
    assert _released(a) and _released(b)


def test_a_write_ends_the_shared_read_so_later_reads_see_it(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow(readonly=True) as before:
            assert _accounts(before) == 0  # on SQLite the read's snapshot starts here
        _add_account(deps, "alice")
        assert _released(before)  # ended when the write opened
        with deps.uow(readonly=True) as after:
            assert after is not before
            assert _accounts(after) == 1  # read-your-writes


def test_a_read_opened_during_a_write_is_not_reused_after_its_commit(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow() as w:
            w.conn.execute(
                insert(t.accounts).values(
                    username="alice",
                    password_hash="h",
                    role="applicant",
                    display_name="",
                    email="",
                    enterprise_verified=False,
                    created_at=NOW,
                )
            )
            with deps.uow(readonly=True) as during:
                assert _accounts(during) == 0  # not committed yet (SQLite: snapshot from here)
            w.commit()
        with deps.uow(readonly=True) as after:
            assert after is not during
            assert _accounts(after) == 1


def test_a_write_while_the_shared_read_is_in_use(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow(readonly=True) as outer:
            assert _accounts(outer) == 0
            _add_account(deps, "alice")
            assert not _released(outer)  # still in use: kept to its end
            with deps.uow(readonly=True) as private:  # stale: not handed out again
                assert private is not outer
                assert _accounts(private) == 1
            assert _released(private)  # a private unit of work, closed at its own end
        assert _released(outer)  # the stale one is closed once nobody uses it
        with deps.uow(readonly=True) as fresh:
            assert fresh is not outer and fresh is not private
            assert _accounts(fresh) == 1
        with deps.uow(readonly=True) as again:
            assert again is fresh  # shared again


def test_a_failed_read_closes_the_shared_one(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with pytest.raises(ZeroDivisionError):
            with deps.uow(readonly=True) as failed:
                1 / 0  # noqa: B018
        assert _released(failed)
        with deps.uow(readonly=True) as outer:
            assert outer is not failed
            with pytest.raises(ZeroDivisionError):
                with deps.uow(readonly=True) as inner:
                    assert inner is outer
                    1 / 0  # noqa: B018
            assert not _released(outer)  # the outer read still uses it
            with deps.uow(readonly=True) as private:
                assert private is not outer
        assert _released(outer)  # depth back to 0
        with deps.uow(readonly=True) as fresh:
            assert fresh is not outer and _accounts(fresh) == 0


def test_nested_scopes_do_not_share(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow(readonly=True) as outer:
            pass
        with SharedReads():
            with deps.uow(readonly=True) as inner:
                assert inner is not outer
        assert _released(inner) and not _released(outer)
        with deps.uow(readonly=True) as back:
            assert back is outer


def test_writes_are_never_shared(deps) -> None:  # noqa: ANN001
    with SharedReads():
        with deps.uow() as w1:
            assert not w1.readonly
        with deps.uow() as w2:
            assert w2 is not w1


def test_two_threads_with_their_own_scope(deps) -> None:  # noqa: ANN001
    both = threading.Barrier(2)
    seen: dict[str, object] = {}
    errors: list[BaseException] = []

    def request(name: str) -> None:
        try:
            with SharedReads():
                with deps.uow(readonly=True) as a:
                    both.wait(10)  # both scopes hold a read at once
                    with deps.uow(readonly=True) as b:
                        assert b is a
                seen[name] = a
                both.wait(10)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
            both.abort()

    threads = [threading.Thread(target=request, args=(n,)) for n in "ab"]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors, errors
    assert seen["a"] is not seen["b"]


def test_a_thread_started_in_a_scope_does_not_share_it(deps) -> None:  # noqa: ANN001
    got: list[object] = []
    with SharedReads():
        with deps.uow(readonly=True) as mine:
            th = threading.Thread(target=lambda: got.append(deps.uow(readonly=True)))
            th.start()
            th.join(10)
    assert isinstance(got[0], SqlUnitOfWork) and got[0] is not mine  # a plain unit of work


def test_two_asyncio_tasks_with_their_own_scope(deps) -> None:  # noqa: ANN001
    seen: dict[str, list[object]] = {}

    async def request(name: str, started: asyncio.Event, other: asyncio.Event) -> None:
        with SharedReads():
            with deps.uow(readonly=True) as a:
                pass
            started.set()
            await other.wait()  # the other task has opened its scope and its read meanwhile
            with deps.uow(readonly=True) as b:
                pass
            seen[name] = [a, b]

    async def main() -> None:
        ea, eb = asyncio.Event(), asyncio.Event()
        await asyncio.gather(request("a", ea, eb), request("b", eb, ea))

    # In a thread of its own: the e2e suite's Playwright fixture keeps a loop running in this one.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    th.join(30)
    assert not errors, errors
    (a1, a2), (b1, b2) = seen["a"], seen["b"]
    assert a1 is a2 and b1 is b2 and a1 is not b1
    assert _released(a1) and _released(b1)


# --- lazy repositories ---------------------------------------------------------------------------


def test_repositories_are_built_on_first_use(app, deps) -> None:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        assert not set(_REPOS) & set(vars(uow))
        websites = uow.websites
        assert uow.websites is websites and websites.conn is uow.conn  # built once
        assert set(_REPOS) & set(vars(uow)) == {"websites"}
        for name in _REPOS:
            assert getattr(uow, name).conn is uow.conn
        with pytest.raises(AttributeError):
            uow.no_such_repository  # noqa: B018
    with pytest.raises(AttributeError):
        SqlUnitOfWork(app.engine, None).websites  # noqa: B018 - not entered: no connection


def test_a_commit_without_the_change_repository(deps) -> None:  # noqa: ANN001
    with deps.uow() as uow:
        uow.sessions.add_failure("nobody", NOW)
        uow.commit()
        assert "changes" not in vars(uow)
    with deps.uow(readonly=True) as uow:
        assert uow.sessions.failures_since("nobody", NOW) == [NOW]
