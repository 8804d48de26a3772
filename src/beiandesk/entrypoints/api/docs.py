"""``/docs`` (Swagger UI) and ``/redoc`` served offline.

FastAPI's own pages load Swagger UI, ReDoc, a Google font and a favicon from CDNs, so the API
documentation was blank on a machine without internet. The assets come from the
``fastapi-offline`` package (MIT; it ships ``swagger-ui-bundle.js``, ``swagger-ui.css`` and
``redoc.standalone.js``) and are served here under ``/docs-assets``; the pages reference
nothing else. The console's favicon stands in for FastAPI's.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"


def _assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def install(api: FastAPI) -> None:
    """Add ``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their assets to ``api`` (created
    with ``docs_url=None, redoc_url=None``)."""
    api.mount(ASSETS_URL, StaticFiles(directory=str(_assets_dir())), name="docs-assets")
    redirect = "/docs/oauth2-redirect"

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} — API 文档",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=api.swagger_ui_parameters,
        )

    @api.get(redirect, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} — API 文档（ReDoc）",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


# ---------------------------------------------------------------- problems in the OpenAPI document

PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable (api.md §Problem codes), `message` is Chinese.",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "description": "稳定的问题代码，例如 `version_conflict`"},
        "message": {"type": "string", "description": "中文说明"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "code": {"type": "string"},
                    "severity": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            },
        },
        "errors": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    },
    "required": ["type", "title", "status", "code", "message"],
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "请求格式不正确",
    "401": "未登录、令牌无效或已过期（`unauthorized`）",
    "403": "无权执行（`forbidden` 等）",
    "404": "不存在或无权访问（`not_found`）",
    "409": "状态不允许（如 `change_in_progress`、`not_editable`）",
    "412": "版本已变（`version_conflict`）",
    "413": "请求体过大（`request_too_large`；非上传请求上限约 1 MB）",
    "422": "参数或规则不通过（`invalid_request` 及各规则代码）",
    "428": "缺少 `If-Match`（`precondition_required`）",
    "429": "请求过于频繁（`login_throttled` 等）",
}


def _problem_response(status: str) -> dict:
    return {
        "description": _DESCRIPTIONS.get(status, "请求无法处理"),
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _statuses(path: str, method: str, op: dict, public: bool) -> list[str]:
    out = ["400", "422"]
    if not public:
        out += ["401", "403"]
    if "{" in path:
        out.append("404")
    if method in {"post", "put", "patch", "delete"}:
        out += ["409", "413"]
    if method == "patch" and path.startswith("/api/v1/changes/"):
        out += ["412", "428"]
    if path == "/api/v1/auth/token":
        out.append("429")
    return out


def install_problem_docs(api: FastAPI) -> None:
    """Every operation documents its 4xx answers as ``application/problem+json`` with one shared
    ``Problem`` schema (FastAPI documents only a 422 ``HTTPValidationError`` as JSON)."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if api.openapi_schema:
            return api.openapi_schema
        spec = get_openapi(
            title=api.title,
            version=api.version,
            description=api.description,
            routes=api.routes,
            openapi_version=api.openapi_version,
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                public = (
                    "security" not in op
                    and not path.startswith("/api/v1/")
                    or path in {"/api/v1/auth/token", "/api/v1/authority/callback"}
                )
                responses = op["responses"]
                for status in _statuses(path, method, op, public):
                    responses[status] = _problem_response(status)
                for status in list(responses):
                    if status.startswith("4") or status.startswith("5"):
                        responses[status] = {
                            **_problem_response(status),
                            "description": responses[status].get("description")
                            or _DESCRIPTIONS.get(status, ""),
                        }
        api.openapi_schema = spec
        return spec

    api.openapi = openapi  # type: ignore[method-assign]
