"""Sessions (one row per issued token) and failed logins: what every node checks, in the database."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.db.direct import DirectQuery
from beiandesk.adapters.db.records import ACCOUNT_FIELDS, AccountRepo
from beiandesk.domain.model import Account


#: Every authenticated request runs this read: built once, so a request pays neither the
#: statement construction nor its cache-key walk, and it runs on the driver's cursor
#: (``direct.py``: SQLAlchemy's per-statement wrapping was three quarters of the read).
_CHECK = DirectQuery(
    # Only what an ``Account`` and the check need: not the password hash, not ``created_at``
    # (a datetime parsed per request for nothing).
    select(
        *(t.accounts.c[name] for name in ACCOUNT_FIELDS),
        t.sessions.c.account_id,
        t.sessions.c.expires_at,
        t.sessions.c.revoked_at,
    )
    .join(t.accounts, t.accounts.c.id == t.sessions.c.account_id)
    .where(t.sessions.c.jti == bindparam("jti"))
)


class SessionRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, jti: str, account_id: int, now: datetime, expires_at: datetime) -> None:
        self.conn.execute(
            insert(t.sessions).values(
                jti=jti, account_id=account_id, created_at=now, expires_at=expires_at
            )
        )

    def check(self, jti: str) -> tuple[Any, Account] | None:
        """The session and its account, in one primary-key read: ``(row with account_id,
        expires_at, revoked_at; the Account)``, or None."""
        row = _CHECK.first(self.conn, {"jti": jti})
        return (row, AccountRepo._to(row)) if row else None

    def revoke(self, jti: str, now: datetime) -> bool:
        res = self.conn.execute(
            update(t.sessions)
            .where(t.sessions.c.jti == jti, t.sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return res.rowcount > 0

    def revoke_account(
        self, account_id: int, now: datetime, *, except_jti: str | None = None
    ) -> int:
        q = update(t.sessions).where(
            t.sessions.c.account_id == account_id, t.sessions.c.revoked_at.is_(None)
        )
        if except_jti:
            q = q.where(t.sessions.c.jti != except_jti)
        return self.conn.execute(q.values(revoked_at=now)).rowcount

    def purge_expired(self, before: datetime) -> int:
        return self.conn.execute(
            delete(t.sessions).where(t.sessions.c.expires_at < before)
        ).rowcount

    def purge_expired_of(self, account_id: int, before: datetime) -> int:
        """Drop one account's long-expired rows (on its login; uses the account index)."""
        return self.conn.execute(
            delete(t.sessions).where(
                t.sessions.c.account_id == account_id, t.sessions.c.expires_at < before
            )
        ).rowcount

    # -- failed logins (the throttle) ---------------------------------------------------------

    def failures_since(self, username: str, since: datetime) -> list[datetime]:
        q = (
            select(t.login_failures.c.at)
            .where(t.login_failures.c.username == username, t.login_failures.c.at >= since)
            .order_by(t.login_failures.c.at)
        )
        return [r[0] for r in self.conn.execute(q)]

    def add_failure(
        self, username: str, at: datetime, *, forget_before: datetime | None = None
    ) -> None:
        """Count one failed login; ``forget_before`` drops that name's failures too old to matter
        (and, now and then, everyone's: names that never come back would pile up otherwise)."""
        self.conn.execute(insert(t.login_failures).values(username=username[:64], at=at))
        if forget_before is not None:
            self.clear_failures(username[:64], before=forget_before)
            if secrets.randbelow(100) == 0:
                self.conn.execute(
                    delete(t.login_failures).where(t.login_failures.c.at < forget_before)
                )

    def clear_failures(self, username: str, *, before: datetime | None = None) -> None:
        q = delete(t.login_failures).where(t.login_failures.c.username == username)
        if before is not None:
            q = q.where(t.login_failures.c.at < before)
        self.conn.execute(q)

    def count_failures(self) -> int:
        return int(
            self.conn.execute(select(func.count()).select_from(t.login_failures)).scalar_one()
        )
