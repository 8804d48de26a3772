"""The operator's view: the notification outbox and the state of the background jobs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.domain.outbox_states import LABELS, STATUSES as STATUS_VALUES
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep, call, form
from beiandesk.services import outbox_admin, review

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

KINDS = (
    ("", "全部类型"),
    ("email", "邮件"),
    ("sms", "短信"),
    ("webhook", "网络钩子"),
    ("gateway_submit", "提交管局"),
    ("gateway_resend", "重新提交管局"),
)
#: Labels come from domain/outbox_states.py, the one place that maps stored states to words.
STATUSES = (("", "全部状态"), *((s, LABELS[s]) for s in STATUS_VALUES))


@router.get("/admin")
def outbox(
    request: Request, d: DepsDep, user: AdminDep, kind: str = "", status: str = ""
) -> Response:
    kind = kind if kind in dict(KINDS) else ""
    status = status if status in dict(STATUSES) else ""
    data = review.outbox(d, user, kind or None, status or None)
    app = request.app.state.app
    jobs = {
        "in_process": app.jobs is not None and d.settings.worker_in_process,
        "threads": d.settings.worker_threads,
        "poll_s": d.settings.poll_interval_s,
        "gateway": d.settings.gateway_url or "",
        "smtp": bool(d.settings.smtp_url),
    }
    return render.render(
        request,
        "admin.html",
        title="通知与任务",
        nav="admin",
        items=data["items"],
        counts=data["counts"],
        kind_filter=kind,
        status_filter=status,
        kinds=KINDS,
        statuses=STATUSES,
        kind_labels=dict(KINDS),
        status_labels=dict(STATUSES),
        jobs=jobs,
        channels=data["channels"],
    )


async def _resolve(request: Request, fn, d, user, item_id: int, done: str) -> Response:  # noqa: ANN001
    await form(request)
    try:
        await call(fn, d, user, item_id)
    except DomainError as exc:
        if exc.code in ("forbidden",):
            raise
        session.flash(request, exc.message, "error")
    else:
        session.flash(request, done)
    return render.redirect(request, "/admin")  # the page top, where the flash message is in view


@router.post("/admin/outbox/{item_id}/retry")
async def retry(request: Request, d: DepsDep, user: AdminDep, item_id: int) -> Response:
    return await _resolve(
        request, outbox_admin.retry, d, user, item_id, f"通知 #{item_id} 已重新排队发送。"
    )


@router.post("/admin/outbox/{item_id}/mark-sent")
async def mark_sent(request: Request, d: DepsDep, user: AdminDep, item_id: int) -> Response:
    return await _resolve(
        request, outbox_admin.mark_sent, d, user, item_id, f"通知 #{item_id} 已标记为已发送。"
    )
