"""Import throughput and peak memory: ``import-records`` on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_import.py [--rows 100000] [--small 10000] [--db sqlite,postgresql]
                                           [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
    .venv/bin/python bench/bench_import.py --stream-mb 200    # a 200 MB file, read + parsed only

1. Writes two valid CSV files (``--small`` and ``--rows`` websites; two websites per subject,
   every ID number and credit code with its real check digit) — streamed, as an export would be.
2. For each database and each file, in a fresh child process on a fresh database: the real
   import path (``entrypoints.records_import.run_import_file``: structure pass, row checks with
   the pre-check's rules, encryption, batches of 500 in transactions), then the same file again
   (every row unchanged).
3. Prints rows/s of both runs (wall clock, and per CPU-second of the importing process, which is
   what a shared machine's load does not distort) and the child's peak RSS. Peak memory should not grow with the
   file's length: compare the two files' figures. Target: ≥ 5,000 rows/s on SQLite.

Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

KEY = "bench-data-key-0123456789abcdef"


def write_file(path: Path, n: int) -> None:
    from beiandesk.domain.import_rows import COLUMNS
    from tests.import_support import rows

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows(n, sites_per_subject=2):
            w.writerow(r)


def _child(url: str, path: str, tmp: str, out: mp.Queue) -> None:
    from beiandesk import bootstrap
    from beiandesk.config import Settings
    from beiandesk.entrypoints.records_import import run_import_file

    settings = Settings(_env_file=None, var_dir=Path(tmp) / "var", database_url=url,
                        storage_dir=Path(tmp) / "files", secret_key=KEY, data_key=KEY)
    built = bootstrap.build(settings)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = []
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_import_file(built.deps, Path(path), actor="bench", dry_run=False)
        figures.append((time.perf_counter() - t0, time.process_time() - c0,
                        result["created"], result["unchanged"], result["refused"]))
    built.engine.dispose()
    out.put((figures, base_rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _pg_database(pg_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), drop


def _stream_child(path: str, out: mp.Queue) -> None:
    from beiandesk.adapters.records_files import open_records_file
    from beiandesk.domain.import_rows import parse_row

    t0 = time.perf_counter()
    records = open_records_file(Path(path))  # the structure pass: encoding, quoting, header, count
    t1 = time.perf_counter()
    n = sum(1 for line, raw in records.rows() if parse_row(raw, line)[0] is not None)
    out.put((records.total, n, t1 - t0, time.perf_counter() - t1,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def stream_check(megabytes: int) -> None:
    """A file of ``megabytes`` MB read and parsed end to end (no database): peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-import-big-") as tmp:
        p = Path(tmp) / "big.csv"
        n = int(megabytes * 1e6 / 437)  # ~437 bytes a generated row
        write_file(p, n)
        q = mp.get_context("spawn").Queue()
        proc = mp.get_context("spawn").Process(target=_stream_child, args=(str(p), q))
        proc.start()
        total, parsed, structure_s, rows_s, peak = q.get()
        proc.join()
        print(f"{p.stat().st_size / 1e6:.0f} MB CSV, {total:,} rows: structure pass {structure_s:.1f} s, "
              f"read + parse {rows_s:.1f} s ({parsed:,} rows), peak RSS {peak / 1024:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=os.environ.get("BEIANDESK_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--stream-mb", type=int, default=0,
                    help="only read and parse a generated file of this many MB (no database)")
    args = ap.parse_args()
    if args.stream_mb:
        stream_check(args.stream_mb)
        return
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        files = {}
        for n in sorted({args.small, args.rows}):
            p = Path(tmp) / f"records-{n}.csv"
            t0 = time.perf_counter()
            write_file(p, n)
            files[n] = p
            print(f"wrote {n:,} rows ({p.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
        for db in args.db.split(","):
            for n, p in files.items():
                work = Path(tmp) / f"{db}-{n}"
                work.mkdir()
                drop = None
                url = f"sqlite:///{work / 'bench.db'}" if db == "sqlite" else None
                if url is None:
                    url, drop = _pg_database(args.pg_url)
                try:
                    q = ctx.Queue()
                    proc = ctx.Process(target=_child, args=(url, str(p), str(work), q))
                    proc.start()
                    figures, base, peak = q.get()
                    proc.join()
                finally:
                    if drop:
                        drop()
                (t1, c1, created, _, refused), (t2, c2, _, unchanged, _) = figures
                print(f"{db:10s} {n:>7,} rows: first import {n / t1:,.0f} rows/s wall, {n / c1:,.0f} per CPU-s "
                      f"({created:,} created, {refused} refused); again {n / t2:,.0f} rows/s wall, "
                      f"{n / c2:,.0f} per CPU-s ({unchanged:,} unchanged); "
                      f"peak RSS {peak / 1024:.0f} MB (after start-up {base / 1024:.0f} MB)", flush=True)


if __name__ == "__main__":
    main()
