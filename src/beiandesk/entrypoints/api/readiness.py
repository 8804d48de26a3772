"""``GET /readyz``: 200 when the database, the file store and the gateway answer, else 503.

``/healthz`` says the process lives; ``/readyz`` says it can serve — what haproxy checks before
sending a node traffic (deploy/haproxy.cfg).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from beiandesk.adapters import readiness

router = APIRouter(tags=["ops"])


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    app = request.app.state.app
    settings = app.settings
    gateway_url = (
        settings.gateway_url if settings.gateway_url and settings.gateway_url != "desk" else None
    )
    checks: dict[str, Any] = {
        "database": readiness.database(app.engine),
        "storage": readiness.file_store(app.deps.files),
        "gateway": readiness.gateway(gateway_url, 1.5)
        if gateway_url and app.deps.gateway is not None
        else None,
    }
    results = await run_in_threadpool(readiness.run, checks, 2.0)
    ready = all(r["ok"] for r in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": results},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
