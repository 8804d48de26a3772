"""账号管理, 审计日志, the forced password change, throttling and logout in the console (HTTP,
no browser). A second app instance on the same database plays the second node."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from beiandesk import bootstrap
from beiandesk.adapters.security import Passwords
from tests.e2e.test_console_http import CSRF, console_client, csrf_of, log_in

OTP = re.compile(r"<code data-otp>([^<]+)</code>")


@pytest.fixture
def web(app: Any, seeded: Any) -> Iterator[TestClient]:
    with console_client(app) as c:
        yield c


@pytest.fixture
def web_b(settings, fakes, seeded) -> Iterator[TestClient]:  # noqa: ANN001
    built = bootstrap.build(settings, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024), **fakes)
    with console_client(built) as c:
        yield c
    built.engine.dispose()


def _post(client: TestClient, path: str, page: str, **data: str):  # noqa: ANN202
    return client.post(path, data={"csrf_token": csrf_of(client, page), **data})


def test_admin_creates_an_account_and_the_new_user_must_change_the_password(web: TestClient) -> None:
    log_in(web, "demo-admin")
    page = web.get("/admin/accounts")
    assert page.status_code == 200 and "账号管理" in page.text and 'href="/admin/audit"' in page.text
    r = _post(web, "/admin/accounts", "/admin/accounts", username="reviewer-sun", role="reviewer",
              display_name="审核 孙", email="sun@example.com", subject="")
    assert r.status_code == 201, r.text
    otp = OTP.search(r.text).group(1)
    assert "只显示这一次" in r.text and "reviewer-sun" in r.text
    # shown once: not on the next page, not in the cookie
    again = web.get("/admin/accounts")
    assert otp not in again.text and otp not in str(web.cookies.get("bd_session"))
    dup = _post(web, "/admin/accounts", "/admin/accounts", username="reviewer-sun", role="reviewer")
    assert dup.status_code == 409 and "已存在" in dup.text
    audit = web.get("/admin/audit")
    assert audit.status_code == 200 and "新建账号" in audit.text and "reviewer-sun" in audit.text

    web.cookies.clear()
    r = web.post("/login", data={"csrf_token": csrf_of(web), "username": "reviewer-sun", "password": otp})
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    r = web.get("/review")
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    page = web.get("/account/password")
    assert page.status_code == 200 and "一次性密码" in page.text
    token = CSRF.search(page.text).group(1)
    weak = web.post("/account/password", data={"csrf_token": token, "current_password": otp,
                                                "new_password": "1234567890", "new_password2": "1234567890"})
    assert weak.status_code == 422 and "常见密码" in weak.text
    ok = web.post("/account/password", data={"csrf_token": token, "current_password": otp,
                                              "new_password": "Autumn-Lake-Bridge-3", "new_password2": "Autumn-Lake-Bridge-3"})
    assert ok.status_code == 303 and ok.headers["location"] == "/review"
    assert web.get("/review").status_code == 200


def test_disable_reset_and_logout_end_console_sessions_on_every_node(web: TestClient, web_b: TestClient, deps) -> None:
    log_in(web_b, "demo-reviewer")
    assert web_b.get("/review").status_code == 200
    stolen = dict(web_b.cookies)
    log_in(web, "demo-admin")
    reviewer_id = next(a["id"] for a in __import__("beiandesk.services.accounts", fromlist=["x"]).list_accounts(deps)
                       if a["username"] == "demo-reviewer")
    r = _post(web, f"/admin/accounts/{reviewer_id}", "/admin/accounts", op="disable")
    assert r.status_code == 303
    r = web_b.get("/review")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login_page = web_b.get("/login")
    assert "停用" in login_page.text
    assert _post(web, f"/admin/accounts/{reviewer_id}", "/admin/accounts", op="enable").status_code == 303

    # logout revokes the session: the same cookie replayed (on the other node) is refused
    log_in(web_b, "demo-reviewer")
    kept = dict(web_b.cookies)
    token = csrf_of(web_b, "/review")
    assert web_b.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = console_client_with(web, kept)
    r = replay.get("/review")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert stolen  # the cookie from before the disable is dead too
    assert console_client_with(web, stolen).get("/review").status_code == 303

    # a reset shows the one-time password once and ends the reviewer's sessions
    log_in(web_b, "demo-reviewer")
    log_in(web, "demo-admin")
    r = _post(web, f"/admin/accounts/{reviewer_id}", "/admin/accounts", op="reset")
    assert r.status_code == 200 and OTP.search(r.text)
    assert web_b.get("/review").status_code == 303


def console_client_with(client: TestClient, cookies: dict) -> TestClient:
    client.cookies.clear()
    for k, v in cookies.items():
        client.cookies.set(k, v)
    return client


def test_the_console_shows_the_throttle_in_chinese(web: TestClient) -> None:
    for _ in range(5):
        r = web.post("/login", data={"csrf_token": csrf_of(web), "username": "demo-admin", "password": "wrong-wrong-1"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = web.post("/login", data={"csrf_token": csrf_of(web), "username": "demo-admin", "password": "beiandesk-demo"})
    assert r.status_code == 429 and "密码错误次数过多" in r.text and "15 分钟" in r.text
    assert r.headers["Retry-After"] == "900"


def test_non_admins_cannot_reach_the_account_pages(web: TestClient) -> None:
    log_in(web, "demo-reviewer")
    assert web.get("/admin/accounts").status_code == 403
    assert web.get("/admin/audit").status_code == 403
    r = _post(web, "/admin/accounts", "/review", username="x-user", role="admin")
    assert r.status_code == 403
