"""Webhook subscriptions, their delivery log, and the fan-out of timeline events to the outbox.

The fan-out runs inside ``ChangeRepo.save``, in the transaction that writes the events — like a
trigger — so an event and its webhook deliveries are committed together or not at all, whichever
use case recorded the event. What is sent is the domain's (``domain.webhooks.body``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update

from beiandesk.adapters.crypto import DataCipher
from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.direct import DirectQuery
from beiandesk.domain import webhooks as rules
from beiandesk.domain.model import Event

#: The outbox ``kind`` of a webhook delivery.
OUTBOX_KIND = "webhook"


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    events: list[str]
    created_at: datetime
    created_by: str
    secret: str = ""

    def public(self) -> dict[str, Any]:
        """Never the secret."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


class WebhookRepo:
    def __init__(self, conn: Connection, cipher: DataCipher) -> None:
        self.conn, self.cipher = conn, cipher

    def _to(self, r: Any, with_secret: bool = False) -> Webhook:
        return Webhook(
            r.id,
            r.url,
            list(r.events or []),
            r.created_at,
            r.created_by,
            (self.cipher.decrypt(r.secret_enc) or "") if with_secret else "",
        )

    def add(
        self, url: str, secret: str, events: Sequence[str], actor: str, now: datetime
    ) -> Webhook:
        wid = self.conn.execute(
            insert(t.webhooks).values(
                url=url,
                secret_enc=self.cipher.encrypt(secret),
                events=list(events),
                created_at=now,
                created_by=actor,
            )
        ).inserted_primary_key[0]
        return Webhook(wid, url, list(events), now, actor)

    def list(self) -> list[Webhook]:
        rows = self.conn.execute(
            select(t.webhooks).where(t.webhooks.c.deleted_at.is_(None)).order_by(t.webhooks.c.id)
        )
        return [self._to(r) for r in rows]

    def get(self, webhook_id: int, with_secret: bool = False) -> Webhook | None:
        row = self.conn.execute(
            select(t.webhooks).where(
                t.webhooks.c.id == webhook_id, t.webhooks.c.deleted_at.is_(None)
            )
        ).first()
        return self._to(row, with_secret) if row else None

    def delete(self, webhook_id: int, now: datetime) -> bool:
        """Soft: the delivery log stays readable for the audit; nothing more is sent."""
        res = self.conn.execute(
            update(t.webhooks)
            .where(t.webhooks.c.id == webhook_id, t.webhooks.c.deleted_at.is_(None))
            .values(deleted_at=now)
        )
        return res.rowcount == 1

    def add_delivery(
        self,
        *,
        webhook_id: int,
        outbox_id: int,
        event_id: str,
        kind: str,
        change_id: int | None,
        attempt: int,
        status_code: int | None,
        ok: bool,
        error: str | None,
        duration_ms: int,
        at: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.webhook_deliveries).values(
                webhook_id=webhook_id,
                outbox_id=outbox_id,
                event_id=event_id,
                kind=kind,
                change_id=change_id,
                attempt=attempt,
                status_code=status_code,
                ok=ok,
                error=(error or None) and error[:1000],
                duration_ms=duration_ms,
                at=at,
            )
        )

    def deliveries(self, webhook_id: int, limit: int = 200) -> list[dict[str, Any]]:
        c = t.webhook_deliveries.c
        rows = self.conn.execute(
            select(t.webhook_deliveries)
            .where(c.webhook_id == webhook_id)
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [
            {
                "id": r.id,
                "event_id": r.event_id,
                "kind": r.kind,
                "change_id": r.change_id,
                "outbox_id": r.outbox_id,
                "attempt": r.attempt,
                "status_code": r.status_code,
                "ok": r.ok,
                "error": r.error,
                "duration_ms": r.duration_ms,
                "at": r.at.isoformat(),
            }
            for r in rows
        ]


#: Run by every save that records events: prebuilt, on the driver's cursor (``direct.py``).
_LIVE = DirectQuery(
    select(t.webhooks.c.id, t.webhooks.c.events, t.webhooks.c.url).where(
        t.webhooks.c.deleted_at.is_(None)
    )
)


def subscriptions(conn: Connection) -> list[tuple[int, list[str], str]]:
    """(id, events, url) of every live webhook: one small query per save that records events."""
    return [(r.id, list(r.events or []), r.url) for r in _LIVE.all(conn, {})]


def fan_out(
    conn: Connection,
    cipher: DataCipher,
    change_id: int,
    inserted: Sequence[tuple[int, Event]],
    subs: Sequence[tuple[int, list[str], str]],
) -> list[int]:
    """Queue one outbox row per (event, subscribed webhook); the outbox ids."""
    from beiandesk.adapters.db.outbox import OutboxRepo

    outbox = OutboxRepo(conn, cipher)
    ids = []
    for event_db_id, ev in inserted:
        for webhook_id, events, url in subs:
            if not rules.subscribed(events, ev.kind):
                continue
            body = rules.body(event_db_id, ev.kind, change_id, ev.state, ev.at)
            ids.append(
                outbox.add(
                    OUTBOX_KIND,
                    {
                        "webhook_id": webhook_id,
                        "event_id": rules.event_id(event_db_id),
                        "kind": ev.kind,
                        "body": body.decode("utf-8"),
                    },
                    ev.at,
                    change_id=change_id,
                    recipient_masked=(urlsplit(url).hostname or "")[:254],
                    subject=f"网络钩子 #{webhook_id}：{ev.kind}",
                )
            )
    return ids
