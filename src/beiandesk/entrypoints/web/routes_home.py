"""Login, logout, the applicant's home (filed subject and websites), a website's record, terms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beiandesk.domain.errors import DomainError
from beiandesk.domain.states import OPEN
from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import (
    ConsoleRoute,
    DepsDep,
    NeedLogin,
    UserDep,
    account,
    call,
    form,
)
from beiandesk.services import auth, changes, records

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

#: Demo accounts named on the login page in demo mode only (api.md §Running).
DEMO_ACCOUNTS = (
    ("demo-personal", "个人主体申请人"),
    ("demo-enterprise", "企业主体申请人"),
    ("demo-reviewer", "审核专员"),
    ("demo-admin", "管理员"),
)


#: Finished orders listed on the home page (newest first); each website's page lists all of its own.
FINISHED_SHOWN = 10


def _home_for(role: str) -> str:
    return {"reviewer": "/review", "admin": "/admin"}.get(role, "/")


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    try:
        user = account(request)
    except NeedLogin:
        user = None
    if user is not None:
        return render.redirect(request, render.safe_next(next) or _home_for(str(user.role)))
    return render.render(
        request,
        "login.html",
        title="登录",
        next=render.safe_next(next) or "",
        demo_accounts=DEMO_ACCOUNTS,
        username="",
        error="",
    )


@router.post("/login")
async def login_submit(request: Request, d: DepsDep) -> Response:
    data = await form(request)
    username, password = str(data.get("username") or "")[:64], str(data.get("password") or "")[:256]
    target = render.safe_next(str(data.get("next") or ""))
    try:
        user, token = await call(auth.login, d, username, password)
    except DomainError as exc:  # unauthorized, account_disabled, login_throttled (429)
        if exc.status not in (401, 429):
            raise
        response = render.render(
            request,
            "login.html",
            status=exc.status,
            title="登录",
            next=target or "",
            demo_accounts=DEMO_ACCOUNTS,
            username=username,
            error=exc.message,
        )
        response.headers.update(getattr(exc, "headers", None) or {})
        return response
    session.log_in(request, token)
    if user.password_change_required:
        return render.redirect(request, "/account/password")
    return render.redirect(request, target or _home_for(str(user.role)))


@router.post("/logout")
async def logout(request: Request, d: DepsDep) -> Response:
    await form(request)
    tok = session.token(request)
    if tok:  # revoke the session itself: the cookie, even if kept, is refused on every node
        await call(auth.logout, d, tok)
    session.log_out(request)
    session.flash(request, "已退出登录。")
    return render.redirect(request, "/login")


@router.get("/")
def home(request: Request, d: DepsDep, user: UserDep) -> Response:
    if user.is_staff:
        return render.redirect(request, _home_for(str(user.role)))
    subjects = [views.subject(s) for s in records.list_subjects(d, user)]
    orders = changes.list_changes(d, user)
    open_by_site = {o.website_id: views.change(o) for o in orders if o.state in OPEN}
    sites = [
        {**views.website(w), "order": open_by_site.get(w.id)}
        for w in records.list_websites(d, user)
    ]
    by_subject: dict[int, list[dict[str, Any]]] = {}
    for s in sites:
        by_subject.setdefault(s["subject_id"], []).append(s)
    done = sorted(
        (o for o in orders if o.state not in OPEN), key=lambda o: o.updated_at, reverse=True
    )
    finished = [views.change(o) for o in done[:FINISHED_SHOWN]]
    names = {w["id"]: w["name"] for w in sites}
    return render.render(
        request,
        "home.html",
        title="我的备案",
        nav="home",
        subjects=subjects,
        sites_by_subject=by_subject,
        in_progress=list(open_by_site.values()),
        finished=finished,
        site_names=names,
    )


@router.get("/websites/{website_id}")
def website_page(request: Request, d: DepsDep, user: UserDep, website_id: int) -> Response:
    site = views.website(records.get_website(d, user, website_id))
    history = records.website_history(d, user, website_id)
    orders = [views.change(o) for o in changes.list_changes(d, user) if o.website_id == website_id]
    return render.render(
        request,
        "website.html",
        title=site["name"],
        nav="home",
        site=site,
        history=[{**h, "info": views.info(h["info"])} for h in history],
        orders=orders,
        open_order=next((o for o in orders if o["state"] in {str(s) for s in OPEN}), None),
    )


@router.post("/websites/{website_id}/changes")
async def open_change(request: Request, d: DepsDep, user: UserDep, website_id: int) -> Response:
    """「更多操作 → 变更网站」: open the change and go to its first step."""
    await form(request)
    order = await call(changes.open_change, d, user, website_id)
    return render.redirect(request, f"/changes/{order.id}/edit")


@router.get("/terms")
def terms(request: Request) -> Response:
    _maybe_user(request)
    return render.render(
        request,
        "terms.html",
        title="服务条款",
        terms_version=request.app.state.deps.settings.terms_version,
    )


@router.get("/privacy")
def privacy(request: Request) -> Response:
    _maybe_user(request)
    return render.render(
        request,
        "privacy.html",
        title="隐私声明",
        terms_version=request.app.state.deps.settings.terms_version,
    )


def _maybe_user(request: Request) -> None:
    """Public pages still show who is logged in, in the header."""
    try:
        account(request)
    except NeedLogin:
        pass
