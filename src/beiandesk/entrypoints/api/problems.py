"""RFC 9457 problem responses for every error, with a stable ``code`` and a Chinese message."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from beiandesk.domain.errors import DomainError
from beiandesk.domain.masking import scrub

log = logging.getLogger("beiandesk.api")

_HTTP_CODES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("unauthorized", "未登录或登录已过期，请重新登录。"),
    403: ("forbidden", "无权执行此操作。"),
    404: ("not_found", "请求的地址不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    406: ("not_acceptable", "无法提供请求的格式。"),
    413: ("request_too_large", "请求体过大。"),
    415: ("unsupported_media_type", "不支持的请求内容类型。"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。"),
}


def problem(
    status: int,
    code: str,
    message: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://beiandesk.dev/problems/{code}",
        "title": message,
        "status": status,
        "code": code,
        "message": message,
        "detail": message,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


#: pydantic's error types, said in Chinese (``{…}``: the error's own context, e.g. the bound).
_KIND_MESSAGES = {
    "dict_type": "须为 JSON 对象",
    "list_type": "须为数组",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "greater_than_equal": "须不小于 {ge}",
    "less_than_equal": "须不大于 {le}",
    "greater_than": "须大于 {gt}",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_too_short": "过短（至少 {min_length} 个字符）",
    "too_long": "过多（最多 {max_length} 项）",
}


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    items = []
    for err in exc.errors()[:20]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body",))
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            msg = "不支持的字段"
        elif kind == "missing":
            msg = "缺少必填字段"
        elif kind == "json_invalid":
            # FastAPI locates it as ("body", character offset): say where, not a bare number
            offset = next((x for x in err.get("loc", ()) if isinstance(x, int)), None)
            loc = ""
            msg = "不是合法的 JSON" + (
                f"（约在第 {offset + 1} 个字符处）" if offset is not None else ""
            )
        elif kind == "control_character":
            msg = "含有不允许的控制字符（如 NUL）"
        elif kind == "dict_type" and not loc:  # the body itself: not JSON, or not an object
            msg = "须为 JSON 对象（Content-Type: application/json）"
        else:
            try:
                msg = _KIND_MESSAGES.get(kind, "取值不正确").format(**(err.get("ctx") or {}))
            except (KeyError, IndexError, ValueError):  # a context without the bound named
                msg = "取值不正确"
        items.append({"field": loc, "message": msg, "type": kind})
    first = items[0] if items else {"field": "", "message": "请求参数不正确"}
    return f"请求参数不正确：{first['field'] or '请求体'} {first['message']}。", items


def allowed_methods(request: Request) -> str:
    """Every method some route of this path answers (RFC 9110 §15.5.6), for a 405's ``Allow``:
    each method is tried against the routes (included routers too) the way routing would."""
    from starlette.routing import Match

    methods = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        scope = {**request.scope, "method": method}
        for route in request.app.router.routes:
            try:
                match, _ = route.matches(scope)
            except Exception:  # noqa: BLE001 - a route that cannot judge this scope is no answer
                continue
            if match == Match.FULL and (
                getattr(route, "methods", None) is not None
                or hasattr(route, "effective_candidates")
            ):
                methods.append(method)
                break
    return ", ".join(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if getattr(exc, "headers", None):  # e.g. Retry-After of login_throttled
            headers = {**(headers or {}), **exc.headers}
        extra: dict[str, Any] = {}
        if exc.problems:
            extra["problems"] = [p.to_dict() for p in exc.problems]
        if exc.code == "version_conflict":
            extra["current_version"] = getattr(exc, "current", None)
        extra.update(getattr(exc, "extra", None) or {})  # e.g. claimed_by of claimed_by_other
        return problem(exc.status, exc.code, exc.message, request=request, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, items = _validation_message(exc)
        return problem(422, "invalid_request", message, request=request, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if (
            exc.status_code == 405
        ):  # Starlette's Allow names the first matching route's methods only
            exc.headers = {
                **(getattr(exc, "headers", None) or {}),
                "Allow": allowed_methods(request),
            }
        html_error = getattr(request.app.state, "html_error", None)  # set by the console
        if html_error is not None:
            page = html_error(request, exc.status_code, getattr(exc, "headers", None))
            if page is not None:
                return page
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "请求无法处理。"))
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            code, message = exc.detail["code"], exc.detail.get("message", message)
        return problem(
            exc.status_code, code, message, request=request, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error on %s %s: %s",
            request.method,
            request.url.path,
            scrub(repr(exc)),
            exc_info=exc,
        )
        return problem(500, "internal_error", "服务器内部错误，请稍后重试。", request=request)


#: Records files for import (admin only) are streamed to disk and may be far larger (issue 9).
IMPORT_PATHS = frozenset({"/api/v1/admin/imports", "/admin/imports"})
IMPORT_BODY_LIMIT = 2 * 1024 * 1024 * 1024


_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _may_have_body(scope: dict) -> bool:
    """Does the request announce a body (HTTP/1.1: Content-Length or Transfer-Encoding)?"""
    for key, _ in scope.get("headers") or []:
        if key in (b"content-length", b"transfer-encoding"):
            return True
    return False


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes, declared or streamed (pure ASGI middleware)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("method") in _NO_BODY_METHODS and not _may_have_body(scope):
            await self.app(scope, receive, send)  # nothing to count: no wrapping per GET
            return
        if scope.get("path") in IMPORT_PATHS and scope.get("method") == "POST":
            await BodyLimit(self.app, IMPORT_BODY_LIMIT)._limited(scope, receive, send)
            return
        await self._limited(scope, receive, send)

    async def _limited(self, scope: dict, receive: Any, send: Any) -> None:
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(scope, receive, send)
                return
        seen, exceeded = 0, False

        async def limited() -> dict:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded(message: dict) -> None:
            # Past the limit the app only answers the exception it saw (FastAPI turns an error
            # while reading the body into a 400): that answer is dropped and ours sent instead.
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except _TooLarge:
            pass
        if exceeded:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        response = problem(
            413, "request_too_large", f"请求体超过 {self.limit // (1024 * 1024)} MB 上限。"
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
