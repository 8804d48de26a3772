"""Read-only queries for the operator's reports (SLA figures)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from beiandesk.adapters.db import tables as t
from beiandesk.domain.sla import END_KINDS, START_KINDS, TimelineMark


class ReportRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def review_marks(self, since: datetime) -> list[TimelineMark]:
        """Submissions and first-review decisions since ``since`` (one indexed query)."""
        e = t.events
        q = (
            select(e.c.change_id, e.c.at, e.c.kind, e.c.actor)
            .where(e.c.at >= since, e.c.kind.in_(sorted(START_KINDS | END_KINDS)))
            .order_by(e.c.at, e.c.id)
        )
        return [TimelineMark(r.change_id, r.at, r.kind, r.actor) for r in self.conn.execute(q)]

    def due_dates(self, change_ids: list[int]) -> dict[int, datetime]:
        if not change_ids:
            return {}
        c = t.change_orders
        rows = self.conn.execute(
            select(c.c.id, c.c.due_at).where(c.c.id.in_(change_ids), c.c.due_at.is_not(None))
        )
        return {r.id: r.due_at for r in rows}
