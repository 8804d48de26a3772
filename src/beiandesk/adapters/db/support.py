"""Small repositories: authorization codes and the domain-facts cache."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from beiandesk.adapters.db import tables as t
from beiandesk.domain.model import DomainFacts


class DomainFactsCache:
    """Look-up answers by key with a TTL: registry facts by domain, probe results by URL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_json(self, key: str, now: datetime, ttl: timedelta) -> Any | None:
        row = self.conn.execute(
            select(t.domain_facts_cache).where(t.domain_facts_cache.c.domain == key)
        ).first()
        if row is None or row.fetched_at < now - ttl:
            return None
        return row.facts

    def put_json(self, key: str, value: Any, now: datetime) -> None:
        self.conn.execute(delete(t.domain_facts_cache).where(t.domain_facts_cache.c.domain == key))
        self.conn.execute(
            insert(t.domain_facts_cache).values(domain=key, facts=value, fetched_at=now)
        )

    def get(self, domain: str, now: datetime, ttl: timedelta) -> DomainFacts | None:
        facts = self.get_json(domain, now, ttl)
        return None if facts is None else DomainFacts.from_dict({**facts, "source": "cache"})

    def put(self, domain: str, facts: DomainFacts, now: datetime) -> None:
        self.put_json(domain, facts.to_dict(), now)


class AuthCodeRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        code: str,
        account_id: int,
        instance_id: str,
        public_ip: str,
        domain: str | None,
        now: datetime,
    ) -> int:
        return self.conn.execute(
            insert(t.auth_codes).values(
                code=code,
                account_id=account_id,
                instance_id=instance_id,
                public_ip=public_ip,
                domain=domain,
                created_at=now,
            )
        ).inserted_primary_key[0]

    def active_for_instance(self, instance_id: str) -> int:
        return self.conn.execute(
            select(func.count())
            .select_from(t.auth_codes)
            .where(t.auth_codes.c.instance_id == instance_id, t.auth_codes.c.revoked_at.is_(None))
        ).scalar_one()

    def list(self, account_id: int | None = None) -> list[dict[str, Any]]:
        q = select(t.auth_codes).order_by(t.auth_codes.c.id)
        if account_id is not None:
            q = q.where(t.auth_codes.c.account_id == account_id)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def get(self, code_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.auth_codes).where(t.auth_codes.c.id == code_id)).first()
        return dict(row._mapping) if row else None

    def by_code(self, code: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(t.auth_codes).where(t.auth_codes.c.code == code)).first()
        return dict(row._mapping) if row else None

    def revoke(self, code_id: int, now: datetime) -> None:
        self.conn.execute(
            update(t.auth_codes).where(t.auth_codes.c.id == code_id).values(revoked_at=now)
        )
