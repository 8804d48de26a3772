"""The applicant's change: edit (with live checks), review and submit, follow, withdraw."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.domain.identity import ID_TYPE_FOREIGN_PR, ID_TYPE_HMT_PERMIT, ID_TYPE_RESIDENT
from beiandesk.domain.model import Account
from beiandesk.domain.names import content_categories
from beiandesk.domain.problems import Problem, has_errors
from beiandesk.domain.states import EDITABLE
from beiandesk.domain.workdays import FIRST_REVIEW_WORKING_DAYS
from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.web import forms, render, session
from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, UserDep, call, form
from beiandesk.services import changes, console, materials, precheck, records
from beiandesk.services.deps import Deps

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

ID_TYPES = (
    (ID_TYPE_RESIDENT, "居民身份证"),
    (ID_TYPE_HMT_PERMIT, "港澳台居民居住证"),
    (ID_TYPE_FOREIGN_PR, "外国人永久居留身份证"),
)
RESOURCE_KINDS = (
    ("cvm", "云服务器"),
    ("lighthouse", "轻量应用服务器"),
    ("serverless", "云函数资源包"),
    ("cloudbase", "云托管资源包"),
)
BILLINGS = (("prepaid", "包年包月"), ("postpaid", "按量计费"))
#: Where the principals do the SMS check outside demo mode (the MIIT filing system).
MIIT_URL = "https://beian.miit.gov.cn/"


def staff_elsewhere(request: Request, user: Account, change_id: int) -> Response | None:
    """Reviewers work an order from the review page; the applicant's pages are the applicant's."""
    if user.is_staff:
        return render.redirect(request, f"/review/{change_id}")
    return None


def order_context(d: Deps, user: Account, change_id: int) -> dict[str, Any]:
    order = changes.get_change(d, user, change_id)
    site = records.get_website(d, user, order.website_id)
    return {
        "order_obj": order,
        "order": views.change(order),
        "site": views.website(site),
        "editable": order.state in EDITABLE,
        "can_withdraw": console.can_withdraw(order),
    }


@router.get("/changes/{change_id}")
def change_page(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    if (other := staff_elsewhere(request, user, change_id)) is not None:
        return other
    ctx = order_context(d, user, change_id)
    events = [views.event(e) for e in reversed(changes.events(d, user, change_id))]
    return render.render(
        request,
        "change.html",
        title=f"变更单 #{change_id}",
        nav="home",
        events=events,
        miit_url=MIIT_URL,
        **ctx,
    )


def _edit_page(
    request: Request,
    d: Deps,
    user: Account,
    change_id: int,
    values: dict[str, Any] | None,
    problems: list[Problem],
    status: int = 200,
    message: str = "",
) -> Response:
    ctx = order_context(d, user, change_id)
    if not ctx["editable"]:
        session.flash(
            request, f"变更单当前状态为「{ctx['order']['state_label']}」，不能修改。", "error"
        )
        return render.redirect(request, f"/changes/{change_id}")
    subject = records.get_subject(d, user, ctx["order_obj"].subject_id)
    grouped = forms.grouped(problems)
    return render.render(
        request,
        "edit.html",
        status=status,
        title="填写网站信息",
        nav="home",
        step=1,
        values=values or forms.values_from_info(ctx["order"]["proposed"]),
        problems=grouped,
        resource_open=any(k.startswith("resource") for k in grouped),
        slots=forms.SLOTS,
        slot_id=forms.slot_id,
        message=message,
        principal_fixed=console.principal_identity_fixed(subject),
        subject=views.subject(subject),
        categories=list(content_categories()),
        id_types=ID_TYPES,
        resource_kinds=RESOURCE_KINDS,
        billings=BILLINGS,
        **ctx,
    )


@router.get("/changes/{change_id}/edit")
def edit_page(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    if (other := staff_elsewhere(request, user, change_id)) is not None:
        return other
    return _edit_page(
        request, d, user, change_id, None, console.draft_problems(d, user, change_id, {})
    )


@router.post("/changes/{change_id}/edit")
async def edit_save(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    data = await form(request)
    values = forms.values_from_form(data)
    patch, problems = forms.patch_of(values)
    version = str(data.get("version") or "")
    if not problems:
        try:
            await call(
                changes.update_change,
                d,
                user,
                change_id,
                patch,
                int(version) if version.isdigit() else None,
            )
        except DomainError as exc:
            if exc.code not in ("version_conflict", "precondition_required") and not exc.problems:
                raise
            live = await call(console.draft_problems, d, user, change_id, patch)
            seen = {(p.code, p.field) for p in exc.problems}
            problems = exc.problems + [p for p in live if (p.code, p.field) not in seen]
            return await call(
                _edit_page, request, d, user, change_id, values, problems, 422, exc.message
            )
        session.flash(request, "网站信息已保存。下一步：完成负责人核验并上传材料。")
        return render.redirect(request, f"/changes/{change_id}/materials")
    return await call(
        _edit_page,
        request,
        d,
        user,
        change_id,
        values,
        problems,
        422,
        "表单中有内容需要修改，请按字段旁的提示更正。",
    )


@router.post("/changes/{change_id}/check")
async def live_check(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    """The rules on the unsaved form, as the applicant types (htmx swaps each field's slot)."""
    data = await form(request)
    patch, problems = forms.patch_of(forms.values_from_form(data))
    if not problems:
        problems = await call(console.draft_problems, d, user, change_id, patch)
    return render.fragment(
        request,
        "_live.html",
        slots=forms.SLOTS,
        slot_id=forms.slot_id,
        problems=forms.grouped(problems),
        total=problems,
        oob=True,
    )


@router.get("/changes/{change_id}/review")
def review_page(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    if (other := staff_elsewhere(request, user, change_id)) is not None:
        return other
    return _review(request, d, user, change_id)


def _review(
    request: Request,
    d: Deps,
    user: Account,
    change_id: int,
    status: int = 200,
    message: str = "",
    consent_error: bool = False,
    consented: bool = False,
) -> Response:
    ctx = order_context(d, user, change_id)
    if not ctx["editable"]:
        return render.redirect(request, f"/changes/{change_id}")
    problems = precheck.precheck(d, user, change_id)
    return render.render(
        request,
        "review.html",
        status=status,
        title="确认并提交",
        nav="home",
        step=3,
        problems=problems,
        blocked=has_errors(problems),
        message=message,
        consent_error=consent_error,
        consented=consented,
        slots=console.material_slots(d, user, change_id),
        verification=materials.latest_verification(d, user, change_id),
        **ctx,
    )


@router.post("/changes/{change_id}/submit")
async def submit(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    data = await form(request)
    consent = data.get("consent") == "yes"
    try:
        await call(changes.submit, d, user, change_id, consent, consent)
    except DomainError as exc:
        if exc.code not in ("consent_required", "precheck_failed", "no_changes"):
            raise
        return await call(
            _review,
            request,
            d,
            user,
            change_id,
            exc.status,
            exc.message,
            exc.code == "consent_required",
            consent,
        )
    session.flash(
        request,
        f"已提交。接入商将在 {FIRST_REVIEW_WORKING_DAYS} 个工作日内完成初审，期间会电话联系您，请保持电话畅通。",
    )
    return render.redirect(request, f"/changes/{change_id}")


@router.post("/changes/{change_id}/withdraw")
async def withdraw(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    await form(request)
    await call(changes.withdraw, d, user, change_id)
    session.flash(request, "变更单已撤回，网站备案信息保持不变。")
    return render.redirect(request, f"/changes/{change_id}")
