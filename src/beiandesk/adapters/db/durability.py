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

import os
import threading
from pathlib import Path


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
