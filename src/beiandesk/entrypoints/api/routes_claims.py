"""Reviewer claims (api.md "Flow rules made precise")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.security import DepsDep, StaffDep
from beiandesk.services import claims

router = APIRouter(prefix="/api/v1", tags=["review"])


@router.post("/review/changes/{change_id}/claim")
def claim(d: DepsDep, account: StaffDep, change_id: RowId) -> dict[str, Any]:
    """认领变更单：其他审核专员在释放或 30 分钟无操作前不能认领或操作（409 claimed_by_other）。"""
    return claims.claim(d, account, change_id)


@router.post("/review/changes/{change_id}/release")
def release(d: DepsDep, account: StaffDep, change_id: RowId) -> dict[str, Any]:
    """释放认领（认领人或管理员）。"""
    return claims.release(d, account, change_id)


@router.post("/review/changes/{change_id}/identity")
def reveal_identity(d: DepsDep, account: StaffDep, change_id: RowId) -> dict[str, Any]:
    """主体与负责人的完整证件号码（供与证件照片核对；每次查看都记入审计日志）。"""
    from beiandesk.services import reveal

    return reveal.reveal_identity(d, account, change_id)
