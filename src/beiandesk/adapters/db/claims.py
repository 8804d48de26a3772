"""Reviewer claims: one row per order, written in the action's own transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, insert, select, update

from beiandesk.adapters.db import tables as t
from beiandesk.domain.claims import Claim


def _to(r) -> Claim:  # noqa: ANN001
    return Claim(r.change_id, r.account_id, r.username, r.claimed_at, r.active_at)


class ClaimRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, change_id: int) -> Claim | None:
        row = self.conn.execute(select(t.claims).where(t.claims.c.change_id == change_id)).first()
        return _to(row) if row else None

    def of(self, change_ids: Iterable[int]) -> dict[int, Claim]:
        ids = list(change_ids)
        if not ids:
            return {}
        return {
            r.change_id: _to(r)
            for r in self.conn.execute(select(t.claims).where(t.claims.c.change_id.in_(ids)))
        }

    def put(self, claim: Claim) -> None:
        """Write the claim; the caller holds the order's row lock (``for_update``), so two
        reviewers claiming at once are serialised and the second sees the first's claim."""
        values = dict(
            account_id=claim.account_id,
            username=claim.username,
            claimed_at=claim.claimed_at,
            active_at=claim.active_at,
        )
        done = self.conn.execute(
            update(t.claims).where(t.claims.c.change_id == claim.change_id).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(t.claims).values(change_id=claim.change_id, **values))

    def drop(self, change_id: int) -> None:
        self.conn.execute(delete(t.claims).where(t.claims.c.change_id == change_id))
