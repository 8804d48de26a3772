"""The sandbox's own SQLite file: orders, SMS codes, the phone inbox, the callback outbox.

Its own file (``Settings.resolved_sandbox_db()``), never beiandesk's database: the sandbox stands
for a foreign system. One connection behind a re-entrant lock serves the request threads, the
ticker and the callback deliverer; writes run in ``BEGIN IMMEDIATE`` transactions (WAL), so a
second process on the same file stays consistent too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from beiandesk.sandbox.model import Order, OrderState, iso, parse_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
  ref TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, payload_hash TEXT NOT NULL,
  province TEXT NOT NULL, order_type TEXT NOT NULL, filing_number TEXT NOT NULL,
  payload TEXT NOT NULL, callback_url TEXT, state TEXT NOT NULL, reason TEXT,
  reasons TEXT NOT NULL DEFAULT '[]', round INTEGER NOT NULL DEFAULT 1,
  codes_due_at TEXT NOT NULL, sms_sent_at TEXT, sms_deadline TEXT,
  wrong_attempts INTEGER NOT NULL DEFAULT 0, resend_key TEXT, decided_at TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_pending ON orders (state, codes_due_at, sms_deadline);
CREATE TABLE IF NOT EXISTS codes (
  ref TEXT NOT NULL, round INTEGER NOT NULL, mobile TEXT NOT NULL, code TEXT NOT NULL,
  sent_at TEXT NOT NULL, verified_at TEXT, PRIMARY KEY (ref, round, mobile));
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, round INTEGER NOT NULL,
  to_mobile TEXT NOT NULL, text TEXT NOT NULL, code TEXT NOT NULL, sent_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS callbacks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, url TEXT NOT NULL,
  body TEXT NOT NULL, created_at TEXT NOT NULL, next_attempt_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, delivered_at TEXT, given_up INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER, last_error TEXT);
CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks (delivered_at, given_up, next_attempt_at);
"""

_ORDER_COLUMNS = (
    "ref",
    "idempotency_key",
    "payload_hash",
    "province",
    "order_type",
    "filing_number",
    "payload",
    "callback_url",
    "state",
    "reason",
    "reasons",
    "round",
    "codes_due_at",
    "sms_sent_at",
    "sms_deadline",
    "wrong_attempts",
    "resend_key",
    "decided_at",
    "created_at",
    "updated_at",
)


def _order_row(o: Order) -> tuple[Any, ...]:
    return (
        o.ref,
        o.idempotency_key,
        o.payload_hash,
        o.province,
        o.order_type,
        o.filing_number,
        json.dumps(o.payload, ensure_ascii=False),
        o.callback_url,
        str(o.state),
        o.reason,
        json.dumps(o.reasons, ensure_ascii=False),
        o.round,
        iso(o.codes_due_at),
        iso(o.sms_sent_at),
        iso(o.sms_deadline),
        o.wrong_attempts,
        o.resend_key,
        iso(o.decided_at),
        iso(o.created_at),
        iso(o.updated_at),
    )


def _order(row: sqlite3.Row) -> Order:
    return Order(
        ref=row["ref"],
        idempotency_key=row["idempotency_key"],
        payload_hash=row["payload_hash"],
        province=row["province"],
        order_type=row["order_type"],
        filing_number=row["filing_number"],
        payload=json.loads(row["payload"]),
        callback_url=row["callback_url"],
        state=OrderState(row["state"]),
        reason=row["reason"],
        reasons=json.loads(row["reasons"]),
        round=row["round"],
        codes_due_at=parse_iso(row["codes_due_at"]),  # type: ignore[arg-type]
        sms_sent_at=parse_iso(row["sms_sent_at"]),
        sms_deadline=parse_iso(row["sms_deadline"]),
        wrong_attempts=row["wrong_attempts"],
        resend_key=row["resend_key"],
        decided_at=parse_iso(row["decided_at"]),
        created_at=parse_iso(row["created_at"]),  # type: ignore[arg-type]
        updated_at=parse_iso(row["updated_at"]),  # type: ignore[arg-type]
    )


class SandboxStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0

    # -- connection and transactions -------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        # Opened on first use, not at construction: building the app touches no file.
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested calls join the outer one."""
        with self._lock:
            conn = self._connection()
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._depth = 0

    def _q(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._connection().execute(sql, args).fetchall()

    def _x(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            cur = self._connection().execute(sql, args)
            return int(cur.lastrowid or 0)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- orders ---------------------------------------------------------------------------
    def insert_order(self, order: Order) -> None:
        marks = ",".join("?" * len(_ORDER_COLUMNS))
        self._x(
            f"INSERT INTO orders ({','.join(_ORDER_COLUMNS)}) VALUES ({marks})", _order_row(order)
        )

    def save_order(self, order: Order) -> None:
        sets = ",".join(f"{c}=?" for c in _ORDER_COLUMNS[1:])
        row = _order_row(order)
        self._x(f"UPDATE orders SET {sets} WHERE ref=?", (*row[1:], row[0]))

    def get_order(self, ref: str) -> Order | None:
        rows = self._q("SELECT * FROM orders WHERE ref=?", (ref,))
        return _order(rows[0]) if rows else None

    def find_by_key(self, key: str) -> Order | None:
        rows = self._q("SELECT * FROM orders WHERE idempotency_key=?", (key,))
        return _order(rows[0]) if rows else None

    def list_orders(self, state: str | None = None, limit: int = 200) -> list[Order]:
        if state:
            rows = self._q(
                "SELECT * FROM orders WHERE state=? ORDER BY created_at DESC, ref DESC LIMIT ?",
                (state, limit),
            )
        else:
            rows = self._q(
                "SELECT * FROM orders ORDER BY created_at DESC, ref DESC LIMIT ?", (limit,)
            )
        return [_order(r) for r in rows]

    def count_refs_with_prefix(self, prefix: str) -> int:
        return int(self._q("SELECT COUNT(*) FROM orders WHERE ref LIKE ?", (prefix + "%",))[0][0])

    def due_refs(self, now: datetime) -> list[str]:
        """Orders whose codes are due to be sent or whose SMS window has run out."""
        t = iso(now)
        rows = self._q(
            "SELECT ref FROM orders WHERE state='sms_pending' AND ("
            "(sms_sent_at IS NULL AND codes_due_at<=?) OR (sms_deadline IS NOT NULL AND "
            "sms_deadline<=?))",
            (t, t),
        )
        return [r["ref"] for r in rows]

    # -- codes and the phone inbox --------------------------------------------------------
    def insert_code(self, ref: str, round_: int, mobile: str, code: str, at: datetime) -> None:
        self._x(
            "INSERT INTO codes (ref, round, mobile, code, sent_at) VALUES (?,?,?,?,?)",
            (ref, round_, mobile, code, iso(at)),
        )

    def codes(self, ref: str, round_: int) -> dict[str, dict[str, Any]]:
        rows = self._q(
            "SELECT mobile, code, sent_at, verified_at FROM codes WHERE ref=? AND round=?",
            (ref, round_),
        )
        return {
            r["mobile"]: {
                "code": r["code"],
                "sent_at": parse_iso(r["sent_at"]),
                "verified_at": parse_iso(r["verified_at"]),
            }
            for r in rows
        }

    def mark_verified(self, ref: str, round_: int, mobile: str, at: datetime) -> None:
        self._x(
            "UPDATE codes SET verified_at=? WHERE ref=? AND round=? AND mobile=?",
            (iso(at), ref, round_, mobile),
        )

    def insert_message(
        self, ref: str, round_: int, to: str, text: str, code: str, at: datetime
    ) -> None:
        self._x(
            "INSERT INTO messages (ref, round, to_mobile, text, code, sent_at) "
            "VALUES (?,?,?,?,?,?)",
            (ref, round_, to, text, code, iso(at)),
        )

    def messages(
        self, to: str | None = None, ref: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        where, args = [], []
        if to:
            where.append("to_mobile=?")
            args.append(to)
        if ref:
            where.append("ref=?")
            args.append(ref)
        sql = "SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
        # The newest ``limit`` messages, returned oldest first like a phone's SMS log.
        rows = self._q(
            f"SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id", (*args, limit)
        )
        return [
            {
                "id": r["id"],
                "to": r["to_mobile"],
                "text": r["text"],
                "code": r["code"],
                "ref": r["ref"],
                "round": r["round"],
                "sent_at": r["sent_at"],
            }
            for r in rows
        ]

    # -- callback outbox -------------------------------------------------------------------
    def enqueue_callback(self, ref: str, url: str, body: dict[str, Any], at: datetime) -> int:
        return self._x(
            "INSERT INTO callbacks (ref, url, body, created_at, next_attempt_at) "
            "VALUES (?,?,?,?,?)",
            (ref, url, json.dumps(body, ensure_ascii=False), iso(at), iso(at)),
        )

    def due_callbacks(self, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
        # An order's callbacks go out in order: one waits while an earlier one is pending.
        rows = self._q(
            "SELECT * FROM callbacks c WHERE delivered_at IS NULL AND given_up=0 AND "
            "next_attempt_at<=? AND NOT EXISTS (SELECT 1 FROM callbacks e WHERE e.ref=c.ref AND "
            "e.id<c.id AND e.delivered_at IS NULL AND e.given_up=0) ORDER BY id LIMIT ?",
            (iso(now), limit),
        )
        return [dict(r) for r in rows]

    def record_attempt(
        self,
        cid: int,
        *,
        status: int | None,
        error: str | None,
        delivered_at: datetime | None,
        next_at: datetime | None,
        give_up: bool,
    ) -> None:
        self._x(
            "UPDATE callbacks SET attempts=attempts+1, last_status=?, last_error=?, "
            "delivered_at=?, next_attempt_at=COALESCE(?, next_attempt_at), given_up=? "
            "WHERE id=?",
            (status, error, iso(delivered_at), iso(next_at), int(give_up), cid),
        )

    def recent_callbacks(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self._q("SELECT * FROM callbacks ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]
