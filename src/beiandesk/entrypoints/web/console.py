"""The web console: server-rendered pages over the same services as the API.

``install`` adds the pages (``/``, ``/login``, ``/websites/…``, ``/changes/…``, ``/review/…``,
``/admin``, ``/terms``, ``/privacy``) and ``/static`` to the API's FastAPI app. The pages work
without JavaScript; ``static/console.js`` (drag and drop, previews) and htmx (live checks) only
make them quicker to use.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from beiandesk.bootstrap import App
from beiandesk.entrypoints.api.app import add_routes
from beiandesk.entrypoints.web import (
    routes_admin,
    routes_flow,
    routes_home,
    routes_materials,
    routes_review,
)
from beiandesk.entrypoints.web.session import Signer


def install(api: FastAPI, app: App) -> None:
    if not app.settings.secret_key:  # bootstrap.build always fills it; a bare Settings does not
        raise ValueError("the console needs settings.secret_key to sign its session cookie")
    api.state.console_signer = Signer(app.settings.secret_key, "session")
    from beiandesk.entrypoints.web.error_pages import html_error

    api.state.html_error = html_error  # unknown console URLs: an HTML page, not problem JSON
    api.state.deps = app.deps
    api.state.app = app
    static = files("beiandesk.entrypoints.web") / "static"
    api.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (routes_home, routes_flow, routes_materials, routes_review, routes_admin):
        add_routes(api, module.router)
    from beiandesk.entrypoints.web import routes_accounts  # issue 9: 账号管理, 审计日志, 修改密码

    add_routes(api, routes_accounts.router)
    from beiandesk.entrypoints.web import routes_desk, routes_webhooks

    add_routes(api, routes_desk.router)
    add_routes(api, routes_webhooks.router)
    from beiandesk.entrypoints.web import routes_claims, routes_forms, routes_reports

    add_routes(api, routes_claims.router)
    add_routes(api, routes_forms.router)
    add_routes(api, routes_reports.router)
    from beiandesk.entrypoints.web import routes_imports  # issue 9: 导入备案记录

    add_routes(api, routes_imports.router)
