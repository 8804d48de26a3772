"""HTML error pages for console addresses that no console route answers (an unknown URL, a
missing static file, a wrong method): the console's own page instead of raw problem JSON.
``/api/`` and every client that asks for JSON keep getting RFC 9457 problems."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from beiandesk.entrypoints.web import guard

MESSAGES = {
    401: "请先登录后再访问该页面。",
    403: "您没有访问该页面的权限。如需权限，请联系管理员。",
    404: "您访问的页面不存在，可能地址有误或该页面已被移除。",
    405: "该页面不支持这种访问方式，请从页面上的链接或按钮进入。",
}
#: Paths that are never console pages: the API, the sandbox (an outside party), the docs, ops.
NOT_CONSOLE = (
    "/api/",
    "/sandbox",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/healthz",
    "/readyz",
    "/metrics",
)


def wants_html(request: Request) -> bool:
    path = request.url.path
    if any(path == p.rstrip("/") or path.startswith(p) for p in NOT_CONSOLE):
        return False
    accept = request.headers.get("accept", "")
    # A browser asks for text/html; a bare client (curl: */*) gets the page too. Only a client
    # that asks for JSON and not HTML keeps the problem object.
    return not ("json" in accept and "text/html" not in accept)


def html_error(
    request: Request, status: int, headers: dict[str, str] | None = None
) -> Response | None:
    """The console page for ``status`` on a console address, or None (answer JSON)."""
    if not wants_html(request):
        return None
    try:
        guard.account(request)  # the header shows who is logged in, when someone is
    except Exception:  # noqa: BLE001 - no session, an expired one: the page is the same
        pass
    response = guard.error_page(request, status, MESSAGES.get(status, "无法完成该请求。"))
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
