"""A psycopg ``AsyncConnection`` that stays registered with its event loop between waits.

psycopg's own async wait (``psycopg.waiting.wait_async``) registers the socket with the loop
for every wait, unregisters it after, and arms a 0.1 s timer each time. Under uvloop that is
a poll handle made and closed per wait: strace showed about six ``epoll_ctl`` calls per point
read, half of them failing. :class:`KeptConnection` registers its socket when it first waits
for an answer and leaves it registered while it is kept: a read's wait is one future resolved
by the socket's reader. Measured here (eight connections on one uvloop loop, the same one-row
``SELECT``, a kept cursor each): 65–69 µs of CPU per statement with psycopg's wait, 43–55 µs
with this one; a timer per wait cost 6–8 µs of that back, so one timer per loop stands in
for them (below).

- **Only the plain "wait until the answer can be read"** goes this way. A wait with a
  timeout, or one that must wait to *write* (a send buffer full: a large statement, COPY), is
  psycopg's own, the socket taken off the loop first.
- **The watchdog**: one timer per loop, armed while any kept connection waits, wakes a wait
  that has lasted a tick (0.1–0.2 s), and that wait registers the socket again, as psycopg's
  own wait does for every wait. libuv stops a poll handle for good on a socket error without
  calling its reader (seen here: a backend terminated during a read, under uvloop), so a
  registration can be lost; that costs a tick, never a hung request.
- **A socket readable while nobody waits** (a notice, the server closing the link) leaves
  the loop at once, so it cannot wake the loop again and again; the next wait registers it
  again and reads what came. ``spoke_while_idle`` tells the owner: a pool that never listens
  for notifications drops such a connection rather than find out in a read whether it was the
  server's goodbye. A wake-up with nothing to read (asyncio's selector loop reports
  the socket once more after the answer was read) changes nothing.

**Prepared point reads** (:meth:`KeptConnection.prepared_row`) skip psycopg's cursor: the
statement is prepared once per connection under the caller's name, each read is libpq's
``send_query_prepared`` and psycopg's own ``execute`` generator awaited through this wait, and
the row is loaded by a psycopg ``Transformer`` kept per statement (its loaders chosen once),
binary results. Measured here (the same eight-connection uvloop loop, ``GET
/api/v1/websites/{id}``'s eighteen-column read): 84–92 µs of CPU per read through a kept
cursor, 53–70 µs this way. Errors are psycopg's own classes (``error_from_result``): a
terminated backend is an ``OperationalError`` as through a cursor.

The socket must leave its loop before it is closed (its number is reused by the next socket
the process opens), so the connection is closed by :meth:`KeptConnection.finish` (or
``close``), which does that on the loop's own thread, waiting for it there if that loop runs in
another thread. A read cancelled halfway leaves the connection mid-answer: its owner drops it.
"""

from __future__ import annotations

import asyncio
import logging
import select
import threading
import weakref
from collections.abc import Generator
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute
from psycopg.waiting import Ready, Wait

log = logging.getLogger(__name__)

_WAIT_R = Wait.R
_READY_R = Ready.R
_BINARY = pq.Format.BINARY
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TUPLES_OK = pq.ExecStatus.TUPLES_OK

#: The watchdog's tick: a wait that has lasted one is woken to register again.
WATCHDOG_TICK = 0.1

#: How long ``finish`` from another thread waits for the loop to close the connection there.
FINISH_WAIT = 2.0


def _resumed(first: Any, gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """``gen`` already started (it yielded ``first``), as a generator that yields it again:
    for psycopg's own wait, which starts the generator it is given."""
    ready = yield first
    while True:
        try:
            wanted = gen.send(ready)
        except StopIteration as stop:
            return stop.value
        ready = yield wanted


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _has_input(fileno: int) -> bool:
    """Whether the socket has something to read (or is closed or failed), without waiting."""
    poll = select.poll()
    poll.register(fileno, select.POLLIN)
    return bool(poll.poll(0))


class _Watchdog:
    """A loop's one timer for its kept connections' waits (see the module docstring). It holds
    no reference to its loop (the loop is its key in ``_WATCHDOGS``, a weak one)."""

    __slots__ = ("waiting", "armed", "__weakref__")

    def __init__(self) -> None:
        #: connection → whether it was already waiting at the last tick (the same wait).
        self.waiting: dict[KeptConnection, bool] = {}
        self.armed = False

    def watch(self, conn: KeptConnection, loop: asyncio.AbstractEventLoop) -> None:
        self.waiting[conn] = False
        if not self.armed:
            self.armed = True
            loop.call_later(WATCHDOG_TICK, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self.armed = False
        waiting = self.waiting
        for conn, seen in list(waiting.items()):
            if seen:
                conn._wake()
            else:
                waiting[conn] = True
        if waiting:
            self.armed = True
            loop.call_later(WATCHDOG_TICK, self._tick, loop)


_WATCHDOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watchdog] = (
    weakref.WeakKeyDictionary()
)


def _watchdog(loop: asyncio.AbstractEventLoop) -> _Watchdog:
    dog = _WATCHDOGS.get(loop)
    if dog is None:
        dog = _WATCHDOGS[loop] = _Watchdog()
    return dog


class _Statement:
    """A statement prepared on one connection: its transformer, its loaders chosen at its
    first row (the same columns every time), its parameters' formats."""

    __slots__ = ("tx", "loaded", "formats")

    def __init__(self, tx: Transformer, count: int) -> None:
        self.tx, self.loaded, self.formats = tx, False, [PyFormat.TEXT] * count


class KeptConnection(psycopg.AsyncConnection):
    """See the module docstring."""

    #: (the loop, weakly: an ended loop is not kept alive by its connections; the socket's
    #: number as registered; the loop's watchdog)
    _watched: tuple[weakref.ref[asyncio.AbstractEventLoop], int, _Watchdog] | None = None
    _waiter: asyncio.Future[None] | None = None
    _stalled = False  # the last wait was ended by the watchdog
    #: The socket was readable while nobody waited on it (see the module docstring).
    spoke_while_idle = False
    _statements: dict[bytes, _Statement] | None = None

    async def prepared_row(
        self, name: bytes, sql: bytes, params: list[Any]
    ) -> tuple[tuple[Any, ...] | None, pq.abc.PGresult]:
        """The first row of ``sql`` (``$1``-style placeholders, the parameters' types given by
        the statement itself) run with ``params``, prepared on this connection as ``name`` at
        its first use; and the result (its columns' names and types). Only for a connection
        nothing else uses meanwhile (a pool's, in autocommit), one statement at a time."""
        statements = self._statements
        if statements is None:
            statements = self._statements = {}
        pgconn = self.pgconn
        st = statements.get(name)
        if st is None:
            pgconn.send_prepare(name, sql)
            self._checked(await self.wait(execute(pgconn)), _COMMAND_OK)
            st = statements[name] = _Statement(Transformer(self), len(params))
        tx = st.tx
        pgconn.send_query_prepared(
            name, tx.dump_sequence(params, st.formats), result_format=_BINARY
        )
        res = self._checked(await self.wait(execute(pgconn)), _TUPLES_OK)
        if not res.ntuples:
            return None, res
        if st.loaded:
            tx.set_pgresult(res, set_loaders=False)
        else:
            tx.set_pgresult(res)
            st.loaded = True
        return tx.load_row(0, tuple), res

    def _checked(self, results: list[pq.abc.PGresult], wanted: pq.ExecStatus) -> pq.abc.PGresult:
        for res in results:
            if res.status != wanted:
                raise errors.error_from_result(res, encoding=self.info.encoding)
        if not results:
            raise psycopg.OperationalError("PostgreSQL answered nothing")
        return results[-1]

    async def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if args or kwargs.get("timeout") is not None:
            self._unwatch()
            return await super().wait(gen, *args, **kwargs)
        try:
            wanted = next(gen)
        except StopIteration as stop:
            return stop.value
        loop = asyncio.get_running_loop()
        while True:
            if wanted != _WAIT_R:  # a write wait: psycopg's own, the socket off our loop
                self._unwatch()
                return await super().wait(_resumed(wanted, gen), **kwargs)
            watched = self._watched
            if self._stalled or watched is None or watched[0]() is not loop:
                self._stalled = False
                self._unwatch()
                fileno = self.pgconn.socket
                loop.add_reader(fileno, self._readable)
                watched = self._watched = (weakref.ref(loop), fileno, _watchdog(loop))
            dog = watched[2]
            self._waiter = waiter = loop.create_future()
            dog.watch(self, loop)
            try:
                await waiter
            finally:
                self._waiter = None
                dog.waiting.pop(self, None)
            try:
                wanted = gen.send(_READY_R)
            except StopIteration as stop:
                return stop.value
            except OSError as exc:  # as psycopg's wait: the socket went away
                raise psycopg.OperationalError("connection socket closed") from exc

    def _readable(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
        elif self._watched is not None and _has_input(self._watched[1]):
            # Readable while nobody waits: off the loop until the next wait (which reads what
            # came: a notice, a notification, or the server's goodbye), and noted for the owner.
            self._unwatch()
            self.spoke_while_idle = True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._stalled = True
            waiter.set_result(None)

    def _unwatch(self) -> bool:
        """Take the socket off its loop. False when that loop runs in another thread (then
        only its own thread may touch it)."""
        watched = self._watched
        if watched is None:
            return True
        loop, fileno = watched[0](), watched[1]
        if loop is not None and not loop.is_closed():  # an ended loop holds nothing any more
            if _running_loop() is not loop and loop.is_running():
                return False
            loop.remove_reader(fileno)
        self._watched = None
        return True

    def finish(self) -> None:
        """Close the connection now, from any thread, its socket off the loop first."""
        if not self._unwatch():
            watched = self._watched  # (the loop's thread may have taken it off meanwhile)
            loop = None if watched is None else watched[0]()
            if loop is not None and self._finish_there(loop):
                return
            self._watched = None
        if not self.closed:
            self.pgconn.finish()

    def _finish_there(self, loop: asyncio.AbstractEventLoop) -> bool:
        """``finish`` on the loop's own thread, waited for. False when that loop closed
        before it could (then nothing holds the socket any more)."""
        done = threading.Event()

        def there() -> None:
            try:
                self.finish()
            finally:
                done.set()

        try:
            loop.call_soon_threadsafe(there)
        except RuntimeError:  # closed meanwhile
            return False
        if done.wait(FINISH_WAIT):
            return True
        if loop.is_closed():
            return False
        log.warning("PostgreSQL connection: closed by its busy event loop later")
        return True  # that loop closes it when it gets there

    async def close(self) -> None:
        if self._unwatch():
            await super().close()
        else:
            self.finish()
