"""The operator's view: the notification outbox and the state of the background jobs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.entrypoints.web import render
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep
from beiandesk.services import review

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

KINDS = (("", "全部类型"), ("email", "邮件"), ("sms", "短信"), ("gateway_submit", "提交管局"),
         ("gateway_resend", "重新提交管局"))
STATUSES = (("", "全部状态"), ("pending", "待发送"), ("sending", "发送中"), ("sent", "已发送"), ("failed", "失败"))


@router.get("/admin")
def outbox(request: Request, d: DepsDep, user: AdminDep, kind: str = "", status: str = "") -> Response:
    kind = kind if kind in dict(KINDS) else ""
    status = status if status in dict(STATUSES) else ""
    data = review.outbox(d, user, kind or None, status or None)
    app = request.app.state.app
    jobs = {"in_process": app.jobs is not None and d.settings.worker_in_process,
            "threads": d.settings.worker_threads, "poll_s": d.settings.poll_interval_s,
            "gateway": d.settings.gateway_url or "", "smtp": bool(d.settings.smtp_url)}
    return render.render(request, "admin.html", title="通知与任务", nav="admin", items=data["items"],
                         counts=data["counts"], kind_filter=kind, status_filter=status, kinds=KINDS, statuses=STATUSES,
                         kind_labels=dict(KINDS), status_labels=dict(STATUSES), jobs=jobs)
