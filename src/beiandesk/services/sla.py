"""The SLA report for admins: first-review times, overdue orders, per reviewer, per day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beiandesk.domain import sla
from beiandesk.domain.errors import Forbidden
from beiandesk.domain.model import Account, Role
from beiandesk.domain.states import ChangeState
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import china_today


def figures(d: Deps, actor: Account, days: int = 30) -> dict[str, Any]:
    if actor.role != Role.admin:
        raise Forbidden("只有管理员可以查看服务时效报表。")
    now = d.clock.now()
    since = now - timedelta(days=days)
    with d.uow(readonly=True) as uow:
        # Read from a little earlier so a round that started before the window still has its start.
        marks = uow.reports.review_marks(since - timedelta(days=30))
        waiting = uow.changes.list(
            states={ChangeState.provider_review}, review_pending_only=True, limit=5000
        )
        decided = [r for r in sla.rounds(marks) if r.decided >= since]
        due = uow.reports.due_dates(sorted({r.change_id for r in decided}))
    overdue = sorted(
        (o for o in waiting if o.due_at is not None and o.due_at <= now), key=lambda o: o.due_at
    )
    today = china_today(now)
    chart_days = [today - timedelta(days=i) for i in range(13, -1, -1)]
    return {
        "days": days,
        "decided": len(decided),
        "median_hours": sla.median_hours(decided),
        "late": sum(1 for r in decided if r.change_id in due and r.decided > due[r.change_id]),
        "waiting": len(waiting),
        "overdue": [{"id": o.id, "due_at": o.due_at, "name": o.proposed.name} for o in overdue],
        "reviewers": sla.per_reviewer(decided, due),
        "per_day": sla.per_day(decided, chart_days, china_today),
    }
