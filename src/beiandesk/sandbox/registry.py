"""A demo domain registry (RDAP, RFC 9083) and the demo websites' home pages.

For the demo data only (``beiandesk.demo_data``), so that the whole flow, pre-check included,
passes on a machine with no internet access (api.md §Authority sandbox). RDAP has no member
for the facts a filing needs (domestic registrar, real-name verification), so the answer adds
a non-standard ``beiandesk_facts`` member, as RFC 9083 §2.1 allows for extensions.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from beiandesk import demo_data
from beiandesk.sandbox.pages import base_path, render

RDAP_MEDIA_TYPE = "application/rdap+json"
_CONFORMANCE = ["rdap_level_0"]
_NOTICE = {
    "title": "beiandesk 沙箱注册局",
    "description": ["演示数据，仅供 beiandesk 沙箱使用，非真实注册信息。"],
}


def _vcard(fn: str, org: str | None = None) -> list[Any]:
    props: list[Any] = [["version", {}, "text", "4.0"], ["fn", {}, "text", fn]]
    if org:
        props.append(["org", {}, "text", org])
    return ["vcard", props]


def rdap_domain(name: str) -> dict[str, Any] | None:
    """The RDAP domain object of a demo domain, or None."""
    found = demo_data.DOMAIN_FACTS.get(name)
    if found is None:
        return None
    facts: dict[str, Any] = dict(found)
    handle = "SBX-" + name.upper().replace(".", "-")
    return {
        "rdapConformance": _CONFORMANCE,
        "objectClassName": "domain",
        "handle": handle,
        "ldhName": name,
        "status": ["active"],
        "events": [
            {"eventAction": "registration", "eventDate": f"{facts['registered_at']}T00:00:00Z"},
            {"eventAction": "expiration", "eventDate": f"{facts['expires_at']}T00:00:00Z"},
        ],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": handle + "-REGISTRAR",
                "roles": ["registrar"],
                "vcardArray": _vcard(facts["registrar"]),
            },
            {
                "objectClassName": "entity",
                "handle": handle + "-REGISTRANT",
                "roles": ["registrant"],
                "vcardArray": _vcard(facts["holder"], facts["holder"]),
            },
        ],
        "notices": [_NOTICE],
        "beiandesk_facts": {
            "registrar_domestic": facts["registrar_domestic"],
            "real_name_verified": facts["real_name_verified"],
            "holder": facts["holder"],
        },
    }


@lru_cache(maxsize=1)
def _sites() -> dict[str, dict[str, str]]:
    """domain → the site's name, subject and footer filing number."""
    numbers = demo_data.website_filing_numbers()
    out: dict[str, dict[str, str]] = {}
    subjects: list[dict[str, Any]] = demo_data.SUBJECTS
    for subject in subjects:
        for site in subject["websites"]:
            for domain in site["domains"]:
                out[domain] = {
                    "name": str(site["name"]),
                    "subject": str(subject["name"]),
                    "filing_number": numbers[domain],
                    "domain": domain,
                }
    return out


def site_for_host(host: str) -> dict[str, str] | None:
    """The demo site a host name belongs to (``www.`` and other subdomains included)."""
    host = host.strip().lower().rstrip(".")
    for domain, site in _sites().items():
        if host == domain or host.endswith("." + domain):
            return site
    return None


def build_registry() -> APIRouter:
    router = APIRouter()

    @router.get("/rdap/domain/{name}")
    def rdap(name: str) -> Response:
        """RDAP domain look-up for the demo domains; RFC 9083 error object otherwise."""
        body = rdap_domain(name.strip().lower().rstrip("."))
        if body is None:
            body = {
                "rdapConformance": _CONFORMANCE,
                "errorCode": 404,
                "title": "Not Found",
                "description": [f"{name} 不在 beiandesk 沙箱注册局的演示数据中。"],
            }
            return JSONResponse(body, status_code=404, media_type=RDAP_MEDIA_TYPE)
        return JSONResponse(body, media_type=RDAP_MEDIA_TYPE)

    @router.get("/sites/{host}", include_in_schema=False)
    def site_root(request: Request, host: str) -> Response:
        return RedirectResponse(f"{base_path(request)}/sites/{host}/", status_code=308)

    @router.get("/sites/{host}/", response_class=HTMLResponse, include_in_schema=False)
    def site(request: Request, host: str) -> HTMLResponse:
        """The demo website's home page, footer with its filing number linked to MIIT."""
        found = site_for_host(host)
        if found is None:
            return render(request, "site_missing.html", 404, host=host)
        return render(request, "site.html", site=found)

    return router
