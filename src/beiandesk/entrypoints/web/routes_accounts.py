"""账号管理, 审计日志 and one's own password (api.md "Accounts", "Backup, restore, audit").

The same service layer as the CLI and the admin API (services/accounts.py). A one-time
password is rendered once, in the answer to the POST that made it: it is never put in the
session cookie, a flash message or a URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep, UserDep, call, form
from beiandesk.services import accounts, audit, auth

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

ROLES = (("applicant", "申请人"), ("reviewer", "审核专员"), ("admin", "管理员"))
ACTION_LABELS = {
    "account.create": "新建账号",
    "account.disable": "停用账号",
    "account.enable": "启用账号",
    "account.reset_password": "重置密码",
    "account.set_role": "修改角色",
    "account.link": "关联主体",
    "account.unlink": "解除关联主体",
    "account.update": "修改账号信息",
    "account.change_password": "修改本人密码",
    "records.import": "导入备案记录",
    "records.export": "导出备案记录",
    "backup.create": "备份",
    "backup.restore": "恢复",
    "personal_data.reveal": "查看个人信息",
    "outbox.retry": "重新发送通知",
    "outbox.mark_sent": "标记通知已发送",
    "webhook.create": "新建网络钩子",
    "webhook.delete": "删除网络钩子",
}


def _accounts_page(
    request: Request,
    d: Any,
    *,
    status: int = 200,
    error: str = "",
    form_values: dict | None = None,
    one_time: dict | None = None,
) -> Response:
    return render.render(
        request,
        "accounts.html",
        status=status,
        title="账号管理",
        nav="accounts",
        accounts=(rows := accounts.list_accounts(d)),
        # a row action's message is shown in its row (beside the buttons), not at the page top
        flash_targets=tuple(f"account-{a['id']}" for a in rows),
        roles=ROLES,
        role_names=dict(ROLES),
        error=error,
        form=form_values or {},
        one_time=one_time,
    )


@router.get("/admin/accounts")
def accounts_page(request: Request, d: DepsDep, user: AdminDep) -> Response:
    return _accounts_page(request, d)


@router.post("/admin/accounts")
async def create_account(request: Request, d: DepsDep, user: AdminDep) -> Response:
    data = await form(request)
    values = {
        k: str(data.get(k) or "").strip()[:200]
        for k in ("username", "role", "display_name", "email", "subject")
    }
    subjects = [
        s for s in values["subject"].replace("；", ";").replace(",", ";").split(";") if s.strip()
    ]
    try:
        view, one_time = await call(
            lambda: accounts.create(
                d,
                actor=user.username,
                username=values["username"][:64],
                role=values["role"],
                display_name=values["display_name"],
                email=values["email"],
                subjects=subjects,
            )
        )
    except DomainError as exc:
        if exc.status == 403:
            raise
        status, message = exc.status, exc.message
        return await call(
            lambda: _accounts_page(request, d, status=status, error=message, form_values=values)
        )
    return await call(
        lambda: _accounts_page(
            request,
            d,
            status=201,
            one_time={"username": view["username"], "password": one_time, "what": "新账号已创建"},
        )
    )


@router.post("/admin/accounts/{account_id}")
async def update_account(request: Request, d: DepsDep, user: AdminDep, account_id: int) -> Response:
    data = await form(request)
    op = str(data.get("op") or "")
    changes: dict[str, Any] = {}
    if op == "disable":
        changes["disabled"] = True
    elif op == "enable":
        changes["disabled"] = False
    elif op == "role":
        changes["role"] = str(data.get("role") or "")
    elif op == "link":
        changes["add_subjects"] = [
            s for s in str(data.get("subject") or "").replace("；", ";").split(";") if s.strip()
        ]
    elif op == "reset":
        try:
            view, one_time = await call(
                lambda: accounts.reset_password(d, actor=user.username, account_id=account_id)
            )
        except DomainError as exc:
            session.flash(request, exc.message, "error", target=f"account-{account_id}")
            return render.redirect(request, f"/admin/accounts#account-{account_id}")
        return await call(
            lambda: _accounts_page(
                request,
                d,
                one_time={
                    "username": view["username"],
                    "password": one_time,
                    "what": "密码已重置，原有登录已全部失效",
                },
            )
        )
    else:
        session.flash(request, "未知的操作。", "error")
        return render.redirect(request, "/admin/accounts")
    try:
        view = await call(
            lambda: accounts.update(d, actor=user.username, account_id=account_id, **changes)
        )
    except DomainError as exc:
        if exc.status == 403:
            raise
        session.flash(request, exc.message, "error", target=f"account-{account_id}")
    else:
        done = {
            "disable": "已停用，该账号的登录已立即失效",
            "enable": "已启用",
            "role": "角色已修改",
            "link": "主体已关联",
        }[op]
        session.flash(request, f"{view['username']}：{done}。", target=f"account-{account_id}")
    return render.redirect(request, f"/admin/accounts#account-{account_id}")


@router.get("/admin/audit")
def audit_page(
    request: Request, d: DepsDep, user: AdminDep, action: str = "", actor: str = ""
) -> Response:
    entries = audit.list_entries(d, 300, action=action[:64] or None, actor=actor[:64] or None)
    return render.render(
        request,
        "audit.html",
        title="审计日志",
        nav="audit",
        entries=entries,
        action_labels=ACTION_LABELS,
        action_filter=action,
        actor_filter=actor,
    )


@router.get("/account/password")
def password_page(request: Request, user: UserDep) -> Response:
    return render.render(
        request,
        "account_password.html",
        title="修改密码",
        error="",
        forced=user.password_change_required,
    )


@router.post("/account/password")
async def change_password(request: Request, d: DepsDep, user: UserDep) -> Response:
    data = await form(request)
    current, new, again = (
        str(data.get(k) or "")[:256] for k in ("current_password", "new_password", "new_password2")
    )
    error = ""
    if new != again:
        error = "两次输入的新密码不一致。"
    else:
        try:
            token = session.token(request) or ""
            await call(
                lambda: accounts.change_own_password(
                    d, user.id, current, new, keep_session=auth.session_id(d, token)
                )
            )
        except DomainError as exc:
            error = exc.message
    if error:
        return render.render(
            request,
            "account_password.html",
            status=422,
            title="修改密码",
            error=error,
            forced=user.password_change_required,
        )
    session.flash(request, "密码已修改。")
    return render.redirect(
        request, {"reviewer": "/review", "admin": "/admin"}.get(str(user.role), "/")
    )
