"""Door checks that run before a request body is read (pure ASGI, outside FastAPI's routing).

FastAPI reads and parses a request's body before it resolves the route's dependencies, so the
bearer check used to run only after the whole body had been parsed: an anonymous PATCH with a
62 MB JSON object of 4 M keys kept a worker busy for seconds, before its 401. This guard
answers first:

1. an API request that needs an account and carries a body is authenticated here, from its
   ``Authorization`` header alone, before one body byte is read (401 without reading the body);
2. a body that is not a multipart upload (JSON, a form, anything) is capped at
   ``settings.max_json_bytes`` (about 1 MB) — declared or streamed — with 413
   ``request_too_large``. Multipart uploads keep their own, larger limits (``BodyLimit`` and the
   per-kind caps of the upload endpoints).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from beiandesk.domain.errors import DomainError
from beiandesk.domain.text import first_forbidden_char
from beiandesk.entrypoints.api.problems import problem

#: API paths that take a body without a bearer token: logging in, the authority's signed callback.
PUBLIC_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/authority/callback"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: ``scope["state"]`` key of ``(token, Account)`` the guard resolved for this request.
ACCOUNT_STATE = "beiandesk.account"


class _TooLarge(Exception):
    pass


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value
    return None


def replaying(body: bytes, receive: Any) -> Any:
    """An ASGI ``receive`` that gives the body already read, whole, once — then the
    connection's own messages (a disconnect) as before."""
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestGuard:
    """Authenticate API writes before their body is read; cap non-upload bodies."""

    def __init__(self, app: Any, deps: Any, json_limit: int) -> None:
        self.app, self.deps, self.json_limit = app, deps, json_limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_controls(scope.get("query_string") or b"") or first_forbidden_char(
            scope.get("path", "")
        ):
            await _control_refusal(scope)(scope, _no_body, send)
            return
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/api/") and path not in PUBLIC_PATHS:
            refusal = await self._authenticate(scope)
            if refusal is not None:
                await refusal(scope, _no_body, send)
                return
        ctype = (_header(scope, b"content-type") or b"").split(b";", 1)[0].strip().lower()
        if ctype == b"multipart/form-data":
            await self.app(scope, receive, send)  # uploads: their own limits
            return
        if ctype == b"application/x-www-form-urlencoded":
            await self._form(scope, receive, send)
            return
        await self._capped(scope, receive, send)

    async def _form(self, scope: dict, receive: Any, send: Any) -> None:
        """A url-encoded form (login, console forms): at most the cap, read once, and refused
        with 422 when a field holds a control character (``%00``…) — the multipart and JSON
        fields are checked by their own validation."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.json_limit:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_controls(body):
            await _control_refusal(scope)(scope, _no_body, send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _authenticate(self, scope: dict) -> Any:
        from beiandesk.services import auth

        value = (_header(scope, b"authorization") or b"").decode("latin-1").strip()
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            exc: DomainError = auth.Unauthorized()
        else:
            try:
                # A point read, like the routes' (``Deps.inline_reads``): a thread hop per
                # write cost more than the read itself.
                if self.deps.async_reads is not None:  # PostgreSQL: awaited
                    account = await auth.account_for_token_async(self.deps, token.strip())
                elif self.deps.inline_reads:
                    account = auth.account_for_token(self.deps, token.strip())
                else:
                    account = await run_in_threadpool(
                        auth.account_for_token, self.deps, token.strip()
                    )
                # The route's ``current_account`` reuses it: one session read per write, not two.
                scope.setdefault("state", {})[ACCOUNT_STATE] = (token.strip(), account)
                return None
            except DomainError as refused:
                exc = refused
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(
            exc.status, exc.code, exc.message, headers=headers, instance=scope.get("path", "")
        )

    async def _capped(self, scope: dict, receive: Any, send: Any) -> None:
        limit = self.json_limit
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(scope, send)
                return
        seen, exceeded, started = 0, False, False

        async def limited() -> dict:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded(message: dict) -> None:
            nonlocal started
            # Past the limit the app only answers the error it saw while reading: drop that.
            if not exceeded:
                started = True
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except _TooLarge:
            pass
        if exceeded and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: dict, send: Any) -> None:
        mb = max(1, self.json_limit // (1024 * 1024))
        response = problem(
            413,
            "request_too_large",
            f"请求体超过 {mb} MB 上限（上传文件请用 multipart/form-data）。",
            instance=scope.get("path", ""),
        )
        await response(scope, _no_body, send)


def _has_controls(raw: bytes) -> bool:
    """Does a url-encoded string (query string, form body) hold a forbidden character?"""
    if not raw:
        return False
    decoded = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")
    return first_forbidden_char(decoded) is not None


def _control_refusal(scope: dict) -> Any:
    message = "请求参数不正确：含有不允许的控制字符（如 NUL）。"
    path = scope.get("path", "")
    if path.startswith("/api/") or "application/json" in (_header(scope, b"accept") or b"").decode(
        "latin-1"
    ):
        return problem(422, "invalid_request", message, instance=path)
    return HTMLResponse(
        f"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>请求无效</title>"
        f'<p>{message}</p><p><a href="/">返回首页</a></p></html>',
        status_code=422,
    )


async def _no_body() -> dict:
    return {"type": "http.disconnect"}


def require_metrics_reader(request: Any) -> None:
    """``/metrics`` shows orders by state, outbox counts and per-route counts: an admin's bearer
    token or ``settings.metrics_token`` (a scraper's), nothing else (401 / 403)."""
    import hmac

    from beiandesk.services import auth

    deps = request.app.state.deps
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise auth.Unauthorized()
    expected = deps.settings.metrics_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    auth.require_admin(auth.account_for_token(deps, token))
