"""The reviewer's workbench: the queue, one order, calls, approve / reject, resend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.domain.states import ChangeState
from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, StaffDep, call, form
from beiandesk.services import changes, console, materials, precheck, records, review

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

#: Reasons reviewers give most often (provider practice, research §(b)); codes of api.md where
#: one fits. The applicant reads the message, so it says what to do.
REASON_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "footer_filing_number_missing",
        "首页未展示备案号",
        "网站首页底部未展示备案号，或备案号未链接到 https://beian.miit.gov.cn：请在首页底部添加备案号并设置链接后重新提交。",
    ),
    (
        "verification_missing",
        "核验照片不合格",
        "核验照片不符合要求（须纯白背景、胸部以上、正对镜头、不戴帽子和耳机）：请重新拍摄并上传。",
    ),
    (
        "material_missing",
        "材料缺失或不清晰",
        "证件材料不完整或不清晰：请补充上传清晰、完整的证件照片或扫描件。",
    ),
    (
        "name_reserved_word",
        "网站名称不规范",
        "网站名称不符合命名规范：请使用能体现网站内容、不含敏感词或单位性质词的名称。",
    ),
    (
        "domain_holder_mismatch",
        "域名持有者不一致",
        "域名的实名持有者与备案主体不一致：请在注册商处过户到备案主体名下后重新提交。",
    ),
    (
        "applicant_unreachable",
        "电话无法接通",
        "两次电话均未接通，无法与申请人取得联系：请保持电话畅通后重新提交。",
    ),
)
_TEMPLATES = {code: message for code, _, message in REASON_TEMPLATES}
OTHER_REASON_CHARS = 2000


@router.get("/review")
def queue(
    request: Request,
    d: DepsDep,
    user: StaffDep,
    tab: str = "review",
    q: str = "",
    province: str = "",
    overdue: str = "",
) -> Response:
    from beiandesk.domain.provinces import provinces
    from beiandesk.domain.queue_filter import TAB_LABELS, TABS, QueueFilter
    from beiandesk.domain.workdays import CHINA_TZ, working_days_between
    from beiandesk.services import review_queue

    tab = tab if tab in TABS else "review"
    flt = QueueFilter(
        q=q[:200], province=province if province in provinces() else "", overdue=overdue == "1"
    )
    now = d.clock.now()
    today = now.astimezone(CHINA_TZ).date()
    items = []
    for row in review_queue.search(d, user, flt, tab):
        o = row["order"]
        item = {
            **views.change(o, staff=True),
            **console.queue_flags(o, now),
            "filing_number": row["filing_number"],
            "subject_name": row["subject"].name if row["subject"] else "",
            "province": row["subject"].province if row["subject"] else "",
            "claimed_by": row["claim"].username if row["claim"] else None,
        }
        if o.due_at and o.state == ChangeState.provider_review:
            item["days_left"] = working_days_between(today, o.due_at.astimezone(CHINA_TZ).date())
        items.append(item)
    waiting = [i for i in items if i["state"] != ChangeState.authority_returned]
    returned = [i for i in items if i["state"] == ChangeState.authority_returned]
    return render.render(
        request,
        "queue.html",
        title="初审工作台",
        nav="review",
        waiting=waiting,
        returned=returned,
        now=now,
        tab=tab,
        tabs=TAB_LABELS,
        counts=review_queue.counts(d, user),
        q=flt.q,
        province=flt.province,
        overdue=flt.overdue,
        provinces=sorted(provinces()),
    )


@router.get("/review/{change_id}")
def order_page(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    return _order_page(request, d, user, change_id)


@router.post("/review/{change_id}/contact")
async def reveal_contact(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    await form(request)  # CSRF
    contact = await call(review.reveal_contact, d, user, change_id)
    # Rendered, not redirected: the number never goes into a cookie or a URL.
    return await call(_order_page, request, d, user, change_id, contact)


def _order_page(
    request: Request,
    d: Any,
    user: Any,
    change_id: int,
    contact: dict | None = None,
    identity: dict | None = None,
) -> Response:
    from beiandesk.services import claims

    order = changes.get_change(d, user, change_id)
    holder = claims.holders(d, [change_id]).get(change_id)
    in_review = order.state == ChangeState.provider_review and order.review_passed_at is None
    returned = order.state == ChangeState.authority_returned
    # Only sections drawn on this page take a message; any other shows at the top.
    targets = (
        (("calls", "approve") if in_review else ())
        + (("reject",) if in_review or returned else ())
        + (("resend",) if returned else ())
        + (("claim",) if in_review or returned else ())
    )
    return render.render(
        request,
        "review_order.html",
        title=f"审核变更单 #{change_id}",
        nav="review",
        order=views.change(order, staff=True),
        site=views.website(records.get_website(d, user, order.website_id)),
        subject=views.subject(records.get_subject(d, user, order.subject_id)),
        events=[views.event(e) for e in reversed(changes.events(d, user, change_id))],
        problems=precheck.precheck(d, user, change_id)
        if order.state == ChangeState.provider_review
        else [],
        verification=materials.latest_verification(d, user, change_id),
        slots=[s for s in console.material_slots(d, user, change_id) if s.files or s.required],
        flags=console.queue_flags(order, d.clock.now()),
        reached=console.has_reached_call(order),
        in_review=in_review,
        returned=returned,
        templates=REASON_TEMPLATES,
        contact=contact,
        claim=holder,
        identity=identity,
        claimable=in_review or returned,
        flash_targets=targets,
    )


async def _act(
    request: Request,
    change_id: int,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    done: str | Callable[[Any], str],
    target: str,
) -> Response:
    """Run a reviewer's action. A refusal is shown in the section of the button that was
    pressed, and the page opens there; a success goes at the top (the state has moved)."""
    try:
        order = await call(fn, *args)
    except DomainError as exc:
        if exc.code in ("not_found", "forbidden"):
            raise
        session.flash(
            request, exc.message, "error", [p.message for p in exc.problems], target=target
        )
        return render.redirect(request, f"/review/{change_id}#{target}")
    session.flash(request, done(order) if callable(done) else done)
    return render.redirect(request, f"/review/{change_id}")


@router.post("/review/{change_id}/calls")
async def log_call(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    outcome = str(data.get("outcome") or "")
    if outcome not in ("reached", "unreachable"):
        session.flash(request, "请选择通话结果：已接通或未接通。", "error", target="calls")
        return render.redirect(request, f"/review/{change_id}#calls")
    note = str(data.get("note") or "")[:OTHER_REASON_CHARS].strip()

    def done(order: Any) -> str:
        if order.state == ChangeState.provider_rejected:
            return "已记录：再次未接通，变更单已按「申请人电话无法接通」驳回。"
        if order.next_call_at:
            return f"已记录：未接通。请于 {render.cst(order.next_call_at)} 左右再次致电。"
        return "已记录：已接通。"

    return await _act(
        request, change_id, review.log_call, (d, user, change_id, outcome, note), done, "calls"
    )


@router.post("/review/{change_id}/approve")
async def approve(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    note = str(data.get("note") or "")[:OTHER_REASON_CHARS].strip()
    return await _act(
        request,
        change_id,
        review.approve,
        (d, user, change_id, note),
        "初审已通过，正在提交管局；申请人将收到短信和邮件通知。",
        "approve",
    )


@router.post("/review/{change_id}/reject")
async def reject(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    data = await form(request)
    reasons = [
        {"code": c, "message": _TEMPLATES[c]} for c in data.getlist("reason") if c in _TEMPLATES
    ]
    other = str(data.get("other_reason") or "").strip()[:OTHER_REASON_CHARS]
    if other:
        reasons.append({"code": "other", "message": other})
    if not reasons:
        session.flash(
            request,
            "驳回前请至少选择或填写一条原因，申请人会按原因修改。",
            "error",
            target="reject",
        )
        return render.redirect(request, f"/review/{change_id}#reject")
    return await _act(
        request,
        change_id,
        review.reject,
        (d, user, change_id, reasons),
        "已驳回，申请人将收到原因并可修改后重新提交。",
        "reject",
    )


@router.post("/review/{change_id}/resend")
async def resend(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    await form(request)
    return await _act(
        request,
        change_id,
        review.resend,
        (d, user, change_id),
        "已重新提交管局，工信部将重新向负责人发送短信核验码。",
        "resend",
    )
