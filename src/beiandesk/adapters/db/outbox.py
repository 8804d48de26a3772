"""The outbox: notifications and gateway calls written in the state change's transaction.

Workers claim a due row with one conditional UPDATE (``status`` pending → sending, with the
claimant and the time), so two workers on PostgreSQL never take the same row, and record the
outcome after the call. Each worker process beats in ``worker_heartbeats``; a row still
``sending`` whose claimant stopped beating (or never beat and claimed it long ago) is handed to
its channel's dead-claim rule: back to pending (e-mail with the same Message-ID, gateway calls
with their idempotency key, webhooks with their event id) or ``uncertain`` (SMS: an admin
decides). States and their labels: ``domain/outbox_states.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.domain.outbox_states import MARKABLE_SENT, RETRYABLE, label


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
    provider_answer: dict[str, Any] | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """Admin view: no full mobile, no full e-mail address."""
        return {
            "id": self.id,
            "kind": self.kind,
            "change_id": self.change_id,
            "to": self.recipient_masked,
            "subject": self.subject,
            "text": self.payload.get("text", ""),
            "status": self.status,
            "status_label": label(self.status),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "provider_answer": self.provider_answer,
            "next_attempt_at": self.next_attempt_at.isoformat()
            if self.status == "pending"
            else None,
            "can_retry": self.status in RETRYABLE,
            "can_mark_sent": self.status in MARKABLE_SENT,
            "created_at": self.created_at.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


@dataclass
class Claim:
    id: int
    kind: str
    claimed_by: str | None
    claimed_at: datetime | None
    beat_at: datetime | None


class OutboxRepo:
    def __init__(self, conn: Connection, cipher: DataCipher) -> None:
        self.conn, self.cipher = conn, cipher

    def add(
        self,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        change_id: int | None = None,
        recipient_masked: str = "",
        subject: str = "",
    ) -> int:
        return self.conn.execute(
            insert(t.outbox).values(
                kind=kind,
                change_id=change_id,
                recipient_masked=recipient_masked,
                subject=subject,
                payload_enc=self.cipher.encrypt_json(payload),
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        ).inserted_primary_key[0]

    def _to(self, r) -> OutboxItem:
        return OutboxItem(
            r.id,
            r.kind,
            r.change_id,
            r.recipient_masked,
            r.subject,
            self.cipher.decrypt_json(r.payload_enc),
            r.status,
            r.attempts,
            r.next_attempt_at,
            r.last_error,
            r.created_at,
            r.done_at,
            r.provider_answer,
            r.claimed_by,
            r.claimed_at,
        )

    def get(self, item_id: int) -> OutboxItem | None:
        row = self.conn.execute(select(t.outbox).where(t.outbox.c.id == item_id)).first()
        return self._to(row) if row else None

    def due_ids(self, now: datetime, limit: int = 100) -> list[int]:
        c = t.outbox.c
        q = (
            select(c.id)
            .where(c.status == "pending", c.next_attempt_at <= now)
            .order_by(c.next_attempt_at, c.id)
            .limit(limit)
        )
        return [r[0] for r in self.conn.execute(q)]

    def claim(self, item_id: int, worker: str, now: datetime) -> bool:
        c = t.outbox.c
        res = self.conn.execute(
            update(t.outbox)
            .where(
                c.id == item_id,
                c.status == "pending",
                c.next_attempt_at <= now,
            )
            .values(status="sending", claimed_at=now, claimed_by=worker, attempts=c.attempts + 1)
        )
        return res.rowcount == 1

    def _finish(self, item_id: int, worker: str | None, **values: Any) -> bool:
        c = t.outbox.c
        cond = [c.id == item_id, c.status == "sending"]
        if worker is not None:
            cond.append(c.claimed_by == worker)
        return self.conn.execute(update(t.outbox).where(*cond).values(**values)).rowcount == 1

    def mark_sent(
        self,
        item_id: int,
        now: datetime,
        answer: dict[str, Any] | None = None,
        *,
        worker: str | None = None,
    ) -> bool:
        return self._finish(
            item_id, worker, status="sent", done_at=now, last_error=None, provider_answer=answer
        )

    def mark_kept(self, item_id: int, now: datetime, *, worker: str | None = None) -> bool:
        return self._finish(
            item_id, worker, status="kept", done_at=now, last_error=None, provider_answer=None
        )

    def mark_retry(
        self,
        item_id: int,
        error: str,
        next_at: datetime,
        answer: dict[str, Any] | None = None,
        *,
        worker: str | None = None,
    ) -> bool:
        return self._finish(
            item_id,
            worker,
            status="pending",
            next_attempt_at=next_at,
            last_error=error[:2000],
            claimed_at=None,
            provider_answer=answer,
        )

    def mark_failed(
        self,
        item_id: int,
        error: str,
        now: datetime,
        answer: dict[str, Any] | None = None,
        *,
        worker: str | None = None,
    ) -> bool:
        return self._finish(
            item_id,
            worker,
            status="failed",
            last_error=error[:2000],
            done_at=now,
            provider_answer=answer,
        )

    # -- dead claims --------------------------------------------------------------------------

    def heartbeat(
        self, worker: str, host: str, pid: int, started_at: datetime, now: datetime
    ) -> None:
        h = t.worker_heartbeats
        if (
            self.conn.execute(update(h).where(h.c.worker_id == worker).values(beat_at=now)).rowcount
            == 0
        ):
            self.conn.execute(
                insert(h).values(
                    worker_id=worker, host=host[:64], pid=pid, started_at=started_at, beat_at=now
                )
            )

    def forget_workers(self, before: datetime) -> None:
        """Heartbeats of workers silent since ``before`` that hold no claim any more."""
        h, c = t.worker_heartbeats, t.outbox.c
        held = select(c.claimed_by).where(c.status == "sending", c.claimed_by.is_not(None))
        self.conn.execute(h.delete().where(h.c.beat_at < before, h.c.worker_id.not_in(held)))

    def claims(self) -> list[Claim]:
        """Every row now ``sending``, with its claimant's last heartbeat (None: never beat)."""
        c, h = t.outbox.c, t.worker_heartbeats
        q = (
            select(c.id, c.kind, c.claimed_by, c.claimed_at, h.c.beat_at)
            .select_from(t.outbox.outerjoin(h, h.c.worker_id == c.claimed_by))
            .where(c.status == "sending")
        )
        return [Claim(*r) for r in self.conn.execute(q)]

    def release(
        self, item_id: int, claimant: str | None, status: str, error: str, now: datetime
    ) -> bool:
        """Take a dead worker's claim: ``pending`` (deliver again) or ``uncertain`` (admin decides)."""
        c = t.outbox.c
        cond = [
            c.id == item_id,
            c.status == "sending",
            c.claimed_by == claimant if claimant is not None else c.claimed_by.is_(None),
        ]
        values: dict[str, Any] = {"status": status, "last_error": error[:2000], "claimed_at": None}
        if status == "pending":
            values["next_attempt_at"] = now
        else:
            values["done_at"] = now
        return self.conn.execute(update(t.outbox).where(*cond).values(**values)).rowcount == 1

    def reopen_uncertain(self, item_id: int, worker: str) -> bool:
        """A worker thought dead finished after all: its row goes back to it to record the outcome."""
        c = t.outbox.c
        return (
            self.conn.execute(
                update(t.outbox)
                .where(c.id == item_id, c.status == "uncertain")
                .values(status="sending", claimed_by=worker, done_at=None)
            ).rowcount
            == 1
        )

    # -- admin actions ------------------------------------------------------------------------

    def admin_retry(self, item_id: int, now: datetime) -> bool:
        c = t.outbox.c
        return (
            self.conn.execute(
                update(t.outbox)
                .where(c.id == item_id, c.status.in_(sorted(RETRYABLE)))
                .values(
                    status="pending", next_attempt_at=now, attempts=0, done_at=None, claimed_at=None
                )
            ).rowcount
            == 1
        )

    def admin_mark_sent(self, item_id: int, now: datetime, note: str) -> bool:
        c = t.outbox.c
        row = self.get(item_id)
        if row is None or row.status not in MARKABLE_SENT:
            return False
        answer = dict(row.provider_answer or {})
        answer["resolved"] = note
        return (
            self.conn.execute(
                update(t.outbox)
                .where(c.id == item_id, c.status.in_(sorted(MARKABLE_SENT)))
                .values(status="sent", done_at=now, provider_answer=answer, last_error=None)
            ).rowcount
            == 1
        )

    # -- reading ------------------------------------------------------------------------------

    def list(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        change_id: int | None = None,
        limit: int = 200,
    ) -> list[OutboxItem]:
        q = select(t.outbox).order_by(t.outbox.c.id.desc()).limit(limit)
        if kind:
            q = q.where(t.outbox.c.kind == kind)
        if status:
            q = q.where(t.outbox.c.status == status)
        if change_id is not None:
            q = q.where(t.outbox.c.change_id == change_id)
        return [self._to(r) for r in self.conn.execute(q)]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(t.outbox.c.status, func.count()).group_by(t.outbox.c.status)
        )
        return {r[0]: r[1] for r in rows}
