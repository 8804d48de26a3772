"""The authority sandbox as an ASGI app (api.md §Authority sandbox).

Two ways to host it, same URLs (everything under ``/sandbox``):

* inside beiandesk (``serve --demo``)::

      sandbox_app = create_sandbox_app(settings)
      app.mount("/sandbox", sandbox_app)
      # in the main app's lifespan — a mounted app's own lifespan never runs:
      sandbox_app.state.sandbox.start()   # ticker + callback threads; idempotent
      ...
      sandbox_app.state.sandbox.stop()

* on its own (``beiandesk sandbox --port 8100``): ``run_standalone(settings, host, port)``,
  which mounts the same app at ``/sandbox`` and starts/stops it in its lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount, Route

from beiandesk.sandbox.api import build_api, problem
from beiandesk.sandbox.model import ClockFn, SandboxError
from beiandesk.sandbox.pages import build_pages
from beiandesk.sandbox.inventory import build_inventory
from beiandesk.sandbox.registry import build_registry
from beiandesk.sandbox.runtime import Sandbox, build_sandbox

if TYPE_CHECKING:
    from beiandesk.config import Settings

PREFIX = "/sandbox"


def create_sandbox_app(
    settings: Settings,
    *,
    mount_prefix: str = PREFIX,
    clock: ClockFn | Any | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """The sandbox app, routes relative to where it is mounted (``mount_prefix``).

    ``public_url`` is the sandbox's address for people (the SMS links to its verify page);
    default ``settings.public_url + mount_prefix``. ``clock`` (a callable or a ``Clock``) drives
    the SMS delay and window; tests inject a fake. Needs ``gateway_secret`` or ``secret_key``.
    ``app.state.sandbox`` is the ``runtime.Sandbox``; ``app.state.start_ticker`` /
    ``stop_ticker`` are its ``start`` / ``stop``.
    """
    sb = build_sandbox(
        settings,
        clock=clock,
        public_url=public_url or settings.public_url.rstrip("/") + mount_prefix,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Runs only when this app is served directly (or under a test client), not mounted.
        sb.start()
        try:
            yield
        finally:
            await run_in_threadpool(sb.stop)

    app = FastAPI(
        title="beiandesk 管局沙箱（非真实工信部系统）",
        version="1",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.sandbox = sb
    app.state.start_ticker = sb.start
    app.state.stop_ticker = sb.stop
    app.include_router(build_api(sb))
    app.include_router(build_pages(sb))
    app.include_router(build_registry())
    app.include_router(build_inventory())
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SandboxError)
    async def sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(422, "invalid_request", "请求内容不完整或格式不正确。", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else "http_error"
        return problem(exc.status_code, code, str(exc.detail))


def create_standalone_app(
    settings: Settings, *, clock: ClockFn | Any | None = None, public_url: str | None = None
) -> Starlette:
    """The sandbox alone, still under ``/sandbox`` so URLs match the mounted mode."""
    inner = create_sandbox_app(settings, clock=clock, public_url=public_url)
    sb: Sandbox = inner.state.sandbox

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sb.start()
        try:
            yield
        finally:
            await run_in_threadpool(sb.close)

    async def home(_: Request) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    app = Starlette(routes=[Route("/", home), Mount(PREFIX, app=inner)], lifespan=lifespan)
    app.state.sandbox = sb
    return app


def run_standalone(settings: Settings, host: str = "127.0.0.1", port: int = 8100) -> None:
    """Serve the sandbox alone (``beiandesk sandbox --port``) until interrupted."""
    import uvicorn

    link_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in link_host:
        link_host = f"[{link_host}]"
    app = create_standalone_app(settings, public_url=f"http://{link_host}:{port}{PREFIX}")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
