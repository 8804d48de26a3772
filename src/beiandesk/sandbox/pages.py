"""The sandbox's pages for people: the operator's index (playing the 管局, reading the phone
inbox) and the MIIT-style verification page. Plain HTML forms, no JavaScript; every page says
it is a sandbox, never the real MIIT system.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from beiandesk.sandbox.model import CST, LABELS, SandboxError, mask_mobile, window_text
from beiandesk.sandbox.schemas import VerifyIn

if TYPE_CHECKING:
    from beiandesk.sandbox.runtime import Sandbox

#: How many inbox messages and callbacks the index shows (newest first).
INBOX_SHOWN = 50
CALLBACKS_SHOWN = 10


def _cst(value: str | datetime | None) -> str:
    if not value:
        return "—"
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("beiandesk.sandbox", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["cst"] = _cst
    env.filters["mask_mobile"] = mask_mobile
    env.filters["duration"] = window_text
    env.globals["labels"] = {str(k): v for k, v in LABELS.items()}
    return env


def base_path(request: Request) -> str:
    """Where the sandbox is mounted (``/sandbox``), so links work mounted and standalone."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env().get_template(name).render(base=base_path(request), **ctx)
    return HTMLResponse(html, status_code=status)


def back_to_index(request: Request, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{base_path(request)}/?notice={quote(notice)}", status_code=303)


async def verify_result(request: Request, sb: Sandbox, data: dict[str, Any]) -> HTMLResponse:
    """The verification page after a form post: the same form, with the outcome."""
    form = {k: str(data.get(k) or "") for k in ("ref", "mobile")}
    try:
        body = VerifyIn.model_validate(data)
        result = await run_in_threadpool(sb.service.verify, body.ref, body.mobile, body.code)
    except ValidationError:
        return render(
            request,
            "verify.html",
            422,
            form=form,
            error="请填写备案订单号、手机号码和 6 位验证码。",
        )
    except SandboxError as exc:
        return render(request, "verify.html", exc.status, form=form, error=exc.message)
    return render(request, "verify.html", form=form, result=result)


def _index_context(sb: Sandbox) -> dict[str, Any]:
    svc = sb.service
    orders = svc.list(limit=200)
    views = [svc.view(o) for o in orders]
    slots = {o.ref: o.mobiles() for o in orders}
    inbox = list(reversed(svc.store.messages(limit=INBOX_SHOWN)))
    for msg in inbox:
        mobiles = slots.get(msg["ref"], [])
        msg["slot"] = mobiles.index(msg["to"]) + 1 if msg["to"] in mobiles else None
    return {
        "orders": views,
        "inbox": inbox,
        "callbacks": svc.store.recent_callbacks(CALLBACKS_SHOWN),
        "window_s": svc.timing.window_s,
        "delay_s": svc.timing.delay_s,
    }


def build_pages(sb: Sandbox) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def index(request: Request, notice: str | None = None) -> HTMLResponse:
        ctx = await run_in_threadpool(_index_context, sb)
        return render(request, "index.html", notice=notice, **ctx)

    @router.get("/miit/verify", response_class=HTMLResponse)
    async def verify_page(
        request: Request, ref: str = "", mobile: str = "", n: int | None = None
    ) -> HTMLResponse:
        """``?ref=&mobile=`` prefill; ``?ref=&n=K`` prefills the order's K-th mobile, so the
        sandbox's own links never carry a phone number in a URL (and so in access logs)."""
        if ref and n and not mobile:
            mobile = await run_in_threadpool(_nth_mobile, sb, ref, n)
        return render(request, "verify.html", form={"ref": ref, "mobile": mobile})

    return router


def _nth_mobile(sb: Sandbox, ref: str, n: int) -> str:
    order = sb.store.get_order(ref)
    mobiles = order.mobiles() if order else []
    return mobiles[n - 1] if 0 < n <= len(mobiles) else ""
