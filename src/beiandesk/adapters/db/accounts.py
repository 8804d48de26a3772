"""Account administration queries (issue 9): list with linked subjects, update, admins left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from beiandesk.adapters.db import tables as t

_FIELDS = (
    "id",
    "username",
    "role",
    "display_name",
    "email",
    "disabled",
    "password_change_required",
    "created_at",
)


class AccountAdminRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _rows(self, where: Any = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        q = select(*(t.accounts.c[f] for f in _FIELDS)).order_by(t.accounts.c.id)
        if where is not None:
            q = q.where(where)
        if limit is not None:
            q = q.limit(limit)
        found = [dict(r._mapping) for r in self.conn.execute(q)]
        if not found:
            return []
        ids = [a["id"] for a in found]
        links: dict[int, list[str]] = {}
        for r in self.conn.execute(
            select(t.subjects.c.account_id, t.subjects.c.filing_number)
            .where(t.subjects.c.account_id.in_(ids))
            .order_by(t.subjects.c.filing_number)
        ):
            links.setdefault(r.account_id, []).append(r.filing_number)
        for a in found:
            a["disabled"] = bool(a["disabled"])
            a["password_change_required"] = bool(a["password_change_required"])
            a["subjects"] = links.get(a["id"], [])
        return found

    def list(self) -> list[dict[str, Any]]:
        return self._rows()

    def get(self, account_id: int) -> dict[str, Any] | None:
        rows = self._rows(t.accounts.c.id == account_id)
        return rows[0] if rows else None

    def by_username(self, username: str) -> dict[str, Any] | None:
        rows = self._rows(t.accounts.c.username == username)
        return rows[0] if rows else None

    def name_taken(self, username: str) -> str | None:
        """The existing user name equal to ``username`` ignoring case, if any."""
        return self.conn.execute(
            select(t.accounts.c.username)
            .where(func.lower(t.accounts.c.username) == username.lower())
            .limit(1)
        ).scalar_one_or_none()

    def password_hash(self, account_id: int) -> str | None:
        return self.conn.execute(
            select(t.accounts.c.password_hash).where(t.accounts.c.id == account_id)
        ).scalar_one_or_none()

    def create(
        self,
        *,
        username: str,
        password_hash: str,
        role: str,
        display_name: str,
        email: str,
        password_change_required: bool,
        now: datetime,
    ) -> int:
        res = self.conn.execute(
            insert(t.accounts).values(
                username=username,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                email=email,
                enterprise_verified=False,
                disabled=False,
                password_change_required=password_change_required,
                created_at=now,
            )
        )
        return int(res.inserted_primary_key[0])

    def update(self, account_id: int, **values: Any) -> None:
        if values:
            self.conn.execute(
                update(t.accounts).where(t.accounts.c.id == account_id).values(**values)
            )

    def active_admins(self, *, lock: bool = False) -> list[int]:
        q = select(t.accounts.c.id).where(
            t.accounts.c.role == "admin", t.accounts.c.disabled.is_(False)
        )
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return [r[0] for r in self.conn.execute(q)]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.accounts)).scalar_one())

    def subject_owner(self, filing_number: str) -> tuple[int, int | None, str | None] | None:
        """``(subject id, owning account id, owner's role)`` of a subject, by filing number."""
        row = self.conn.execute(
            select(t.subjects.c.id, t.subjects.c.account_id, t.accounts.c.role)
            .select_from(
                t.subjects.outerjoin(t.accounts, t.accounts.c.id == t.subjects.c.account_id)
            )
            .where(t.subjects.c.filing_number == filing_number)
        ).first()
        return (row[0], row[1], row[2]) if row else None

    def unlink_subject(self, filing_number: str, account_id: int) -> bool:
        """Leave the subject without an account (a later ``link`` gives it one); False when it
        has an open change order (its applicant is working on it)."""
        sid = self.conn.execute(
            select(t.subjects.c.id).where(
                t.subjects.c.filing_number == filing_number, t.subjects.c.account_id == account_id
            )
        ).scalar()
        if sid is None:
            return True
        open_order = self.conn.execute(
            select(t.change_orders.c.id)
            .where(
                t.change_orders.c.subject_id == sid, t.change_orders.c.open_website_id.is_not(None)
            )
            .limit(1)
        ).first()
        if open_order is not None:
            return False
        self.conn.execute(update(t.subjects).where(t.subjects.c.id == sid).values(account_id=None))
        return True

    def link_subject(self, subject_id: int, account_id: int) -> None:
        self.conn.execute(
            update(t.subjects).where(t.subjects.c.id == subject_id).values(account_id=account_id)
        )
