"""The provider's resource inventory, played by the sandbox for the demo resources.

The same JSON contract a real provider implements (``adapters/inventory.py``): under the
sandbox, ``GET /sandbox/inventory/instances/{instance_id}`` and ``…/instances?public_ip=``.
It knows the demo websites' servers and two more that do not qualify (pay-as-you-go, Hong Kong),
so a demo can show ``resource_mismatch`` and the resource rules on the provider's facts.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from beiandesk import demo_data

EXTRA = (
    {
        "instance_id": "ins-gzpostpd",
        "kind": "cvm",
        "region": "ap-guangzhou",
        "public_ip": "119.29.100.99",
        "billing": "postpaid",
        "purchased_at": "2026-06-01",
        "expires_at": None,
    },
    {
        "instance_id": "ins-hk8a1b2c",
        "kind": "cvm",
        "region": "ap-hongkong",
        "public_ip": "43.128.10.20",
        "billing": "prepaid",
        "purchased_at": "2026-01-05",
        "expires_at": "2028-01-05",
    },
)


@lru_cache(maxsize=1)
def instances() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for subject in demo_data.SUBJECTS:
        for site in subject.get("websites", []):
            r = site.get("resource") or {}
            if r.get("instance_id"):
                out[r["instance_id"]] = {
                    "instance_id": r["instance_id"],
                    "kind": r["kind"],
                    "region": r["region"],
                    "public_ip": r["public_ip"],
                    "billing": r["billing"],
                    "purchased_at": r["purchased_at"],
                    "expires_at": r["expires_at"],
                    "owner": subject.get("account", ""),
                }
    for r in EXTRA:
        out[r["instance_id"]] = {**r, "owner": ""}
    return out


def build_inventory() -> APIRouter:
    router = APIRouter(prefix="/inventory", tags=["resource inventory"])

    @router.get("/instances/{instance_id}")
    def instance(instance_id: str) -> JSONResponse:
        found = instances().get(instance_id)
        if found is None:
            return JSONResponse({"code": "not_found", "detail": "没有这个实例"}, status_code=404)
        return JSONResponse(found)

    @router.get("/instances")
    def by_ip(public_ip: str = Query(..., max_length=64)) -> dict[str, list[dict[str, Any]]]:
        return {"items": [i for i in instances().values() if i["public_ip"] == public_ip.strip()]}

    return router
