"""The audit log's repository: one row per administrative act (api.md "Backup, restore, audit")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from beiandesk.adapters.db import tables as t


class AuditRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, at: datetime, actor: str, action: str, target: str, detail: Any) -> int:
        res = self.conn.execute(
            insert(t.audit_log).values(
                at=at, actor=actor[:64], action=action[:64], target=target[:255], detail=detail
            )
        )
        return int(res.inserted_primary_key[0])

    def list(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
    ) -> list[dict[str, Any]]:
        q = select(t.audit_log).order_by(t.audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(t.audit_log.c.id < before_id)
        if action:
            q = q.where(t.audit_log.c.action == action)
        if actor:
            q = q.where(t.audit_log.c.actor == actor)
        if target:
            q = q.where(t.audit_log.c.target == target)
        return [
            {
                "id": r.id,
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "detail": r.detail,
            }
            for r in self.conn.execute(q)
        ]
