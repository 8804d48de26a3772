"""``add_routes`` (entrypoints/api/app.py): a module's routes go into the app's own route table,
in order, and answer as they would through ``include_router``; a router carrying something only
``include_router`` would apply is refused instead of silently dropped."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from beiandesk.entrypoints.api.app import add_routes


def _router(**kwargs) -> APIRouter:  # noqa: ANN003
    r = APIRouter(prefix="/api/v1", tags=["t"], **kwargs)

    @r.get("/things/{thing_id}")
    def thing(thing_id: int) -> dict:
        return {"id": thing_id}

    @r.get("/things/{thing_id}/parts")
    def parts(thing_id: int) -> list:
        return [thing_id]

    return r


def test_routes_are_flat_in_order_and_answer_like_included_ones() -> None:
    flat, included = FastAPI(), FastAPI()
    add_routes(flat, _router())
    included.include_router(_router())
    paths = [getattr(r, "path", None) for r in flat.router.routes]
    assert paths[-2:] == ["/api/v1/things/{thing_id}", "/api/v1/things/{thing_id}/parts"]
    for app in (flat, included):
        client = TestClient(app)
        assert client.get("/api/v1/things/7").json() == {"id": 7}
        assert client.get("/api/v1/things/7/parts").json() == [7]
        assert client.get("/api/v1/things/x").status_code == 422
    assert flat.openapi()["paths"] == included.openapi()["paths"]


def test_a_router_with_its_own_dependencies_is_refused() -> None:
    def dep() -> None:
        return None

    with pytest.raises(ValueError):
        add_routes(FastAPI(), _router(dependencies=[Depends(dep)]))


def test_fastapis_telemetry_hook_is_off_unless_opentelemetry_is_set_up() -> None:
    from beiandesk.entrypoints.api.app import telemetry_options

    off = telemetry_options({"PATH": "/usr/bin"})
    assert off in ({}, {"telemetry": {"tracing": False, "metrics": False, "logs": False}})
    assert telemetry_options({"OTEL_SERVICE_NAME": "beiandesk"}) == {}
    if off:  # a FastAPI with the hook accepts the options
        assert FastAPI(**off).openapi()["info"]
