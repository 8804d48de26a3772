"""The sandbox's HTTP surface for machines (api.md §Authority sandbox), JSON in and out.

The verify, decision and resend endpoints also take HTML form posts, so that the sandbox's own
pages work without JavaScript: a form post answers with a page (or a redirect), JSON with JSON.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from beiandesk.sandbox import pages
from beiandesk.sandbox.model import OrderState, SandboxError, normalize_mobile
from beiandesk.sandbox.runtime import Sandbox
from beiandesk.sandbox.schemas import DecisionIn, OrderIn, VerifyIn


def problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """RFC 9457 problem JSON with the stable ``code`` member (api.md)."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def invalid(exc: ValidationError) -> SandboxError:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return SandboxError(422, "invalid_request", "请求内容不完整或格式不正确。", errors=errors)


async def read_body(request: Request) -> tuple[dict[str, Any], bool]:
    """The request's fields and whether it came from an HTML form."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        data: dict[str, Any] = {k: form.get(k) for k in form}
        if "reasons" in form:  # one reason a line in the page's textarea
            data["reasons"] = [ln for v in form.getlist("reasons") for ln in str(v).splitlines()]
        return data, True
    raw = await request.body()
    if not raw.strip():
        return {}, False
    try:
        data = await request.json()
    except ValueError:
        raise SandboxError(400, "invalid_json", "请求体不是有效的 JSON。") from None
    if not isinstance(data, dict):
        raise SandboxError(422, "invalid_request", "请求体应为 JSON 对象。")
    return data, False


def build_api(sb: Sandbox) -> APIRouter:
    svc = sb.service
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/orders", status_code=201)
    def submit(
        body: OrderIn, request: Request, idempotency_key: str | None = Header(default=None)
    ) -> Response:
        """Receive an order. A replayed ``idempotency_key`` answers 200 with the same order."""
        key = body.idempotency_key or idempotency_key
        if not key:
            raise SandboxError(
                422,
                "idempotency_key_required",
                "请提供幂等键 idempotency_key。",
                field="idempotency_key",
            )
        data = body.model_dump()
        data["idempotency_key"] = key
        order, created = svc.submit(data)
        location = f"{pages.base_path(request)}/orders/{order.ref}"
        return JSONResponse(
            svc.view(order), status_code=201 if created else 200, headers={"Location": location}
        )

    @router.get("/orders")
    def list_orders(
        state: OrderState | None = None, limit: int = Query(default=200, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        """Newest first."""
        return [svc.view(o) for o in svc.list(str(state) if state else None, limit)]

    @router.get("/orders/{ref}")
    def get_order(ref: str) -> dict[str, Any]:
        return svc.view(svc.get(ref))

    @router.post("/orders/{ref}/decision")
    async def decide(ref: str, request: Request) -> Response:
        """The 管局's decision ``{decision: approve|reject, reasons: [str]}``."""
        data, is_form = await read_body(request)
        try:
            body = DecisionIn.model_validate(data)
            order = await run_in_threadpool(svc.decide, ref, body.decision, body.reasons)
        except ValidationError as exc:
            if not is_form:
                raise invalid(exc) from None
            return pages.back_to_index(request, "请选择通过或驳回。")
        except SandboxError as exc:
            if not is_form:
                raise
            return pages.back_to_index(request, exc.message)
        if is_form:
            verb = "通过" if body.decision == "approve" else "驳回"
            return pages.back_to_index(request, f"订单 {ref} 已{verb}。")
        return JSONResponse(await run_in_threadpool(svc.view, order))

    @router.post("/orders/{ref}/resend")
    async def resend(
        ref: str, request: Request, idempotency_key: str | None = Header(default=None)
    ) -> Response:
        """Re-send a returned order (new codes, new window). ``Idempotency-Key`` makes a retry
        of the same request harmless."""
        data, is_form = await read_body(request)
        key = idempotency_key or (
            str(data["idempotency_key"]) if data.get("idempotency_key") else None
        )
        try:
            order = await run_in_threadpool(svc.resend, ref, key)
        except SandboxError as exc:
            if not is_form:
                raise
            return pages.back_to_index(request, exc.message)
        if is_form:
            return pages.back_to_index(
                request, f"订单 {ref} 已重新提交，新的验证码将发送到负责人手机。"
            )
        return JSONResponse(await run_in_threadpool(svc.view, order))

    @router.get("/messages")
    def messages(
        to: str | None = None,
        ref: str | None = None,
        limit: int = Query(default=1000, ge=1, le=5000),
    ) -> list[dict[str, Any]]:
        """Every SMS the sandbox phone network sent, oldest first, full mobile numbers."""
        svc.tick()
        return svc.store.messages(normalize_mobile(to) if to else None, ref, limit)

    @router.post("/miit/verify")
    async def verify(request: Request) -> Response:
        """``{ref, mobile, code}`` → ``{ok, attempts_left, state, reason, message}``."""
        data, is_form = await read_body(request)
        if is_form:
            return await pages.verify_result(request, sb, data)
        try:
            body = VerifyIn.model_validate(data)
        except ValidationError as exc:
            raise invalid(exc) from None
        result = await run_in_threadpool(svc.verify, body.ref, body.mobile, body.code)
        return JSONResponse(result)

    return router
