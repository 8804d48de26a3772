"""Accounts, logout, one's own password, the audit log (api.md "Accounts", "Login and sessions",
"Backup, restore, audit")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from beiandesk.entrypoints.api.schemas import RowId, Strict
from beiandesk.entrypoints.api.security import AccountDep, AdminDep, DepsDep, bearer
from beiandesk.services import accounts, audit, auth

router = APIRouter(prefix="/api/v1")

Name = Annotated[str, Field(max_length=200)]
FilingNumber = Annotated[str, Field(max_length=64)]
Password = Annotated[str, Field(max_length=256)]
Token = Annotated[str | None, Depends(bearer)]


class AccountCreate(Strict):
    username: Annotated[str, Field(max_length=64)]
    role: Annotated[str, Field(max_length=16)]
    display_name: Name = ""
    email: Annotated[str, Field(max_length=254)] = ""
    subjects: Annotated[list[FilingNumber], Field(max_length=100)] = []
    password: Password | None = None


class AccountPatch(Strict):
    role: Annotated[str, Field(max_length=16)] | None = None
    disabled: bool | None = None
    display_name: Name | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    subjects: Annotated[list[FilingNumber], Field(max_length=100)] | None = None


class ResetPassword(Strict):
    password: Password | None = None


class PasswordChange(Strict):
    current_password: Password
    new_password: Password


@router.post("/auth/logout", tags=["auth"], status_code=204)
def logout(d: DepsDep, account: AccountDep, token: Token) -> Response:
    auth.logout(d, token or "")
    return Response(status_code=204)


@router.post("/me/password", tags=["auth"])
def change_password(
    d: DepsDep, account: AccountDep, token: Token, body: PasswordChange
) -> dict[str, Any]:
    return accounts.change_own_password(
        d,
        account.id,
        body.current_password,
        body.new_password,
        keep_session=auth.session_id(d, token or ""),
    )


@router.get("/admin/accounts", tags=["admin"])
def list_accounts(d: DepsDep, admin: AdminDep) -> list[dict[str, Any]]:
    return accounts.list_accounts(d)


@router.post("/admin/accounts", tags=["admin"], status_code=201)
def create_account(d: DepsDep, admin: AdminDep, body: AccountCreate) -> dict[str, Any]:
    view, one_time = accounts.create(
        d,
        actor=admin.username,
        username=body.username,
        role=body.role,
        display_name=body.display_name,
        email=body.email,
        subjects=body.subjects,
        password=body.password,
    )
    return {**view, "one_time_password": one_time} if one_time else view


@router.get("/admin/accounts/{account_id}", tags=["admin"])
def get_account(d: DepsDep, admin: AdminDep, account_id: RowId) -> dict[str, Any]:
    return accounts.get(d, account_id)


@router.patch("/admin/accounts/{account_id}", tags=["admin"])
def patch_account(
    d: DepsDep, admin: AdminDep, account_id: RowId, body: AccountPatch
) -> dict[str, Any]:
    return accounts.update(
        d,
        actor=admin.username,
        account_id=account_id,
        role=body.role,
        disabled=body.disabled,
        display_name=body.display_name,
        email=body.email,
        subjects=body.subjects,
    )


@router.post("/admin/accounts/{account_id}/reset-password", tags=["admin"])
def reset_password(
    d: DepsDep, admin: AdminDep, account_id: RowId, body: ResetPassword | None = None
) -> dict[str, Any]:
    view, one_time = accounts.reset_password(
        d, actor=admin.username, account_id=account_id, password=body.password if body else None
    )
    return {**view, "one_time_password": one_time}


@router.get("/admin/audit", tags=["admin"])
def audit_log(
    d: DepsDep,
    admin: AdminDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict[str, Any]]:
    return [
        {
            "id": e["id"],
            "at": e["at"].isoformat(),
            "actor": e["actor"],
            "action": e["action"],
            "target": e["target"],
            "detail": e["detail"],
        }
        for e in audit.list_entries(
            d, limit, before_id=before_id, action=action, actor=actor, target=target
        )
    ]
