"""Request → account (bearer token) and role checks, as FastAPI dependencies."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from beiandesk.domain.model import Account
from beiandesk.entrypoints.api.guard import ACCOUNT_STATE
from beiandesk.services import auth
from beiandesk.services.deps import Deps

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# These dependencies are ``async`` on purpose: a sync dependency costs a threadpool hop per
# request. The session check is one indexed read in the request's shared read transaction
# (nothing about a session is cached in the process: a revoked token is refused at once).


async def get_deps(request: Request) -> Deps:
    return request.app.state.deps


async def current_account(
    request: Request, token: Annotated[str | None, Depends(bearer)]
) -> Account:
    # ``Deps`` from the app, not as a sub-dependency: each dependency FastAPI solves costs a
    # request more than the session read itself.
    d: Deps = request.app.state.deps
    if not token:
        raise auth.Unauthorized()
    # A write was authenticated by the RequestGuard a moment ago, before its body was read:
    # reuse that account (same token, same request) rather than read the session row twice.
    resolved = (request.scope.get("state") or {}).get(ACCOUNT_STATE)
    account = (
        resolved[1]
        if resolved is not None and resolved[0] == token
        else auth.account_for_token(d, token)
    )
    request.state.actor = account.username
    if request.scope["path"] not in PASSWORD_CHANGE_PATHS:
        auth.require_password_changed(account)
    return account


#: What an account with a one-time password may still do (api.md "Accounts"): change it,
#: see who it is logged in as, log out.
PASSWORD_CHANGE_PATHS = frozenset({"/api/v1/me/password", "/api/v1/auth/logout"})


async def staff_account(account: Annotated[Account, Depends(current_account)]) -> Account:
    return auth.require_staff(account)


async def admin_account(account: Annotated[Account, Depends(current_account)]) -> Account:
    return auth.require_admin(account)


DepsDep = Annotated[Deps, Depends(get_deps)]
AccountDep = Annotated[Account, Depends(current_account)]
StaffDep = Annotated[Account, Depends(staff_account)]
AdminDep = Annotated[Account, Depends(admin_account)]


F = TypeVar("F", bound=Callable[..., Any])


def point_read(fn: F) -> F:
    """A sync route that only reads a row or two by key: run it on the event loop when
    ``Deps.inline_reads`` (bootstrap: always), in the threadpool otherwise.

    Measured with wrk on ``GET /api/v1/websites/{id}`` (32 connections): SQLite 531 req/s in
    the threadpool, 1,366 inline; PostgreSQL 534–634 threaded, 845–933 inline — a thread hop
    per request and the GIL hand-overs around the driver's calls (40 threads contending) cost
    more than a primary-key round trip that holds the loop.
    The route must name its ``Deps`` parameter ``d``.
    """

    @functools.wraps(fn)
    async def endpoint(*args: Any, **kwargs: Any) -> Any:
        d = kwargs.get("d")
        if d is not None and d.inline_reads:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    return endpoint  # type: ignore[return-value]
