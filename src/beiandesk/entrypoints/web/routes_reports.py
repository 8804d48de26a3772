"""Admin reports: first-review service levels and the filed websites' upcoming expiries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.entrypoints.web import render
from beiandesk.entrypoints.web.charts import bar_chart
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep
from beiandesk.services import reminders, sla, sweep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

KIND_LABELS = {"domain_expiring": "域名", "resource_expiring": "服务器 / 资源包"}


@router.get("/admin/reports")
def reports(request: Request, d: DepsDep, user: AdminDep) -> Response:
    figures = sla.figures(d, user)
    per_day = figures["per_day"]
    chart = bar_chart(
        [(f"{day.month}/{day.day}", n) for day, n, _ in per_day],
        title="最近 14 天每日完成初审的变更单数",
        unit=" 单",
    )
    upcoming = reminders.upcoming(d, within_days=60)
    sweep_days = sweep.per_day(d, days=14)
    sweep_chart = bar_chart(
        [(f"{day.month}/{day.day}", failing) for day, failing, _ in sweep_days],
        title="最近 14 天每日巡检发现问题的网站数",
        unit=" 个网站",
    )
    return render.render(
        request,
        "reports.html",
        title="运营报表",
        nav="reports",
        f=figures,
        chart=chart,
        upcoming=upcoming,
        kind_labels=KIND_LABELS,
        sweep_chart=sweep_chart,
        latest_sweep=sweep.latest(d, limit=50),
        unfinished_sweep=sweep.unfinished(d),
    )
