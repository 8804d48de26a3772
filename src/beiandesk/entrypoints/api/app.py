"""The ASGI application: API routers, problem handlers, health and metrics.

``create_app`` takes an already-built ``bootstrap.App``; ``on_startup``/``on_shutdown`` hooks
let ``serve`` start the in-process worker and the demo sandbox's ticker with the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from beiandesk import __version__
from beiandesk.bootstrap import App
from beiandesk.domain.states import ChangeState
from beiandesk.entrypoints.api import problems, routes_changes, routes_records
from beiandesk.services import review

API_BODY_LIMIT = 64 * 1024 * 1024


def add_routes(api: FastAPI, router: APIRouter) -> None:
    """Put a module's routes into the app's own route table, in order.

    ``include_router`` (FastAPI 0.16x) keeps each included router as one branch of the table:
    a request is matched against the branch's routes twice (once to choose the branch, once
    inside it), each match through a per-route context wrapper. That routing was a sixth of a
    ``GET /api/v1/websites/{id}`` (profiled here). Our routers set their prefix, tags and route
    class where each route is declared, so the routes stand alone; a router with anything that
    only ``include_router`` would apply (its own dependencies, callbacks, default response
    class, lifespan) is refused rather than silently changed.
    """
    if router.dependencies or router.callbacks or router.on_startup or router.on_shutdown:
        raise ValueError("add_routes: this router needs include_router")
    api.router.routes.extend(router.routes)


def telemetry_options(environ: Any = None) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry hook (0.16x) asks the global providers on every request
    whether to trace — reading the environment each time: 3 % of a ``GET`` here. beiandesk's
    figures are its Prometheus ``/metrics``; when OpenTelemetry is set up for the process (any
    ``OTEL_*`` variable, as ``opentelemetry-instrument`` sets them), FastAPI's default stays."""
    import inspect
    import os

    env = os.environ if environ is None else environ
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # an older FastAPI: it has no such hook
    if any(key.startswith("OTEL_") for key in env):
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(
    app: App,
    *,
    on_startup: list[Callable[[], Any]] | None = None,
    on_shutdown: list[Callable[[], Any]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        for fn in on_startup or []:
            fn()
        yield
        for fn in reversed(on_shutdown or []):
            fn()

    api = FastAPI(
        title="beiandesk",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="ICP 备案服务平台 — 网站变更（接入商）。错误均为 RFC 9457 problem JSON，含 `code`。",
        **telemetry_options(),
    )
    api.state.deps = app.deps
    api.state.app = app
    problems.install(api)
    # The busiest routers first: a request walks the route table in order (the docs, metrics
    # and health routes before them cost every API request a dozen failed matches).
    add_routes(api, routes_records.router)
    add_routes(api, routes_changes.router)
    from beiandesk.entrypoints.api import routes_review

    add_routes(api, routes_review.router)
    from beiandesk.entrypoints.api import routes_accounts

    add_routes(api, routes_accounts.router)
    from beiandesk.entrypoints.api import routes_imports

    add_routes(api, routes_imports.router)
    from beiandesk.entrypoints.api import routes_desk, routes_webhooks

    add_routes(api, routes_desk.router)
    add_routes(api, routes_webhooks.router)
    from beiandesk.entrypoints.api import routes_claims, routes_forms

    add_routes(api, routes_forms.router)
    add_routes(api, routes_claims.router)
    from beiandesk.entrypoints.api import docs, readiness

    add_routes(api, readiness.router)

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    docs.install(api)  # /docs and /redoc with packaged assets: they work offline
    docs.install_problem_docs(api)  # every 4xx documented as application/problem+json (Problem)
    _metrics(api)
    from beiandesk.entrypoints.api.guard import RequestGuard

    api.add_middleware(RequestGuard, deps=app.deps, json_limit=app.settings.max_json_bytes)
    api.add_middleware(
        problems.BodyLimit,
        limit=max(API_BODY_LIMIT, app.settings.max_verification_bytes + 1024 * 1024),
    )
    return api


def _metrics(api: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "beiandesk_http_requests_total",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "beiandesk_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )
    orders = Gauge(
        "beiandesk_change_orders", "Change orders by state", ["state"], registry=registry
    )
    outbox = Gauge(
        "beiandesk_outbox_rows",
        "Outbox rows (notifications, gateway calls) by status",
        ["status"],
        registry=registry,
    )

    api.add_middleware(
        _RequestMetrics,
        requests=requests,
        latency=latency,
        read_scope=api.state.deps.read_scope,
    )

    @api.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        from beiandesk.entrypoints.api.guard import require_metrics_reader

        require_metrics_reader(request)
        figures = review.stats(request.app.state.deps)
        for state in ChangeState:
            orders.labels(str(state)).set(figures["changes"].get(str(state), 0))
        from beiandesk.domain.outbox_states import STATUSES as OUTBOX_STATUSES

        for status in OUTBOX_STATUSES:
            outbox.labels(status).set(figures["outbox"].get(status, 0))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _RequestMetrics:
    """Count and time requests by route template, and give each request one shared read
    transaction (``Deps.read_scope``: the session check and the route's reads use one
    connection). Pure ASGI: a ``BaseHTTPMiddleware`` would re-stream every request body, which
    doubled the cost of a PATCH."""

    def __init__(
        self, app: Any, requests: Counter, latency: Histogram, read_scope: Callable[[], Any]
    ) -> None:
        self.app, self.requests, self.latency = app, requests, latency
        self.read_scope = read_scope
        # The labelled children, looked up once per label set: ``labels()`` validates and
        # joins its label values under a lock on every call (two per request).
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with self.read_scope():
                await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            key = (scope["method"], route, str(status))
            counted = self._counted.get(key)
            if counted is None:
                counted = self._counted[key] = self.requests.labels(*key)
            counted.inc()
            timed = self._timed.get(route)
            if timed is None:
                timed = self._timed[route] = self.latency.labels(route)
            timed.observe(time.perf_counter() - start)
