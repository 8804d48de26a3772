"""``point_read`` (entrypoints/api/security.py): a sync route run on the event loop when
``Deps.inline_reads``, in the threadpool otherwise, with FastAPI still seeing its
parameters; ``current_account`` without a ``Deps`` sub-dependency still refuses what it refused;
and the per-request ``SharedReads`` of ``_RequestMetrics``: a request that writes then reads sees
its write, and nothing is shared from one request to the next."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Annotated

import pytest
from typing import Any

from fastapi import FastAPI, Path
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from beiandesk.entrypoints.api import routes_records, security
from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.security import AccountDep, DepsDep, point_read
from tests.conftest import login


def _probe_app(inline: bool) -> tuple[FastAPI, dict[str, int]]:
    seen: dict[str, int] = {}
    api = FastAPI()
    api.state.deps = SimpleNamespace(inline_reads=inline)

    @api.get("/loop")
    async def loop() -> dict:
        seen["loop"] = threading.get_ident()
        return {}

    @api.get("/items/{item_id}")
    @point_read
    def item(d: DepsDep, item_id: Annotated[int, Path(ge=1)], q: str = "") -> dict:
        seen["route"] = threading.get_ident()
        return {"id": item_id, "q": q, "inline": d.inline_reads}

    return api, seen


@pytest.mark.parametrize("inline", [True, False])
def test_the_route_runs_inline_or_in_the_threadpool(inline: bool) -> None:
    api, seen = _probe_app(inline)
    with TestClient(api) as c:
        assert c.get("/loop").status_code == 200
        r = c.get("/items/7", params={"q": "x"})
        assert r.status_code == 200 and r.json() == {"id": 7, "q": "x", "inline": inline}
        assert c.get("/items/0").status_code == 422  # the parameters are still validated
    assert (seen["route"] == seen["loop"]) is inline


def test_a_point_read_route_runs_where_inline_reads_says(client, monkeypatch) -> None:  # noqa: ANN001
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    d = client.app.state.deps
    # The units of work's read (PostgreSQL's awaited reads: the test after this one).
    monkeypatch.setattr(d, "async_reads", None)
    threads: list[int] = []
    real = routes_records.records.get_website

    def recorded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(routes_records.records, "get_website", recorded)
    loop_thread: list[int] = []

    @client.app.get("/_test/loop-thread")
    async def loop() -> dict:
        loop_thread.append(threading.get_ident())
        return {}

    client.get("/_test/loop-thread")
    for inline in (True, False):
        monkeypatch.setattr(d, "inline_reads", inline)
        r = client.get(f"/api/v1/websites/{site}", headers=h)
        assert r.status_code == 200 and r.json()["id"] == site
        assert (threads[-1] == loop_thread[0]) is inline


def test_on_postgresql_the_reads_are_awaited_not_run_on_the_loop(client, monkeypatch) -> None:  # noqa: ANN001
    d = client.app.state.deps
    if not d.settings.resolved_database_url().startswith("postgresql"):
        assert d.async_reads is None  # SQLite: the units of work's reads, on the loop (above)
        return
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    subject = client.get("/api/v1/subjects", headers=h).json()[0]["id"]

    def refused(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("a sync read on PostgreSQL's request path")

    monkeypatch.setattr(routes_records.records, "get_website", refused)
    monkeypatch.setattr(routes_records.records, "get_subject", refused)
    monkeypatch.setattr(security.auth, "account_for_token", refused)
    awaited: list[str] = []
    reads = d.async_reads
    for name in ("session", "session_and_website", "session_and_subject"):
        real = getattr(reads, name)

        async def recorded(*args, _real=real, _name=name):  # noqa: ANN002, ANN202
            awaited.append(_name)
            return await _real(*args)

        monkeypatch.setattr(reads, name, recorded)
    assert client.get(f"/api/v1/websites/{site}", headers=h).json()["id"] == site
    assert client.get(f"/api/v1/subjects/{subject}", headers=h).json()["id"] == subject
    # One round trip each: the session read with the record.
    assert awaited == ["session_and_website", "session_and_subject"]
    # A bad id: the session alone first (401 before 422), then the 422.
    assert client.get("/api/v1/websites/abc", headers=h).status_code == 422
    assert awaited[2:] == ["session"]
    # A write's session check (the guard's, before the body is read) is awaited too, once: the
    # route reuses its account. An unknown change: 404 after it.
    r = client.patch(
        "/api/v1/changes/999999", headers={**h, "If-Match": '"1"'}, json={"name": "x"}
    )
    assert r.status_code == 404, r.text
    assert awaited[3:] == ["session"]


def _plain_routes(monkeypatch) -> None:  # noqa: ANN001
    """Swap the lean record reads for their plain FastAPI form (dependencies and a typed path
    parameter): what the lean routes must answer and document exactly alike."""
    from fastapi.routing import APIRoute

    from beiandesk.services import records

    def get_website(d: DepsDep, account: AccountDep, website_id: RowId) -> JSONResponse:
        return JSONResponse(
            routes_records.views.website(records.get_website(d, account, website_id))
        )

    def get_subject(d: DepsDep, account: AccountDep, subject_id: RowId) -> dict[str, Any]:
        return routes_records.views.subject(records.get_subject(d, account, subject_id))

    plain = {
        "/api/v1/websites/{website_id}": APIRoute(
            "/api/v1/websites/{website_id}",
            get_website,
            methods=["GET"],
            tags=["records"],
            response_model=None,
        ),
        "/api/v1/subjects/{subject_id}": APIRoute(
            "/api/v1/subjects/{subject_id}", get_subject, methods=["GET"], tags=["records"]
        ),
    }
    swapped = [
        plain[r.path] if getattr(r, "path", "") in plain and "GET" in r.methods else r
        for r in routes_records.router.routes
    ]
    assert sum(r in plain.values() for r in swapped) == 2
    monkeypatch.setattr(routes_records.router, "routes", swapped)


def test_openapi_of_the_lean_reads_is_the_plain_forms(app, client, monkeypatch) -> None:  # noqa: ANN001
    from beiandesk.entrypoints.api.app import create_app

    lean = client.app.openapi()["paths"]
    _plain_routes(monkeypatch)
    plain = create_app(app).openapi()["paths"]
    got, want = (
        lean["/api/v1/websites/{website_id}"]["get"],
        plain["/api/v1/websites/{website_id}"]["get"],
    )
    assert got == want
    assert [(p["name"], p["in"], p["required"]) for p in got["parameters"]] == [
        ("website_id", "path", True)
    ]
    assert got["parameters"][0]["schema"]["type"] == "integer"
    assert got["security"] == [{"OAuth2PasswordBearer": []}]
    assert {"200", "401", "422"} <= set(got["responses"])
    got, want = (
        lean["/api/v1/subjects/{subject_id}"]["get"],
        plain["/api/v1/subjects/{subject_id}"]["get"],
    )
    want["responses"]["200"]["content"]["application/json"]["schema"].pop("title")  # FastAPI's name
    assert got == want


def test_the_lean_reads_answer_what_the_plain_forms_answer(app, client, monkeypatch) -> None:  # noqa: ANN001
    """Every status, problem, header and body alike: anonymous, a bad token, the owner, someone
    else, staff; ids that are not ids, out of range, missing; a wrong method."""
    from beiandesk.entrypoints.api.app import create_app

    tokens = {"anon": None, "bad": "not-a-token"}
    for who in ("demo-enterprise", "demo-personal", "demo-admin"):
        tokens[who] = login(client, who)["Authorization"].removeprefix("Bearer ")

    def answers(c: TestClient) -> list:
        out = []
        for kind in ("websites", "subjects"):
            for who, t in tokens.items():
                h = {"Authorization": f"Bearer {t}"} if t else {}
                for i in ("abc", "0", "-1", "2147483648", "1.5", "1", "2", "3", "999999"):
                    r = c.get(f"/api/v1/{kind}/{i}", headers=h)
                    out.append(
                        (
                            kind,
                            who,
                            i,
                            r.status_code,
                            r.headers.get("www-authenticate"),
                            r.headers.get("content-type"),
                            r.text,
                        )
                    )
            r = c.post(
                f"/api/v1/{kind}/1", headers={"Authorization": f"Bearer {tokens['demo-admin']}"}
            )
            out.append((kind, "post", r.status_code, r.headers.get("allow")))
        return out

    lean = answers(client)
    _plain_routes(monkeypatch)
    with TestClient(create_app(app)) as plain_client:
        plain = answers(plain_client)
    assert lean == plain
    assert {a[3] for a in lean if len(a) > 4} >= {200, 401, 404, 422}


def test_a_crash_in_a_lean_read_is_the_plain_forms_500(app, client, monkeypatch) -> None:  # noqa: ANN001
    """The lean routes run without FastAPI's per-route exception wrapper (``serve_lean``): an
    unexpected error still reaches the app's handler and answers the same 500 problem."""
    from beiandesk.entrypoints.api.app import create_app
    from beiandesk.services import records

    h = login(client, "demo-admin")

    def crash(*_a: object, **_k: object) -> None:
        raise RuntimeError("13800001111 should never be shown")  # a mobile: scrubbed from logs

    async def crash_async(*_a: object, **_k: object) -> None:  # PostgreSQL's awaited reads
        crash()

    monkeypatch.setattr(records, "get_website", crash)
    monkeypatch.setattr(records, "get_subject", crash)
    monkeypatch.setattr(records, "get_website_for_token_async", crash_async)
    monkeypatch.setattr(records, "get_subject_for_token_async", crash_async)

    def answers(c: TestClient) -> list:
        out = []
        for path in ("/api/v1/websites/1", "/api/v1/subjects/1"):
            r = c.get(path, headers=h)
            out.append((r.status_code, r.headers.get("content-type"), r.json()))
        return out

    with TestClient(create_app(app), raise_server_exceptions=False) as lean_client:
        lean = answers(lean_client)
    _plain_routes(monkeypatch)
    with TestClient(create_app(app), raise_server_exceptions=False) as plain_client:
        plain = answers(plain_client)
    assert lean == plain
    assert lean[0][0] == 500 and lean[0][2]["code"] == "internal_error"
    assert "13800001111" not in str(lean)


def test_the_lean_reads_are_served_without_fastapis_endpoint_machinery(client) -> None:  # noqa: ANN001
    """``serve_lean`` took effect: no dependency solve runs for the lean routes (it would for
    the plain form), so the figures measured for them hold."""
    from fastapi import routing

    calls: list[str] = []
    original = routing.solve_dependencies

    async def counting(*a: object, **k: object) -> object:
        # by path: the app's own background work (the in-process worker calling the sandbox
        # gateway, say) may solve a route's dependencies meanwhile; seen once on PostgreSQL
        calls.append(k["request"].url.path)
        return await original(*a, **k)

    h = login(client, "demo-admin")
    routing.solve_dependencies = counting
    try:
        assert client.get("/api/v1/websites/1", headers=h).status_code == 200
        assert client.get("/api/v1/subjects/1", headers=h).status_code == 200
        assert not {"/api/v1/websites/1", "/api/v1/subjects/1"} & set(calls), calls
        assert client.get("/api/v1/websites", headers=h).status_code == 200  # a plain route
        assert "/api/v1/websites" in calls
    finally:
        routing.solve_dependencies = original


# --- current_account ---------------------------------------------------------------------------


def test_tokens_missing_invalid_or_revoked_are_401(client) -> None:  # noqa: ANN001
    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    url = f"/api/v1/websites/{site}"
    assert client.get(url, headers=h).status_code == 200
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": h["Authorization"][:-2] + "xx"},
    ):
        r = client.get(url, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text
    other = login(client, "demo-enterprise")
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    # the very next request sees the revocation (no read shared from the request before)
    r = client.get(url, headers=h)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert client.get(url, headers=other).status_code == 200  # only that session ended


def test_a_revocation_by_someone_else_is_seen_by_the_next_request(client) -> None:  # noqa: ANN001
    admin = login(client, "demo-admin")
    r = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "username": "reviewer-li",
            "role": "reviewer",
            "display_name": "审核 李",
            "email": "li@example.com",
        },
    )
    assert r.status_code == 201, r.text
    account_id, otp = r.json()["id"], r.json()["one_time_password"]
    tok = client.post("/api/v1/auth/token", data={"username": "reviewer-li", "password": otp})
    h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
    # the one-time password account: 403 everywhere but the password change and the logout
    for path in ("/api/v1/me", "/api/v1/websites", "/api/v1/review/queue"):
        r = client.get(path, headers=h)
        assert r.status_code == 403 and r.json()["code"] == "password_change_required", path
    r = client.post(
        "/api/v1/me/password",
        headers=h,
        json={"current_password": "not-the-otp-123", "new_password": "Lantern-Harbour-42"},
    )
    assert r.status_code == 403 and r.json()["code"] == "current_password_wrong"  # let through
    r = client.post(
        "/api/v1/me/password",
        headers=h,
        json={"current_password": otp, "new_password": "Lantern-Harbour-42"},
    )
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/me", headers=h).status_code == 200
    # another request ends this account's sessions: the next request of it is refused
    r = client.post(f"/api/v1/admin/accounts/{account_id}/reset-password", headers=admin)
    assert r.status_code == 200, r.text
    otp2 = r.json()["one_time_password"]
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401, r.text
    h2 = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/auth/token", data={"username": "reviewer-li", "password": otp2}
        ).json()["access_token"]
    }
    assert client.post("/api/v1/auth/logout", headers=h2).status_code == 204  # let through
    assert client.get("/api/v1/me", headers=h2).status_code == 401


# --- one read transaction per request ------------------------------------------------------------


def test_a_request_that_writes_then_reads_sees_its_write(client, monkeypatch) -> None:  # noqa: ANN001
    from beiandesk.entrypoints.api import routes_changes
    from beiandesk.services import changes

    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    r = client.post(f"/api/v1/websites/{site}/changes", headers=h)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    real = changes.update_change

    def then_read(d, actor, change_id, patch, if_match):  # noqa: ANN001, ANN202
        real(d, actor, change_id, patch, if_match)
        return changes.get_change(d, actor, change_id)  # read back in the same request

    monkeypatch.setattr(routes_changes.changes, "update_change", then_read)
    r = client.patch(
        f"/api/v1/changes/{cid}", headers={**h, "If-Match": '"1"'}, json={"name": "同一请求里读回"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["proposed"]["name"] == "同一请求里读回"
    assert r.headers["etag"] == '"2"'
    r = client.get(f"/api/v1/changes/{cid}", headers=h)
    assert r.json()["version"] == 2 and r.json()["proposed"]["name"] == "同一请求里读回"


def test_a_request_reads_in_one_transaction(client, monkeypatch) -> None:  # noqa: ANN001
    from beiandesk.adapters.db.uow import SqlUnitOfWork

    h = login(client, "demo-enterprise")
    site = client.get("/api/v1/websites", headers=h).json()[0]["id"]
    opened: list[bool] = []
    real = SqlUnitOfWork.__enter__

    def enter(self):  # noqa: ANN001, ANN202
        opened.append(self.readonly)
        return real(self)

    monkeypatch.setattr(SqlUnitOfWork, "__enter__", enter)
    d = client.app.state.deps
    # PostgreSQL awaits both reads outside any unit of work (adapters/db/async_reads.py);
    # without them, its units of work share one connection like SQLite's.
    for async_reads in dict.fromkeys([d.async_reads, None]):
        monkeypatch.setattr(d, "async_reads", async_reads)
        expected = [True] if async_reads is None else []
        for _ in range(2):  # the session check and the route's read: one read each time
            opened.clear()
            assert client.get(f"/api/v1/websites/{site}", headers=h).status_code == 200
            assert opened == expected
