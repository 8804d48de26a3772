"""The authority desk (api.md §The authority desk): reviewers and admins record the hand-over."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.api.schemas import RowId, Strict
from beiandesk.entrypoints.api.security import DepsDep, StaffDep
from beiandesk.services import desk

router = APIRouter(prefix="/api/v1/authority/desk", tags=["authority desk"])


class SubmittedBody(Strict):
    ref: Annotated[
        str, Field(min_length=1, max_length=desk.MAX_REF, description="管局系统中的受理编号")
    ]


class ReturnedBody(Strict):
    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=desk.MAX_REASON,
            description="sms_failed、sms_timeout 或管局给出的其他原因",
        ),
    ]


class DecisionBody(Strict):
    decision: Literal["approve", "reject"]
    reasons: Annotated[
        list[Annotated[str, Field(max_length=desk.MAX_REASON)]], Field(max_length=20)
    ] = []


def _order(order: Any, now: Any) -> JSONResponse:
    return JSONResponse(
        {**views.change(order), **desk.view(order, now)}, headers={"ETag": f'"{order.version}"'}
    )


@router.get("")
def desk_list(d: DepsDep, account: StaffDep) -> list[dict[str, Any]]:
    """待提交管局的变更单，以及处于各管局阶段的变更单（含短信核验截止时间）。"""
    now = d.clock.now()
    return [{**views.change(o), **desk.view(o, now)} for o in desk.orders(d, account)]


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "待提交管局清单（CSV）"}},
)
def desk_export(
    d: DepsDep,
    account: StaffDep,
    unmasked: Annotated[
        bool, Query(description="完整证件号码和手机号（仅管理员，记入办理记录）")
    ] = False,
) -> Response:
    """待提交管局清单：工作人员录入管局系统所需的字段；证件号码和手机号默认打码。"""
    text = desk.handover_csv(d, account, unmasked)
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="authority-handover.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{change_id}/submitted")
def desk_submitted(
    d: DepsDep, account: StaffDep, change_id: RowId, body: SubmittedBody
) -> JSONResponse:
    """已提交管局：登记管局受理编号，24 小时短信核验期开始。"""
    return _order(desk.submitted(d, account, change_id, body.ref), d.clock.now())


@router.post("/{change_id}/sms-passed")
def desk_sms_passed(d: DepsDep, account: StaffDep, change_id: RowId) -> JSONResponse:
    """短信核验通过：进入管局审核。"""
    return _order(desk.sms_passed(d, account, change_id), d.clock.now())


@router.post("/{change_id}/returned")
def desk_returned(
    d: DepsDep, account: StaffDep, change_id: RowId, body: ReturnedBody
) -> JSONResponse:
    """管局退回（短信核验未通过或超时等）。"""
    return _order(desk.returned(d, account, change_id, body.reason), d.clock.now())


@router.post("/{change_id}/decision")
def desk_decision(
    d: DepsDep, account: StaffDep, change_id: RowId, body: Annotated[DecisionBody, Body()]
) -> JSONResponse:
    """管局通过 / 管局驳回（附原因）。"""
    return _order(desk.decision(d, account, change_id, body.decision, body.reasons), d.clock.now())
