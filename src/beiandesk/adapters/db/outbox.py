"""The outbox: notifications and gateway calls written in the state change's transaction.

Workers claim a due row with one conditional UPDATE (``status`` pending → sending), so two
workers on PostgreSQL never take the same row. A claim older than ``stale_after`` (a worker that
died mid-delivery) becomes claimable again. Delivery is therefore at-least-once for a crash
*during* a send, and exactly-once for a crash between the commit and the send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t


@dataclass
class OutboxItem:
    id: int
    kind: str
    change_id: int | None
    recipient_masked: str
    subject: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    done_at: datetime | None

    def public(self) -> dict[str, Any]:
        """Admin view: no full mobile, no full e-mail address."""
        return {"id": self.id, "kind": self.kind, "change_id": self.change_id,
                "to": self.recipient_masked, "subject": self.subject,
                "text": self.payload.get("text", ""), "status": self.status,
                "attempts": self.attempts, "last_error": self.last_error,
                "created_at": self.created_at.isoformat(),
                "done_at": self.done_at.isoformat() if self.done_at else None}


class OutboxRepo:
    def __init__(self, conn: Connection, cipher: DataCipher) -> None:
        self.conn, self.cipher = conn, cipher

    def add(self, kind: str, payload: dict[str, Any], now: datetime, *, change_id: int | None = None,
            recipient_masked: str = "", subject: str = "") -> int:
        return self.conn.execute(insert(t.outbox).values(
            kind=kind, change_id=change_id, recipient_masked=recipient_masked, subject=subject,
            payload_enc=self.cipher.encrypt_json(payload), status="pending", attempts=0,
            next_attempt_at=now, created_at=now)).inserted_primary_key[0]

    def _to(self, r) -> OutboxItem:
        return OutboxItem(r.id, r.kind, r.change_id, r.recipient_masked, r.subject,
                          self.cipher.decrypt_json(r.payload_enc), r.status, r.attempts,
                          r.next_attempt_at, r.last_error, r.created_at, r.done_at)

    def get(self, item_id: int) -> OutboxItem | None:
        row = self.conn.execute(select(t.outbox).where(t.outbox.c.id == item_id)).first()
        return self._to(row) if row else None

    def due_ids(self, now: datetime, stale_after: timedelta, limit: int = 100) -> list[int]:
        c = t.outbox.c
        q = select(c.id).where(or_(
            and_(c.status == "pending", c.next_attempt_at <= now),
            and_(c.status == "sending", c.claimed_at < now - stale_after),
        )).order_by(c.next_attempt_at, c.id).limit(limit)
        return [r[0] for r in self.conn.execute(q)]

    def claim(self, item_id: int, worker: str, now: datetime, stale_after: timedelta) -> bool:
        c = t.outbox.c
        res = self.conn.execute(update(t.outbox).where(c.id == item_id, or_(
            and_(c.status == "pending", c.next_attempt_at <= now),
            and_(c.status == "sending", c.claimed_at < now - stale_after),
        )).values(status="sending", claimed_at=now, claimed_by=worker, attempts=c.attempts + 1))
        return res.rowcount == 1

    def mark_sent(self, item_id: int, now: datetime) -> None:
        self.conn.execute(update(t.outbox).where(t.outbox.c.id == item_id).values(
            status="sent", done_at=now, last_error=None))

    def mark_retry(self, item_id: int, error: str, next_at: datetime) -> None:
        self.conn.execute(update(t.outbox).where(t.outbox.c.id == item_id).values(
            status="pending", next_attempt_at=next_at, last_error=error[:2000], claimed_at=None))

    def mark_failed(self, item_id: int, error: str, now: datetime) -> None:
        self.conn.execute(update(t.outbox).where(t.outbox.c.id == item_id).values(
            status="failed", last_error=error[:2000], done_at=now))

    def list(self, *, kind: str | None = None, status: str | None = None, change_id: int | None = None,
             limit: int = 200) -> list[OutboxItem]:
        q = select(t.outbox).order_by(t.outbox.c.id.desc()).limit(limit)
        if kind:
            q = q.where(t.outbox.c.kind == kind)
        if status:
            q = q.where(t.outbox.c.status == status)
        if change_id is not None:
            q = q.where(t.outbox.c.change_id == change_id)
        return [self._to(r) for r in self.conn.execute(q)]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status))
        return {r[0]: r[1] for r in rows}
