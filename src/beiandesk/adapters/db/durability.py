"""Group commit for SQLite in WAL mode: one fsync makes every commit before it durable.

With ``synchronous=FULL`` SQLite fsyncs the write-ahead log inside every COMMIT, while holding
the database's one write lock: saves queue behind each other's fsync (0.4–0.7 ms here) and, with
the commit on the event loop, the loop waits too. A write unit of work instead commits with
``synchronous=NORMAL`` (the WAL is written, not synced: 20 µs) and then waits, *outside the lock*,
until :class:`WalSync` has fsynced the WAL past its commit. That is exactly what FULL does — FULL
is NORMAL plus an fsync of the WAL after each commit (sqlite.org/pragma.html#pragma_synchronous)
— except that the fsync is shared: commits that arrive while one fsync runs are all covered by
the next one. Nothing is acknowledged before its fsync; on power loss the database recovers to a
state that contains every acknowledged write, as with FULL.

What changes: another connection may *read* a committed row a moment before it is on disk (as
with FULL in the instant between its write and its fsync). Anything that acts on what it read —
the worker claiming an outbox row before it sends — does so by committing a write of its own,
and that commit, later in the same log, is durable only once the earlier one is too.

When SQLite checkpoints or closes the last connection it syncs the log and the database itself
(NORMAL does that), so a missing WAL file means everything committed is in the synced database.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any


class WalSync:
    """The commits made so far, counted, and fsyncs of the ``-wal`` file that cover them."""

    def __init__(self, database: Path | str) -> None:
        self.database = Path(database)
        self.wal = Path(f"{database}-wal")
        #: Whether the database really is in WAL mode (checked on the first write; None: not yet).
        #: In any other journal mode the unit of work leaves FULL's own sync in place.
        self.wal_mode: bool | None = None
        self._count = threading.Lock()
        self._sync = threading.Lock()  # one fsync at a time; waiters behind it share the next
        self._committed = 0  # commits counted (each got a sequence number)
        self._durable = 0  # every commit up to this number is on disk
        # ``wait_async``: event-loop waiters and the syncer thread that answers them in batches.
        self._cond = threading.Condition()
        self._waiters: list[tuple[int, Any, asyncio.Future[None]]] = []
        self._syncer: threading.Thread | None = None

    def committed(self) -> int:
        """Count a commit that SQLite has just written to the WAL; its sequence number."""
        with self._count:
            self._committed += 1
            return self._committed

    def durable(self, seq: int) -> bool:
        return self._durable >= seq

    def wait(self, seq: int) -> None:
        """Return once commit ``seq`` is on disk: fsync the WAL, unless an fsync that started
        after that commit has finished meanwhile (then it covered it)."""
        if self._durable >= seq:
            return
        with self._sync:
            if self._durable >= seq:  # the fsync we queued behind covered this commit too
                return
            with self._count:
                target = self._committed  # every commit written before this fsync starts
            try:
                fd = os.open(self.wal, os.O_RDONLY)
            except FileNotFoundError:
                if not self.database.exists():  # not where SQLite writes: never claim it synced
                    raise RuntimeError(f"SQLite 数据库文件不在预期位置：{self.database}") from None
                # checkpointed into the database and the log removed: SQLite synced both
                self._durable = max(self._durable, target)
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._durable = max(self._durable, target)

    # -- waiting on an event loop ------------------------------------------------------------

    #: A syncer thread with nothing to do for this long ends (another starts on demand).
    IDLE_S = 2.0

    async def wait_async(self, seq: int) -> None:
        """``wait`` for an event loop: the loop goes on serving while the fsync runs, in one
        syncer thread per database whose fsync answers every waiter it covered at once — one
        wake-up of each loop per fsync, not a threadpool hop per save (a hop cost the loop
        140 µs of CPU here, a batched answer a fraction of that)."""
        if self._durable >= seq:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._cond:
            self._waiters.append((seq, loop, fut))
            if self._syncer is None:
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="beiandesk-wal-sync", daemon=True
                )
                self._syncer.start()
            self._cond.notify()
        await fut

    def _sync_loop(self) -> None:
        while True:
            with self._cond:
                if not self._waiters:
                    self._cond.wait(self.IDLE_S)
                    if not self._waiters:
                        self._syncer = None
                        return
                waiting, self._waiters = self._waiters, []
            error: BaseException | None = None
            try:
                self.wait(max(seq for seq, _, _ in waiting))
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter it concerns
                error = exc
            by_loop: dict[Any, list[asyncio.Future[None]]] = {}
            for _seq, loop, fut in waiting:
                by_loop.setdefault(loop, []).append(fut)
            for loop, futures in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, futures, error)
                except RuntimeError:  # that loop is closed: nobody waits there any more
                    pass


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if fut.done():  # cancelled meanwhile (the client went away)
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
