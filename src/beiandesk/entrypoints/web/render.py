"""Templates, redirects and the headers every console page carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from beiandesk import __version__
from beiandesk.domain.change import AUTHORITY_REASONS
from beiandesk.domain.materials_files import MATERIAL_KINDS
from beiandesk.domain.provinces import material_rules
from beiandesk.domain.states import LABELS, STEPS
from beiandesk.domain.workdays import FIRST_REVIEW_WORKING_DAYS
from beiandesk.entrypoints.web import session

CHINA = timezone(timedelta(hours=8))

#: Pages are built from our own files only: no inline script, no third-party origin.
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; object-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

ROLE_LABELS = {"applicant": "申请人", "reviewer": "审核专员", "admin": "管理员"}
OUTCOME_LABELS = {"reached": "已接通", "unreachable": "未接通"}
FIELD_LABELS = {
    "name": "网站名称",
    "domains": "域名",
    "home_url": "首页地址",
    "content_categories": "服务内容",
    "principal": "网站负责人",
    "resource": "接入资源",
}
PRINCIPAL_LABELS = {
    "name": "姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "mobile": "手机号码",
    "email": "电子邮箱",
}
RESOURCE_LABELS = {
    "kind": "资源类型",
    "region": "地域",
    "public_ip": "公网 IP",
    "billing": "计费方式",
    "purchased_at": "购买日期",
    "expires_at": "到期日期",
    "instance_id": "实例 ID",
    "auth_code": "备案授权码",
}
VALUE_LABELS = {
    "resident_id": "居民身份证",
    "hmt_residence_permit": "港澳台居民居住证",
    "foreign_permanent_resident": "外国人永久居留身份证",
    "cvm": "云服务器",
    "lighthouse": "轻量应用服务器",
    "serverless": "云函数资源包",
    "cloudbase": "云托管资源包",
    "prepaid": "包年包月",
    "postpaid": "按量计费",
    "personal": "个人",
    "enterprise": "企业",
    "open": "打开",
    "closed": "已关闭",
}


def cst(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people in China read it (UTC+8)."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CHINA).strftime(fmt)


def _value(v: Any) -> str:
    if v is None or v == "" or v == []:
        return "—"
    if isinstance(v, (list, tuple)):
        return "、".join(str(x) for x in v) or "—"
    return VALUE_LABELS.get(str(v), str(v))


#: The admin's pages, one row under the header (scrolls sideways on a phone instead of wrapping).
ADMIN_LINKS = (
    ("accounts", "/admin/accounts", "账号管理"),
    ("imports", "/admin/imports", "导入记录"),
    ("admin", "/admin", "通知与任务"),
    ("webhooks", "/admin/webhooks", "网络钩子"),
    ("reports", "/admin/reports", "运营报表"),
    ("audit", "/admin/audit", "审计日志"),
)


@lru_cache(maxsize=1)
def env() -> Environment:
    e = Environment(
        loader=PackageLoader("beiandesk.entrypoints.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.filters["cst"] = cst
    e.filters["value"] = _value
    e.globals.update(
        state_labels={str(k): v for k, v in LABELS.items()},
        steps=STEPS,
        role_labels=ROLE_LABELS,
        outcome_labels=OUTCOME_LABELS,
        field_labels=FIELD_LABELS,
        principal_labels=PRINCIPAL_LABELS,
        resource_labels=RESOURCE_LABELS,
        authority_reasons=AUTHORITY_REASONS,
        material_labels={**MATERIAL_KINDS, **{r.kind: r.label for r in material_rules()}},
        first_review_days=FIRST_REVIEW_WORKING_DAYS,
        version=__version__,
        admin_links=ADMIN_LINKS,
    )
    return e


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    settings = request.app.state.deps.settings
    base = {
        "user": getattr(request.state, "console_account", None),
        "csrf": session.csrf_token(request),
        "flash": session.pop_flash(request),
        "demo": settings.demo,
        "path": request.url.path,
        "title": "",
        "nav": "",
        "flash_targets": (),
    }
    html = env().get_template(name).render(**{**base, **ctx})
    return finish(request, HTMLResponse(html, status_code=status))


def fragment(request: Request, name: str, **ctx: Any) -> HTMLResponse:
    """A piece of a page for htmx; no session change, no flash consumed."""
    return finish(request, HTMLResponse(env().get_template(name).render(**ctx)))


def redirect(request: Request, url: str) -> Response:
    return finish(request, RedirectResponse(url, status_code=303))


def finish(request: Request, response: Response) -> Response:
    response.headers.update(HEADERS)
    return session.commit(request, response)


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if target == "/" else f"/login?next={quote(target, safe='/')}"


def safe_next(value: str | None) -> str | None:
    """Only a path on this site: never ``//host`` or a scheme (an open redirect)."""
    # Browsers drop tabs and newlines inside URLs, so "/\t/host" would become "//host".
    if not value or not value.isprintable() or " " in value:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value
