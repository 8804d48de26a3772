"""Who is asking, what they may do, and how refusals become pages (not JSON).

The role checks are the API's (``entrypoints/api/security.py``): staff for review, admin for
the outbox; ownership is checked by the services themselves, for both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from beiandesk.domain.errors import DomainError
from beiandesk.domain.masking import scrub
from beiandesk.domain.text import first_forbidden_char
from beiandesk.domain.model import Account
from beiandesk.entrypoints.web import render, session
from beiandesk.services import auth
from beiandesk.services.deps import Deps

log = logging.getLogger("beiandesk.console")

#: A console form has a handful of fields; the cap stops a form bomb, not a person.
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 4


class NeedLogin(Exception):
    """No valid session: send the person to the login page, then back here."""


class NeedPasswordChange(Exception):
    """A one-time password is still in use: nothing but the password change (and logout)."""


#: Pages an account with a one-time password may still use.
PASSWORD_CHANGE_PAGES = frozenset({"/account/password", "/logout"})


def deps(request: Request) -> Deps:
    return request.app.state.deps


def account(request: Request) -> Account:
    tok = session.token(request)
    if not tok:
        raise NeedLogin()
    try:
        found = auth.account_for_token(deps(request), tok)
    except auth.Unauthorized:
        raise NeedLogin() from None
    except DomainError as exc:  # account_disabled: the session ends here, on every node
        session.log_out(request)
        session.flash(request, exc.message, "error")
        raise NeedLogin() from None
    request.state.console_account = found
    if found.password_change_required and request.url.path not in PASSWORD_CHANGE_PAGES:
        raise NeedPasswordChange()
    return found


def staff(user: Annotated[Account, Depends(account)]) -> Account:
    return auth.require_staff(user)


def admin(user: Annotated[Account, Depends(account)]) -> Account:
    return auth.require_admin(user)


DepsDep = Annotated[Deps, Depends(deps)]
UserDep = Annotated[Account, Depends(account)]
StaffDep = Annotated[Account, Depends(staff)]
AdminDep = Annotated[Account, Depends(admin)]


async def form(request: Request) -> FormData:
    """The posted form, after its CSRF token is checked."""
    data = await request.form(max_fields=MAX_FORM_FIELDS, max_files=MAX_FORM_FILES)
    submitted = data.get(session.CSRF_FIELD) or request.headers.get(session.CSRF_HEADER)
    session.check_csrf(request, submitted if isinstance(submitted, str) else None)
    for _, value in data.multi_items():
        if isinstance(value, str) and first_forbidden_char(value) is not None:
            raise DomainError(
                "invalid_request",
                "填写的内容含有不允许的控制字符（如 NUL），请删除后重试。",
                status=422,
            )
    return data


async def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a (blocking, database-bound) service function off the event loop."""
    return await run_in_threadpool(fn, *args)


ERROR_TITLES = {401: "请先登录", 403: "没有权限", 404: "找不到该页面", 500: "出错了"}


def error_page(
    request: Request, status: int, message: str, problems: list[Any] | None = None
) -> Response:
    return render.render(
        request,
        "error.html",
        status=status,
        title=ERROR_TITLES.get(status, "无法完成操作"),
        message=message,
        problems=problems or [],
    )


class ConsoleRoute(APIRoute):
    """Routes whose refusals are pages: login redirects, a message for a domain error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except NeedLogin:
                return render.redirect(request, render.login_url(request))
            except NeedPasswordChange:
                return render.redirect(request, "/account/password")
            except session.CsrfFailed:
                return error_page(
                    request, 403, "页面已过期或来源不明（安全校验未通过），请返回上一页刷新后重试。"
                )
            except RequestValidationError:
                return error_page(request, 404, "页面不存在，或地址中的编号不正确。")
            except DomainError as exc:
                if exc.status >= 500:
                    log.warning(
                        "console %s %s: %s", request.method, request.url.path, scrub(exc.message)
                    )
                return error_page(request, exc.status, exc.message, exc.problems)
            except Exception as exc:
                log.error(
                    "console %s %s failed: %s",
                    request.method,
                    request.url.path,
                    scrub(repr(exc)),
                    exc_info=exc,
                )
                return error_page(request, 500, "服务器内部错误，请稍后重试。")

        return run
