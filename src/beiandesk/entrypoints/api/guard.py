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

from starlette.concurrency import run_in_threadpool

from beiandesk.domain.errors import DomainError
from beiandesk.entrypoints.api.problems import problem

#: API paths that take a body without a bearer token: logging in, the authority's signed callback.
PUBLIC_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/authority/callback"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _TooLarge(Exception):
    pass


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value
    return None


class RequestGuard:
    """Authenticate API writes before their body is read; cap non-upload bodies."""

    def __init__(self, app: Any, deps: Any, json_limit: int) -> None:
        self.app, self.deps, self.json_limit = app, deps, json_limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
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
        await self._capped(scope, receive, send)

    async def _authenticate(self, scope: dict) -> Any:
        from beiandesk.services import auth

        value = (_header(scope, b"authorization") or b"").decode("latin-1").strip()
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            exc: DomainError = auth.Unauthorized()
        else:
            try:
                await run_in_threadpool(auth.account_for_token, self.deps, token.strip())
                return None
            except DomainError as refused:
                exc = refused
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(exc.status, exc.code, exc.message, headers=headers, instance=scope.get("path", ""))

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
        response = problem(413, "request_too_large",
                           f"请求体超过 {mb} MB 上限（上传文件请用 multipart/form-data）。",
                           instance=scope.get("path", ""))
        await response(scope, _no_body, send)


async def _no_body() -> dict:
    return {"type": "http.disconnect"}


def require_metrics_reader(request: Any) -> None:
    """``/metrics`` shows orders by state, outbox counts and per-route counts: an admin's bearer
    token or ``settings.metrics_token`` (a scraper's), nothing else (401 / 403)."""
    import hmac

    from beiandesk.domain.errors import Forbidden
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
