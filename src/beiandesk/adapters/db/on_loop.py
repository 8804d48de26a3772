"""PostgreSQL: a sync use case run on the event loop, each of its statements awaited.

A save of an order (``PATCH /api/v1/changes/{id}``) reads, judges and writes: after the
session check, six round trips (the order with its calls, the subject; BEGIN, the UPDATE, the
event, COMMIT). In the threadpool every round trip released the GIL and took it back against
the loop and the other threads; under wrk (8 connections) the server spent 3.1–3.7 ms of CPU
per save, against 1.6 ms for the same saves one after another (measured here: the difference
was the hand-overs, half of it in the kernel).

Here the use case runs as it is — the same units of work, repositories and statements — inside
a greenlet on the loop (SQLAlchemy's ``greenlet_spawn``), on an engine with psycopg's async
driver: at each statement the greenlet hands the loop back until PostgreSQL answers, and the
loop serves other requests meanwhile. No thread, no hand-over. A unit of work opened there uses
that engine (``in_greenlet`` below); anywhere else, the sync engine as before.

The async driver's connections wait on the loop they are used from, so the engine is bound to
one loop at a time — a server has one. Called from another loop while that one still runs (two
test clients at once), the use case runs in a worker thread on the sync engine instead; once the
bound loop has ended, the next loop takes the engine over (the old connections closed first).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import greenlet_spawn

from beiandesk.adapters.db.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE
from beiandesk.adapters.db.uow import PgReaderPool, PgWriterPool, SharedReads

#: Set while a use case runs inside ``LoopWrites.run``'s greenlet.
_IN_GREENLET: ContextVar[bool] = ContextVar("beiandesk_in_greenlet", default=False)


def in_greenlet() -> bool:
    return _IN_GREENLET.get()


class _Bound:
    __slots__ = ("loop", "engine", "readers", "writers")

    def __init__(self, loop: asyncio.AbstractEventLoop, engine: AsyncEngine) -> None:
        self.loop = weakref.ref(loop)
        self.engine = engine
        self.readers = PgReaderPool(engine.sync_engine)
        self.writers = PgWriterPool(engine.sync_engine)


def _dispose(bound: _Bound) -> None:
    """Close an engine's connections on a loop of its own, in a thread of its own (the loop it
    was bound to may be gone, and the caller may be on a loop already)."""

    async def main() -> None:
        await greenlet_spawn(bound.readers.close)  # kept connections back to the pool …
        await greenlet_spawn(bound.writers.close)
        await bound.engine.dispose()  # … and every pooled connection closed

    th = threading.Thread(target=lambda: asyncio.run(main()), name="beiandesk-dispose")
    th.start()
    th.join(30)


class LoopWrites:
    """Runs a sync use case on the loop with its statements awaited (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("LoopWrites: PostgreSQL only")
        self.url = engine.url.set(drivername="postgresql+psycopg_async")
        self._bound: _Bound | None = None
        self._guard = threading.Lock()
        self._pid = os.getpid()
        ref = weakref.ref(self)

        def _disposed(_engine: Engine) -> None:  # ``engine.dispose()``: these go too
            writes = ref()
            if writes is not None:
                writes.close()

        event.listen(engine, "engine_disposed", _disposed)

    def _here(self) -> _Bound | None:
        """The engine bound to the running loop (binding it if it is free), or None."""
        loop = asyncio.get_running_loop()
        stale = None
        with self._guard:
            if self._pid != os.getpid():  # a forked child: the parent's connections are not its own
                self._bound, self._pid = None, os.getpid()
            bound = self._bound
            if bound is not None and bound.loop() is loop:
                return bound
            if bound is not None:
                other = bound.loop()
                if other is not None and not other.is_closed():
                    return None  # another loop's, still running: not this one's to use
                stale = bound
            bound = self._bound = _Bound(
                loop,
                create_async_engine(
                    self.url,
                    pool_pre_ping=True,
                    pool_size=PG_POOL_SIZE,
                    max_overflow=PG_MAX_OVERFLOW,
                ),
            )
        if stale is not None:
            _dispose(stale)
        return bound

    def engine(self) -> tuple[Engine, PgReaderPool, PgWriterPool]:
        """The sync face of the bound engine and its kept readers (for ``in_greenlet`` units
        of work)."""
        bound = self._bound
        assert bound is not None and in_greenlet(), "only inside LoopWrites.run"
        return bound.engine.sync_engine, bound.readers, bound.writers

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on this loop with its statements awaited — or, when the
        engine is another running loop's, in a worker thread on the sync engine."""
        if self._here() is None:
            return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

        def inside() -> Any:
            # Reads shared within the greenlet and ended there: their connections are the
            # async driver's, which only the greenlet can use.
            with SharedReads():
                return fn(*args, **kwargs)

        token = _IN_GREENLET.set(True)
        try:
            return await greenlet_spawn(inside)
        finally:
            _IN_GREENLET.reset(token)

    def close(self) -> None:
        with self._guard:
            bound, self._bound = self._bound, None
        if bound is not None:
            _dispose(bound)
