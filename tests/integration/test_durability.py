"""Acknowledged writes survive a power cut (issue 12): SQLite commits with synchronous=FULL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from beiandesk.adapters.db.engine import build_engine


def test_sqlite_commits_are_synced_before_they_are_acknowledged(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL (NORMAL is 1)
    finally:
        engine.dispose()


def test_sqlite_reads_go_through_a_memory_map(tmp_path: Path) -> None:
    """Point reads in a database larger than SQLite's page cache read the map, not pread()."""
    engine = build_engine(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA mmap_size")).scalar() >= 1 << 30
    finally:
        engine.dispose()
