"""Engine construction: SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

#: SQLite's memory-map window (``PRAGMA mmap_size``; the library caps it at its compile-time
#: maximum, 2 GB in the sqlite3 Python ships), so a database up to that size is read mapped
#: (see ``_sqlite_pragmas``).
SQLITE_MMAP_BYTES = 1 << 31
#: How long a SQLite connection waits for another connection's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000


def build_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            # Enough for the server's threadpool (anyio: 40 threads) and the event loop: with 8
            # every request past the 8th in flight opened a connection, ran the PRAGMAs below and
            # closed it again (~8 % of a GET's CPU at 32 wrk connections).
            pool_size=48,
            max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # Transactions are begun explicitly below, so that writers take the lock at BEGIN
            # (no deadlock when two readers both try to upgrade) and readers stay concurrent.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it is acknowledged, so an approval survives a power
            # cut. Measured here (ext4 on virtio, WAL, BEGIN IMMEDIATE; UPDATE; INSERT; COMMIT):
            # NORMAL ≈ 18–19k commits/s, FULL ≈ 310–430 commits/s (2.3–3.2 ms per commit, the
            # WAL fsync). Reads pay nothing; a filing platform cannot trade lost approvals for it.
            cur.execute("PRAGMA synchronous=FULL")
            # Reads through a memory map of the file: with SQLite's default page cache (2 MB per
            # connection) a point read in a 120 MB database (100,000 websites) missed the cache
            # and paid a pread() per B-tree page: 41 µs per website row against 10 µs mapped
            # (measured here). Address space only; the pages are the OS page cache's, shared by
            # all connections. Writes still go through the WAL as before.
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            options = conn.get_execution_options()
            raw = conn.connection.driver_connection
            if options.get("beiandesk_reader") and raw.in_transaction:
                return  # a reader's transaction is begun already (uow.ReaderPool)
            mode = conn.info.get("begin_mode") or options.get("sqlite_begin", "IMMEDIATE")
            # Straight to the driver: SQLAlchemy's statement machinery (events, execution
            # context, cursor wrapper) cost more than the BEGIN itself on every request.
            raw.execute(f"BEGIN {mode}")

        return engine
    # Up to 50: the threadpool's 40 threads and the event loop may each hold one at once (30 was
    # fewer than that: under 32 wrk connections requests queued for a connection). Two nodes x 50
    # fit PostgreSQL's default max_connections of 100 only without workers: raise it (or use
    # pgbouncer) for the reference deployment.
    return create_engine(
        url, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW
    )


#: PostgreSQL's pool (``build_engine``; the saves' async engine too, ``on_loop.py``).
PG_POOL_SIZE, PG_MAX_OVERFLOW = 20, 30
