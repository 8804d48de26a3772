"""The authority desk page (管局工作台): hand-over list, each authority stage, forms for each act."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, StaffDep, call, form
from beiandesk.services import console, desk

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

RETURN_CHOICES = (
    ("sms_timeout", "未在 24 小时内完成短信核验"),
    ("sms_failed", "短信核验码连续输错"),
    ("other", "其他原因（请填写）"),
)


@router.get("/desk")
def desk_page(request: Request, d: DepsDep, user: StaffDep) -> Response:
    now = d.clock.now()
    orders = desk.orders(d, user)
    numbers = console.filing_numbers(d, user, orders)
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in desk.STAGES}
    for o in orders:
        item = {
            **views.change(o),
            **desk.view(o, now),
            "filing_number": numbers.get(o.website_id, ""),
        }
        groups[item["stage"]].append(item)
    return render.render(
        request,
        "desk.html",
        title="管局工作台",
        nav="desk",
        groups=groups,
        stages=desk.STAGES,
        return_choices=RETURN_CHOICES,
        now=now,
        gateway=d.gateway is not None,
    )


@router.get("/desk/export.csv")
def desk_export(request: Request, d: DepsDep, user: StaffDep, unmasked: bool = False) -> Response:
    text = desk.handover_csv(d, user, unmasked)
    return render.finish(
        request,
        Response(
            text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="authority-handover.csv"',
                "Cache-Control": "no-store",
            },
        ),
    )


async def _act(
    request: Request, change_id: int, fn: Callable[..., Any], args: tuple[Any, ...], done: str
) -> Response:
    try:
        await call(fn, *args)
    except DomainError as exc:
        if exc.code in ("not_found", "forbidden"):
            raise
        session.flash(
            request,
            f"变更单 #{change_id}：{exc.message}",
            "error",
            [p.message for p in exc.problems],
        )
    else:
        session.flash(request, f"变更单 #{change_id}：{done}")
    return render.redirect(request, f"/desk#order-{change_id}")


@router.post("/desk/{change_id}/submitted")
async def submitted(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    ref = str(data.get("ref") or "").strip()
    return await _act(
        request,
        change_id,
        desk.submitted,
        (d, user, change_id, ref),
        "已登记为已提交管局，24 小时短信核验期开始；网站负责人将收到通知。",
    )


@router.post("/desk/{change_id}/sms-passed")
async def sms_passed(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    await form(request)
    return await _act(
        request,
        change_id,
        desk.sms_passed,
        (d, user, change_id),
        "已登记短信核验通过，管局审核中。",
    )


@router.post("/desk/{change_id}/returned")
async def returned(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    choice = str(data.get("reason") or "")
    reason = str(data.get("other_reason") or "").strip() if choice == "other" else choice
    return await _act(
        request,
        change_id,
        desk.returned,
        (d, user, change_id, reason),
        "已登记为管局退回；可重新提交管局，或在初审页驳回给申请人修改。",
    )


@router.post("/desk/{change_id}/decision")
async def decision(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    choice = str(data.get("decision") or "")
    reasons = [line.strip() for line in str(data.get("reasons") or "").splitlines() if line.strip()]
    done = (
        "已登记管局通过，网站信息已更新。"
        if choice == "approve"
        else "已登记管局驳回，申请人将收到原因。"
    )
    return await _act(
        request, change_id, desk.decision, (d, user, change_id, choice, reasons), done
    )
