"""HTTP API: auth, roles, who sees what, and the filed records with personal data masked."""

from __future__ import annotations

import re

import pytest

from beiandesk import demo_data
from tests.conftest import login

SECRETS = sorted({p[k] for s in demo_data.SUBJECTS
                  for p in [s["principal"], *(w["principal"] for w in s["websites"])]
                  for k in ("id_number", "mobile")} | {s["id_number"] for s in demo_data.SUBJECTS})


def assert_problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and isinstance(body["code"], str) and body["code"]
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body
    if code is not None:
        assert body["code"] == code, body
    return body


def by_name(items: list[dict]) -> dict[str, dict]:
    return {i["name"]: i for i in items}


@pytest.fixture
def ids(client) -> dict:
    """Ids of the demo records, and an open change on each applicant's first open website."""
    admin = login(client, "demo-admin")
    sites = by_name(client.get("/api/v1/websites", headers=admin).json())
    subjects = by_name(client.get("/api/v1/subjects", headers=admin).json())
    out = {"sites": {k: v["id"] for k, v in sites.items()},
           "subjects": {k: v["id"] for k, v in subjects.items()}}
    ent = login(client, "demo-enterprise")
    r = client.post(f"/api/v1/websites/{out['sites']['云帆科技官网']}/changes", headers=ent)
    assert r.status_code == 201, r.text
    out["ent_change"] = r.json()["id"]
    per = login(client, "demo-personal")
    r = client.post(f"/api/v1/websites/{out['sites']['明远技术笔记']}/changes", headers=per)
    assert r.status_code == 201, r.text
    out["per_change"] = r.json()["id"]
    return out


# --- auth ------------------------------------------------------------------------------------------


def test_token_and_me(client) -> None:
    for username, role in [("demo-personal", "applicant"), ("demo-enterprise", "applicant"),
                           ("demo-reviewer", "reviewer"), ("demo-admin", "admin")]:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": "beiandesk-demo"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_type"] == "bearer" and body["access_token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.status_code == 200
        assert me.json()["username"] == username and me.json()["role"] == role


def test_bad_credentials_are_401_problems(client) -> None:
    for username, password in [("demo-personal", "wrong"), ("nobody", "beiandesk-demo"),
                               ("DEMO-PERSONAL", "beiandesk-demo"), ("demo-personal", "beiandesk-demo ")]:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        body = assert_problem(r, 401, "unauthorized")
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
        assert body["message"] == "用户名或密码错误。"  # same answer for unknown user and wrong password
    r = client.post("/api/v1/auth/token", data={"username": "demo-personal", "password": ""})
    assert_problem(r, r.status_code)
    assert r.status_code in (401, 422)


def test_token_needs_form_fields(client) -> None:
    assert_problem(client.post("/api/v1/auth/token", data={"username": "demo-personal"}), 422, "invalid_request")
    assert_problem(client.post("/api/v1/auth/token", json={"username": "demo-personal", "password": "beiandesk-demo"}),
                   422, "invalid_request")


def _api_routes(client) -> list[tuple[str, str]]:
    out = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        if not path.startswith("/api/v1/") or path == "/api/v1/auth/token":
            continue
        for method in item:
            out.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return out


def test_every_api_endpoint_needs_a_token(client) -> None:
    routes = _api_routes(client)
    assert len(routes) >= 20
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic ZGVtbzpkZW1v"}):
            r = client.request(method, path, headers=headers)
            assert_problem(r, 401, "unauthorized")


@pytest.mark.parametrize("username", ["demo-personal", "demo-enterprise"])
def test_applicants_cannot_use_reviewer_or_admin_endpoints(client, ids, username: str) -> None:
    h = login(client, username)
    cid = ids["ent_change"]
    for method, path, body in [
        ("GET", "/api/v1/review/queue", None),
        ("POST", f"/api/v1/review/changes/{cid}/calls", {"outcome": "reached", "note": ""}),
        ("POST", f"/api/v1/review/changes/{cid}/approve", {"note": ""}),
        ("POST", f"/api/v1/review/changes/{cid}/reject", {"reasons": [{"code": "x", "message": "不行"}]}),
        ("POST", f"/api/v1/review/changes/{cid}/resend", None),
        ("GET", "/api/v1/admin/outbox", None),
    ]:
        assert_problem(client.request(method, path, headers=h, json=body), 403, "forbidden")


def test_reviewer_is_not_an_admin(client) -> None:
    assert_problem(client.get("/api/v1/admin/outbox", headers=login(client, "demo-reviewer")), 403, "forbidden")
    assert client.get("/api/v1/admin/outbox", headers=login(client, "demo-admin")).status_code == 200
    assert client.get("/api/v1/review/queue", headers=login(client, "demo-reviewer")).status_code == 200


def test_staff_cannot_edit_an_applicants_change(client, ids) -> None:
    for user in ("demo-reviewer", "demo-admin"):
        h = login(client, user)
        assert client.get(f"/api/v1/changes/{ids['ent_change']}", headers=h).status_code == 200
        assert_problem(client.patch(f"/api/v1/changes/{ids['ent_change']}", headers=h, json={"name": "改名网站"}),
                       403, "forbidden")
        assert_problem(client.post(f"/api/v1/changes/{ids['ent_change']}/withdraw", headers=h), 403, "forbidden")
        r = client.post(f"/api/v1/websites/{ids['sites']['云帆开发者文档中心']}/changes", headers=h)
        assert_problem(r, 403, "forbidden")


# --- records --------------------------------------------------------------------------------------------


def test_subject_shapes_and_masks(client) -> None:
    per = client.get("/api/v1/subjects", headers=login(client, "demo-personal")).json()
    assert len(per) == 1
    s = per[0]
    assert {"id", "kind", "name", "province", "filing_number", "principal"} <= set(s)
    assert (s["kind"], s["name"], s["province"], s["filing_number"]) == ("personal", "李明", "广东", "粤ICP备20260001号")
    assert s["principal"] == {"name": "李明", "id_type": "resident_id", "id_number": "4403**********123X",
                              "mobile": "139****5678", "email": "liming@example.com"}
    one = client.get(f"/api/v1/subjects/{s['id']}", headers=login(client, "demo-personal"))
    assert one.status_code == 200 and one.json() == s

    ent = client.get("/api/v1/subjects", headers=login(client, "demo-enterprise")).json()
    assert [(x["kind"], x["province"]) for x in ent] == [("enterprise", "上海")]
    assert ent[0]["principal"]["id_number"] == "3101**********2023"
    assert ent[0]["principal"]["mobile"] == "138****5678"


def test_website_shapes_and_masks(client) -> None:
    sites = by_name(client.get("/api/v1/websites", headers=login(client, "demo-enterprise")).json())
    assert set(sites) == {"云帆科技官网", "云帆开发者文档中心", "云帆旧版商城"}  # closed ones listed too
    dev = sites["云帆开发者文档中心"]
    assert {"id", "subject_id", "name", "filing_number", "status", "domains", "home_url", "principal",
            "resource", "version"} <= set(dev)
    assert dev["status"] == "open" and sites["云帆旧版商城"]["status"] == "closed"
    assert dev["domains"] == ["yunfan-dev.cn", "yunfandev.com"]
    assert dev["filing_number"] == "沪ICP备20260002号-2" and dev["home_url"] == "https://docs.yunfan-dev.cn/"
    assert dev["principal"] == {"name": "陈浩", "id_type": "resident_id", "id_number": "3101**********3012",
                                "mobile": "136****4321", "email": "chenhao@yunfan-tech.com.cn"}
    assert dev["resource"]["public_ip"] == "101.34.56.79" and dev["resource"]["kind"] == "cvm"
    assert isinstance(dev["version"], int)
    one = client.get(f"/api/v1/websites/{dev['id']}", headers=login(client, "demo-enterprise"))
    assert one.status_code == 200 and one.json() == dev


def test_applicant_sees_only_its_own(client, ids) -> None:
    h = login(client, "demo-personal")
    assert [w["name"] for w in client.get("/api/v1/websites", headers=h).json()] == ["明远技术笔记"]
    assert [s["name"] for s in client.get("/api/v1/subjects", headers=h).json()] == ["李明"]
    assert [c["id"] for c in client.get("/api/v1/changes", headers=h).json()] == [ids["per_change"]]
    missing = assert_problem(client.get("/api/v1/websites/999999", headers=h), 404, "not_found")
    foreign = assert_problem(client.get(f"/api/v1/websites/{ids['sites']['云帆科技官网']}", headers=h), 404, "not_found")
    assert missing["message"] == foreign["message"]  # no hint that it exists


def test_others_records_are_404_everywhere(client, ids) -> None:
    h = login(client, "demo-personal")
    site, subject, cid = ids["sites"]["云帆开发者文档中心"], ids["subjects"]["上海云帆信息科技有限公司"], ids["ent_change"]
    calls = [
        ("GET", f"/api/v1/subjects/{subject}", {}),
        ("GET", f"/api/v1/websites/{site}", {}),
        ("GET", f"/api/v1/websites/{site}/history", {}),
        ("POST", f"/api/v1/websites/{site}/changes", {}),
        ("GET", f"/api/v1/changes/{cid}", {}),
        ("PATCH", f"/api/v1/changes/{cid}", {"json": {"name": "别人的网站"}}),
        ("GET", f"/api/v1/changes/{cid}/events", {}),
        ("GET", f"/api/v1/changes/{cid}/precheck", {}),
        ("POST", f"/api/v1/changes/{cid}/submit", {"json": {"accept_terms": True, "accept_privacy": True}}),
        ("POST", f"/api/v1/changes/{cid}/withdraw", {}),
        ("GET", f"/api/v1/changes/{cid}/materials", {}),
        ("POST", f"/api/v1/changes/{cid}/materials",
         {"data": {"kind": "other"}, "files": {"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")}}),
        ("GET", f"/api/v1/changes/{cid}/materials/1/content", {}),
        ("DELETE", f"/api/v1/changes/{cid}/materials/1", {}),
        ("POST", f"/api/v1/changes/{cid}/verification", {"files": {"file": ("p.jpg", b"x")}}),
        ("GET", f"/api/v1/changes/{cid}/verification", {}),
    ]
    for method, path, kw in calls:
        assert_problem(client.request(method, path, headers=h, **kw), 404, "not_found")
    # and nothing happened to the enterprise's order
    ent = login(client, "demo-enterprise")
    order = client.get(f"/api/v1/changes/{cid}", headers=ent).json()
    assert order["state"] == "draft" and order["version"] == 1
    assert client.get(f"/api/v1/changes/{cid}/materials", headers=ent).json() == []


def test_staff_see_everything(client, ids) -> None:
    for user in ("demo-reviewer", "demo-admin"):
        h = login(client, user)
        assert len(client.get("/api/v1/subjects", headers=h).json()) == 2
        assert len(client.get("/api/v1/websites", headers=h).json()) == 4
        assert {c["id"] for c in client.get("/api/v1/changes", headers=h).json()} == {ids["ent_change"], ids["per_change"]}
        for sid in ids["subjects"].values():
            assert client.get(f"/api/v1/subjects/{sid}", headers=h).status_code == 200
        assert client.get(f"/api/v1/changes/{ids['per_change']}/events", headers=h).status_code == 200


def test_no_full_id_number_or_mobile_in_any_response(client, ids) -> None:
    bodies: list[str] = []
    for user in ("demo-personal", "demo-enterprise", "demo-reviewer", "demo-admin"):
        h = login(client, user)
        paths = ["/api/v1/me", "/api/v1/subjects", "/api/v1/websites", "/api/v1/changes", "/api/v1/review/queue",
                 "/api/v1/admin/outbox"]
        paths += [f"/api/v1/subjects/{i}" for i in ids["subjects"].values()]
        paths += [f"/api/v1/websites/{i}" for i in ids["sites"].values()]
        paths += [f"/api/v1/websites/{i}/history" for i in ids["sites"].values()]
        for cid in (ids["ent_change"], ids["per_change"]):
            paths += [f"/api/v1/changes/{cid}{suffix}" for suffix in ("", "/events", "/precheck", "/materials",
                                                                       "/verification")]
        for path in paths:
            bodies.append(client.get(path, headers=h).text)
    # an edit and a refused edit echo principals back
    ent = login(client, "demo-enterprise")
    bodies.append(client.patch(f"/api/v1/changes/{ids['ent_change']}", headers=ent,
                               json={"principal": {"email": "new@yunfan-tech.com.cn"}}).text)
    per = login(client, "demo-personal")
    bodies.append(client.patch(f"/api/v1/changes/{ids['per_change']}", headers=per,
                               json={"principal": {"name": "王芳", "id_number": "310104198503152023"}}).text)
    bodies.append(client.post(f"/api/v1/changes/{ids['per_change']}/submit", headers=per,
                              json={"accept_terms": True, "accept_privacy": True}).text)
    text = "\n".join(bodies)
    assert "4403**********123X" in text and "139****5678" in text  # the scan saw the records
    leaks = [s for s in SECRETS if s in text or s.lower() in text]
    assert leaks == []


def test_health_metrics_and_openapi(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/subjects", "/api/v1/websites/{website_id}",
                 "/api/v1/websites/{website_id}/changes", "/api/v1/changes/{change_id}",
                 "/api/v1/changes/{change_id}/materials", "/api/v1/changes/{change_id}/submit",
                 "/api/v1/changes/{change_id}/withdraw", "/api/v1/changes/{change_id}/events"):
        assert path in spec["paths"], path
    m = client.get("/metrics", headers=login(client, "demo-admin"))  # admins (or METRICS_TOKEN) only
    assert m.status_code == 200 and "beiandesk_http_requests_total" in m.text


def test_ids_beyond_the_database_range_are_client_errors(client, ids) -> None:
    # PostgreSQL INTEGER stops at 2**31-1, SQLite at 2**63-1: a bigger id in a path is a 4xx, never a 500.
    h = login(client, "demo-enterprise")
    cid = ids["ent_change"]
    for big in (2**31, 2**63, 10**20):
        for method, path in [
            ("GET", f"/api/v1/changes/{big}"), ("GET", f"/api/v1/websites/{big}"), ("GET", f"/api/v1/subjects/{big}"),
            ("GET", f"/api/v1/changes/{big}/events"), ("POST", f"/api/v1/websites/{big}/changes"),
            ("PATCH", f"/api/v1/changes/{big}"), ("DELETE", f"/api/v1/changes/{cid}/materials/{big}"),
            ("GET", f"/api/v1/changes/{cid}/materials/{big}/content"),
        ]:
            r = client.request(method, path, headers=h, json={"name": "云帆官网新版"} if method == "PATCH" else None)
            assert r.status_code in (404, 422), (method, path, r.status_code)
            assert_problem(r, r.status_code)


def test_metrics_count_and_time_each_route_and_status(client) -> None:
    import re

    h = login(client, "demo-admin")

    def figures() -> str:
        return client.get("/metrics", headers=h).text

    def value(text: str, pattern: str) -> float:
        found = re.search(pattern + r" ([0-9.e+]+)", text)
        return float(found.group(1)) if found else 0.0

    ok = r'beiandesk_http_requests_total\{method="GET",route="/api/v1/websites/\{website_id\}",status="200"\}'
    missing = r'beiandesk_http_requests_total\{method="GET",route="/api/v1/websites/\{website_id\}",status="404"\}'
    timed = r'beiandesk_http_request_seconds_count\{route="/api/v1/websites/\{website_id\}"\}'
    before = figures()
    for _ in range(3):
        assert client.get("/api/v1/websites/1", headers=h).status_code == 200
    assert client.get("/api/v1/websites/999999", headers=h).status_code == 404
    after = figures()
    assert value(after, ok) - value(before, ok) == 3
    assert value(after, missing) - value(before, missing) == 1
    assert value(after, timed) - value(before, timed) == 4
