"""Console: claim / release an order, and reveal ID numbers for comparison with the ID card."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, StaffDep, call, form
from beiandesk.entrypoints.web.routes_review import _order_page
from beiandesk.services import claims, reveal

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


async def _claim_act(request: Request, fn, d, user, change_id: int, done: str) -> Response:  # noqa: ANN001
    await form(request)
    try:
        await call(fn, d, user, change_id)
    except DomainError as exc:
        if exc.code in ("forbidden", "not_found"):
            raise
        session.flash(request, exc.message, "error", target="claim")
    else:
        session.flash(request, done, target="claim")
    return render.redirect(request, f"/review/{change_id}#claim")


@router.post("/review/{change_id}/claim")
async def claim(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    return await _claim_act(
        request, claims.claim, d, user, change_id, "已认领：其他审核专员将看到由你处理。"
    )


@router.post("/review/{change_id}/release")
async def release(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    return await _claim_act(request, claims.release, d, user, change_id, "已释放认领。")


@router.post("/review/{change_id}/identity")
async def identity(request: Request, d: DepsDep, user: StaffDep, change_id: int) -> Response:
    await form(request)  # CSRF
    try:
        found = await call(reveal.reveal_identity, d, user, change_id)
    except DomainError as exc:  # another reviewer holds the order: say so beside 处理人
        if exc.code in ("forbidden", "not_found"):
            raise
        session.flash(request, exc.message, "error", target="claim")
        return render.redirect(request, f"/review/{change_id}#claim")
    # Rendered, not redirected: the numbers never go into a cookie or a URL.
    return await call(_order_page, request, d, user, change_id, None, found)
