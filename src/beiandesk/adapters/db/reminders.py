"""Reminders sent once: an INSERT that does nothing when the same reminder already exists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from beiandesk.adapters.db import tables as t


class ReminderRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def once(self, kind: str, target: str, due_on: date, threshold: int, now: datetime) -> bool:
        """Record the reminder; ``False`` when it was already sent (by us or another worker)."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = (
            dialect.insert(t.reminders_sent)
            .values(
                kind=kind,
                target=target[:255],
                due_on=due_on,
                threshold=threshold,
                sent_at=now,
            )
            .on_conflict_do_nothing(index_elements=["kind", "target", "due_on", "threshold"])
            .returning(t.reminders_sent.c.id)
        )
        # RETURNING, not rowcount: psycopg reports no row count for a skipped conflict insert.
        return self.conn.execute(stmt).first() is not None

    def sent(self, kind: str, target: str, due_on: date) -> set[int]:
        rows = self.conn.execute(
            select(t.reminders_sent.c.threshold).where(
                t.reminders_sent.c.kind == kind,
                t.reminders_sent.c.target == target,
                t.reminders_sent.c.due_on == due_on,
            )
        )
        return {r[0] for r in rows}

    def sent_at(self, kind: str, target: str, due_on: date) -> datetime | None:
        return self.conn.execute(
            select(func.min(t.reminders_sent.c.sent_at)).where(
                t.reminders_sent.c.kind == kind,
                t.reminders_sent.c.target == target,
                t.reminders_sent.c.due_on == due_on,
            )
        ).scalar_one_or_none()

    def recent(self, limit: int = 100) -> list[dict]:
        rows = self.conn.execute(
            select(t.reminders_sent)
            .order_by(t.reminders_sent.c.sent_at.desc(), t.reminders_sent.c.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]

    def count(self) -> int:
        return self.conn.execute(select(func.count()).select_from(t.reminders_sent)).scalar_one()

    def watch(self, website_id: int, items: list[tuple[str, str, date]], now: datetime) -> None:
        """Replace what ``website_id`` depends on with ``items`` (kind, what, expires_on)."""
        w = t.expiry_watch
        self.conn.execute(delete(w).where(w.c.website_id == website_id))
        if items:
            self.conn.execute(
                insert(w),
                [
                    dict(
                        website_id=website_id,
                        kind=k,
                        what=what[:253],
                        expires_on=on,
                        checked_at=now,
                    )
                    for k, what, on in items
                ],
            )

    def upcoming(self, until: date, limit: int = 500) -> list[dict]:
        w, s = t.expiry_watch, t.websites
        q = (
            select(
                w.c.website_id,
                w.c.kind,
                w.c.what,
                w.c.expires_on,
                w.c.checked_at,
                s.c.filing_number,
                s.c.name,
            )
            .join(s, s.c.id == w.c.website_id)
            .where(w.c.expires_on <= until, s.c.status == "open")
            .order_by(w.c.expires_on, s.c.filing_number)
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.conn.execute(q)]
