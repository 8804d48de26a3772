"""The console over HTTP (no browser): session cookie, CSRF, roles and ownership, live checks,
the queue's highlights with a moved clock. Fakes for the outside world (tests/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from beiandesk.services import changes, materials, review

PASSWORD = "beiandesk-demo"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_client(app: Any, base_url: str = "http://testserver") -> TestClient:
    from beiandesk.entrypoints.api.app import create_app
    from beiandesk.entrypoints.web import console

    api = create_app(app)
    console.install(api, app)
    return TestClient(api, base_url=base_url, follow_redirects=False, raise_server_exceptions=False)


@pytest.fixture
def web(app: Any, seeded: Any) -> Iterator[TestClient]:
    with console_client(app) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/login") -> str:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return CSRF.search(r.text).group(1)


def log_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"csrf_token": csrf_of(client), "username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text


def account(deps: Any, username: str) -> Any:
    with deps.uow(readonly=True) as uow:
        return uow.accounts.by_username(username)[0]


def scan_png() -> bytes:
    return cv2.imencode(".png", np.full((40, 60, 3), 200, np.uint8))[1].tobytes()


def ready_order(deps: Any, username: str = "demo-personal") -> int:
    """A draft with its photo and required materials, made through the services the console calls."""
    from beiandesk.services import console as console_svc
    from beiandesk.services import records

    actor = account(deps, username)
    order = changes.open_change(deps, actor, records.list_websites(deps, actor)[0].id)
    # A change to submit (an order that changes nothing is refused: no_changes).
    changes.update_change(deps, actor, order.id, {"home_url": order.current.home_url.rstrip("/") + "/index.html"},
                          order.version)
    materials.upload_verification(deps, actor, order.id, "photo.jpg", b"\xff\xd8\xff fake photo \xff\xd9")
    for slot in console_svc.material_slots(deps, actor, order.id):
        if slot.required:
            materials.upload_material(deps, actor, order.id, slot.kind, f"{slot.kind}.png", scan_png())
    return order.id


def submitted_order(deps: Any, username: str = "demo-personal") -> int:
    """An order in first review."""
    change_id = ready_order(deps, username)
    changes.submit(deps, account(deps, username), change_id, True, True)
    return change_id


def test_session_cookie_is_httponly_lax_and_secure_over_tls(app: Any, seeded: Any) -> None:
    with console_client(app) as plain:
        cookie = plain.get("/login").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    with console_client(app, "https://testserver") as tls:
        assert "Secure" in tls.get("/login").headers["set-cookie"]


def test_login_needs_the_form_token_and_starts_a_new_session(web: TestClient) -> None:
    r = web.post("/login", data={"username": "demo-personal", "password": PASSWORD})
    assert r.status_code == 403 and "安全校验未通过" in r.text
    before = csrf_of(web)
    r = web.post("/login", data={"csrf_token": before, "username": "demo-personal", "password": "wrong"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    log_in(web, "demo-personal")
    assert csrf_of(web, "/") != before  # a token planted before login is worthless after it


def test_pages_need_login_and_come_back_after_it(web: TestClient) -> None:
    r = web.get("/changes/1")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/changes/1"
    for evil in ("//evil.example/", "/\t/evil.example/", "https://evil.example/"):
        r = web.post("/login", data={"csrf_token": csrf_of(web), "username": "demo-personal",
                                     "password": PASSWORD, "next": evil})
        assert r.headers["location"] == "/"  # never an open redirect
        web.cookies.clear()
    log_in(web, "demo-personal")
    token = csrf_of(web, "/")
    assert web.post("/logout", data={"csrf_token": token}).status_code == 303
    assert web.get("/").headers["location"] == "/login"


def test_every_post_checks_csrf(web: TestClient, seeded: Any) -> None:
    log_in(web, "demo-personal")
    site_id = re.search(r'action="/websites/(\d+)/changes"', web.get("/").text).group(1)
    r = web.post(f"/websites/{site_id}/changes", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = web.post(f"/websites/{site_id}/changes", data={"csrf_token": csrf_of(web, "/")})
    assert r.status_code == 303 and r.headers["location"].endswith("/edit")


def test_roles_and_ownership_match_the_api(web: TestClient, seeded: Any) -> None:
    change_id = submitted_order(seeded)
    log_in(web, "demo-enterprise")
    assert web.get(f"/changes/{change_id}").status_code == 404  # someone else's order
    assert web.get(f"/changes/{change_id}/materials/1").status_code == 404
    assert web.get("/review").status_code == 403
    assert web.get("/admin").status_code == 403
    log_in(web, "demo-reviewer")
    assert web.get(f"/review/{change_id}").status_code == 200
    assert web.get("/admin").status_code == 403
    assert web.get(f"/changes/{change_id}").headers["location"] == f"/review/{change_id}"
    r = web.get(f"/changes/{change_id}/materials/1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert "sandbox" in r.headers["content-security-policy"]
    log_in(web, "demo-admin")
    assert web.get("/admin").status_code == 200


def test_closed_website_is_listed_but_cannot_be_changed(web: TestClient) -> None:
    log_in(web, "demo-enterprise")
    home = web.get("/").text
    assert home.count('class="card site') == 3 and "云帆旧版商城" in home and "已关闭" in home
    closed_id = re.search(r'href="/websites/(\d+)">云帆旧版商城', home).group(1)
    r = web.post(f"/websites/{closed_id}/changes", data={"csrf_token": csrf_of(web, "/")})
    assert r.status_code == 409 and "打开" in r.text


def test_live_check_returns_each_fields_problems_without_saving(web: TestClient, seeded: Any) -> None:
    log_in(web, "demo-personal")
    token = csrf_of(web, "/")
    site_id = re.search(r'action="/websites/(\d+)/changes"', web.get("/").text).group(1)
    edit = web.post(f"/websites/{site_id}/changes", data={"csrf_token": token}).headers["location"]
    change_id = int(edit.split("/")[2])
    form = {"csrf_token": token, "name": "12", "domains": [], "home_url": "https://www.mingyuan-notes.cn/"}
    r = web.post(f"/changes/{change_id}/check", data=form)
    assert r.status_code == 200
    name_slot = re.search(r'<div id="p-proposed-name"[^>]*hx-swap-oob="innerHTML">(.*?)</div>', r.text, re.DOTALL).group(1)
    domain_slot = re.search(r'<div id="p-proposed-domains"[^>]*>(.*?)</div>', r.text, re.DOTALL).group(1)
    assert 'class="problem error"' in name_slot and 'class="problem error"' in domain_slot
    assert changes.get_change(seeded, account(seeded, "demo-personal"), change_id).version == 1  # not saved
    assert web.post(f"/changes/{change_id}/check", data={**form, "csrf_token": "x"}).status_code == 403


def test_queue_highlights_a_due_retry_call_and_an_overdue_review(web: TestClient, seeded: Any, fakes: dict) -> None:
    change_id = submitted_order(seeded)
    review.log_call(seeded, account(seeded, "demo-reviewer"), change_id, "unreachable", "")
    log_in(web, "demo-reviewer")
    assert "row-call-due" not in web.get("/review").text
    fakes["clock"].advance(minutes=61)
    page = web.get("/review").text
    assert "row-call-due" in page and "应再次致电</span><br>" in page
    fakes["clock"].advance(days=7)
    assert web.get("/review").status_code == 303  # the session's token has expired meanwhile
    log_in(web, "demo-reviewer")
    assert "row-overdue" in web.get("/review").text


def test_submit_without_consent_is_refused_with_the_reason(web: TestClient, seeded: Any) -> None:
    change_id = ready_order(seeded)
    log_in(web, "demo-personal")
    r = web.post(f"/changes/{change_id}/submit", data={"csrf_token": csrf_of(web, "/")})
    assert r.status_code == 422 and "请先勾选同意后再提交" in r.text and 'aria-invalid="true"' in r.text
    r = web.post(f"/changes/{change_id}/submit", data={"csrf_token": csrf_of(web, "/"), "consent": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/changes/{change_id}"
    order = changes.get_change(seeded, account(seeded, "demo-personal"), change_id)
    assert order.consent_version == seeded.settings.terms_version
