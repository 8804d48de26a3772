"""An on-disk key → owner ledger for dry-run imports (services.imports.KeyLedger).

A dry run writes nothing to the database, yet "a domain filed under one website only" and "a
mobile used by one subject only" must hold across the whole file. The keys earlier batches
claimed go to a throw-away SQLite file instead of a dict, so memory stays flat however long
the file; the file is deleted on close.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 500


class SqliteKeyLedger:
    def __init__(self, directory: Path | None = None) -> None:
        fd, name = tempfile.mkstemp(prefix="beiandesk-ledger-", suffix=".db", dir=directory)
        os.close(fd)
        self.path = Path(name)
        self.conn = sqlite3.connect(self.path)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute(
            "CREATE TABLE claims (kind TEXT, key TEXT, owner TEXT, PRIMARY KEY (kind, key))"
        )

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        out: dict[str, str] = {}
        for i in range(0, len(keys), _CHUNK):
            part = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            out.update(
                self.conn.execute(
                    f"SELECT key, owner FROM claims WHERE kind = ? AND key IN ({marks})",
                    [kind, *part],
                ).fetchall()
            )
        return out

    def put_many(self, kind: str, items: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO claims (kind, key, owner) VALUES (?, ?, ?)",
            [(kind, k, v) for k, v in items.items()],
        )

    def close(self) -> None:
        self.conn.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> SqliteKeyLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
