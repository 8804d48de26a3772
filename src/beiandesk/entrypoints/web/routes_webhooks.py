"""The webhooks page (网络钩子, admins): create, list, delete, and each webhook's delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain import webhooks as rules
from beiandesk.domain.errors import DomainError
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep, call, form
from beiandesk.services import webhooks

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

#: The kinds most integrators want, offered as ticks; the rest are typed in (or ``*``).
COMMON_KINDS = (
    ("submitted", "已提交初审"),
    ("provider_approved", "初审通过"),
    ("provider_rejected", "初审驳回"),
    ("authority_submitted", "已提交管局"),
    ("authority_review", "管局审核中"),
    ("authority_returned", "管局退回"),
    ("approved", "管局通过"),
    ("authority_rejected", "管局驳回"),
    ("withdrawn", "已撤回"),
)


def _page(
    request: Request,
    d: DepsDep,
    user: AdminDep,
    selected: int | None = None,
    status: int = 200,
    values: dict | None = None,
) -> Response:
    hooks = webhooks.list_all(d, user)
    log = webhooks.deliveries(d, user, selected) if selected else []
    return render.render(
        request,
        "webhooks.html",
        status=status,
        title="网络钩子",
        nav="webhooks",
        hooks=hooks,
        selected=selected,
        log=log,
        kinds=COMMON_KINDS,
        all_kinds=sorted(rules.EVENT_KINDS),
        values=values or {},
    )


@router.get("/admin/webhooks")
def webhooks_page(request: Request, d: DepsDep, user: AdminDep) -> Response:
    return _page(request, d, user)


@router.get("/admin/webhooks/{webhook_id}")
def webhook_log(request: Request, d: DepsDep, user: AdminDep, webhook_id: int) -> Response:
    webhooks.get(d, user, webhook_id)  # 404 when gone
    return _page(request, d, user, selected=webhook_id)


@router.post("/admin/webhooks")
async def create(request: Request, d: DepsDep, user: AdminDep) -> Response:
    data = await form(request)
    url = str(data.get("url") or "").strip()
    secret = str(data.get("secret") or "")
    events = [str(e) for e in data.getlist("events")]
    events += [
        e.strip()
        for e in str(data.get("more_events") or "").replace("，", ",").split(",")
        if e.strip()
    ]
    try:
        hook = await call(webhooks.create, d, user, url, secret, events)
    except DomainError as exc:
        if exc.code in ("forbidden",):
            raise
        session.flash(request, exc.message, "error")
        return render.redirect(request, "/admin/webhooks")
    session.flash(
        request, f"已添加网络钩子 #{hook['id']}：订阅的事件将签名后 POST 到 {hook['url']}。"
    )
    return render.redirect(request, f"/admin/webhooks/{hook['id']}")


@router.post("/admin/webhooks/{webhook_id}/delete")
async def delete(request: Request, d: DepsDep, user: AdminDep, webhook_id: int) -> Response:
    await form(request)
    await call(webhooks.delete, d, user, webhook_id)
    session.flash(request, f"已删除网络钩子 #{webhook_id}，不再投递新事件。")
    return render.redirect(request, "/admin/webhooks")
