"""Reviewer and admin endpoints (api.md §Reviewer), the authority callback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.api.routes_changes import _json
from beiandesk.entrypoints.api.schemas import ApproveBody, AuthCodeBody, CallBody, RejectBody
from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.security import AccountDep, AdminDep, DepsDep, StaffDep
from beiandesk.services import auth_codes, console, review

router = APIRouter(prefix="/api/v1")


@router.get("/review/queue", tags=["review"])
def review_queue(
    d: DepsDep,
    account: StaffDep,
    q: Annotated[str, Query(max_length=200, description="备案号、域名、网站或主体名称")] = "",
    state: Annotated[str, Query(max_length=32, description="只看该状态（空 = 按 tab）")] = "",
    province: Annotated[str, Query(max_length=16)] = "",
    overdue: bool = False,
    tab: Annotated[str, Query(pattern="^(review|sms|authority)$")] = "review",
) -> list[dict[str, Any]]:
    """Orders waiting for first review (call-due first, then the earliest working-day deadline),
    or those in the SMS check (``tab=sms``) or with the 管局 (``tab=authority``); each with
    ``claimed_by`` (the reviewer working on it, or null)."""
    from beiandesk.domain.queue_filter import QueueFilter
    from beiandesk.domain.states import ChangeState
    from beiandesk.services import review_queue as rq

    if state and state not in ChangeState.__members__:
        raise RequestValidationError(
            [{"type": "enum", "loc": ("query", "state"), "msg": "未知的状态", "input": state}]
        )
    flt = QueueFilter(
        q=q, state=ChangeState(state) if state else None, province=province, overdue=overdue
    )
    now = d.clock.now()
    out = []
    for row in rq.search(d, account, flt, tab):
        o, c = row["order"], row["claim"]
        out.append(
            {
                **views.change(o, staff=True),
                **console.queue_flags(o, now),
                "filing_number": row["filing_number"],
                "subject_name": row["subject"].name if row["subject"] else "",
                "province": row["subject"].province if row["subject"] else "",
                "claimed_by": c.username if c else None,
            }
        )
    return out


@router.post("/review/changes/{change_id}/calls", tags=["review"])
def log_call(d: DepsDep, account: StaffDep, change_id: RowId, body: CallBody) -> JSONResponse:
    return _json(review.log_call(d, account, change_id, body.outcome, body.note), account=account)


@router.post("/review/changes/{change_id}/contact", tags=["review"])
def reveal_contact(d: DepsDep, account: StaffDep, change_id: RowId) -> dict[str, str]:
    """联系人的完整手机号（供审核专员致电；每次查看都记入办理记录）。"""
    return review.reveal_contact(d, account, change_id)


@router.post("/review/changes/{change_id}/approve", tags=["review"])
def approve(
    d: DepsDep,
    account: StaffDep,
    change_id: RowId,
    body: Annotated[ApproveBody | None, Body()] = None,
) -> JSONResponse:
    return _json(
        review.approve(d, account, change_id, (body or ApproveBody()).note), account=account
    )


@router.post("/review/changes/{change_id}/reject", tags=["review"])
def reject(d: DepsDep, account: StaffDep, change_id: RowId, body: RejectBody) -> JSONResponse:
    return _json(
        review.reject(d, account, change_id, [r.model_dump() for r in body.reasons]),
        account=account,
    )


@router.post("/review/changes/{change_id}/resend", tags=["review"])
def resend(d: DepsDep, account: StaffDep, change_id: RowId) -> JSONResponse:
    return _json(review.resend(d, account, change_id), account=account)


@router.get("/admin/outbox", tags=["admin"])
def admin_outbox(
    d: DepsDep,
    account: AdminDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, Any]:
    return review.outbox(d, account, kind, status)


@router.post("/admin/outbox/{item_id}/retry", tags=["admin"])
def admin_outbox_retry(d: DepsDep, account: AdminDep, item_id: RowId) -> dict[str, Any]:
    """Send a 发送失败 or 待确认 row again (409 ``outbox_state_conflict`` in any other state)."""
    from beiandesk.services import outbox_admin

    return outbox_admin.retry(d, account, item_id)


@router.post("/admin/outbox/{item_id}/mark-sent", tags=["admin"])
def admin_outbox_mark_sent(d: DepsDep, account: AdminDep, item_id: RowId) -> dict[str, Any]:
    """Close a 待确认 row the admin confirmed went out (409 ``outbox_state_conflict`` otherwise)."""
    from beiandesk.services import outbox_admin

    return outbox_admin.mark_sent(d, account, item_id)


@router.post("/authority/callback", tags=["authority"], include_in_schema=False)
async def authority_callback(request: Request, d: DepsDep) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from beiandesk.services import authority

    body = await request.body()
    one = request.headers.get("x-beiandesk-signature")  # t=UNIX,v1=HEX (else the legacy pair)
    ok = await run_in_threadpool(
        authority.callback,
        d,
        body,
        request.headers.get("x-sandbox-timestamp"),
        one or request.headers.get("x-sandbox-signature"),
    )
    return {"ok": ok}


@router.post("/auth-codes", tags=["auth codes"], status_code=201)
def create_auth_code(d: DepsDep, account: AccountDep, body: AuthCodeBody) -> dict[str, Any]:
    """生成备案授权码（仅企业实名认证账号；每台服务器最多 5 个）。"""
    return auth_codes.create(d, account, body.instance_id, body.domain)


@router.get("/auth-codes", tags=["auth codes"])
def list_auth_codes(d: DepsDep, account: AccountDep) -> list[dict[str, Any]]:
    return auth_codes.list_codes(d, account)


@router.delete("/auth-codes/{code_id}", tags=["auth codes"])
def revoke_auth_code(d: DepsDep, account: AccountDep, code_id: RowId) -> dict[str, Any]:
    return auth_codes.revoke(d, account, code_id)
