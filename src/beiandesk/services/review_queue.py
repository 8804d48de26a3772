"""The reviewer's queue with tabs, search and filters, and who holds each order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beiandesk.domain.errors import Forbidden
from beiandesk.domain.model import Account, ChangeOrder
from beiandesk.domain.queue_filter import TABS, QueueFilter
from beiandesk.domain.states import ChangeState
from beiandesk.services import claims
from beiandesk.services.deps import Deps


def _order_key(now: datetime):  # noqa: ANN202
    """Call-due orders first, then the earliest deadline (SMS deadline in the SMS tab)."""

    def key(o: ChangeOrder) -> tuple:
        call_due = (
            o.state == ChangeState.provider_review
            and o.next_call_at is not None
            and o.next_call_at <= now
        )
        deadline = (
            o.due_at if o.state == ChangeState.provider_review else (o.sms_deadline or o.due_at)
        )
        return (not call_due, deadline is None, deadline or now, o.id or 0)

    return key


def search(
    d: Deps, actor: Account, flt: QueueFilter, tab: str = "review", limit: int = 200
) -> list[dict[str, Any]]:
    """Rows ``{order, filing_number, subject, claim}`` of the tab (or of ``flt.state``'s tab)."""
    if not actor.is_staff:
        raise Forbidden("只有审核专员和管理员可以查看审核队列。")
    states = {flt.state} if flt.state is not None else set(TABS.get(tab, TABS["review"]))
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        orders = []
        if ChangeState.provider_review in states:
            orders += uow.changes.list(
                states={ChangeState.provider_review},
                order_by_due=True,
                limit=5000,
                review_pending_only=True,
            )
        rest = states - {ChangeState.provider_review}
        if rest:
            orders += uow.changes.list(states=rest, order_by_due=True, limit=5000)
        subject_ids = {o.subject_id for o in orders}
        sites = (
            {
                w.id: w.filing_number
                for w in uow.websites.list(account_id=None, subject_ids=subject_ids)
            }
            if subject_ids
            else {}
        )
        subjects = uow.subjects.by_ids(subject_ids)
    picked = [
        o
        for o in orders
        if flt.matches(o, sites.get(o.website_id, ""), subjects.get(o.subject_id), now)
    ]
    picked.sort(key=_order_key(now))
    picked = picked[:limit]
    held = claims.holders(d, [o.id for o in picked])
    return [
        {
            "order": o,
            "filing_number": sites.get(o.website_id, ""),
            "subject": subjects.get(o.subject_id),
            "claim": held.get(o.id),
        }
        for o in picked
    ]


def counts(d: Deps, actor: Account) -> dict[str, int]:
    """How many orders each tab holds (the tab labels show them)."""
    with d.uow(readonly=True) as uow:
        by_state = uow.changes.count_by_state()
        pending = len(
            uow.changes.list(
                states={ChangeState.provider_review}, review_pending_only=True, limit=5000
            )
        )
    return {
        "review": pending + by_state.get(str(ChangeState.authority_returned), 0),
        "sms": by_state.get(str(ChangeState.authority_sms), 0),
        "authority": by_state.get(str(ChangeState.authority_review), 0),
    }
