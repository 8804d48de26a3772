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
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
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
            openapi_url=f"{root}{api.openapi_url}", title=f"{api.title} — API 文档",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=api.swagger_ui_parameters)

    @api.get(redirect, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{api.openapi_url}", title=f"{api.title} — API 文档（ReDoc）",
                              redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False)
