"""Accounts, sessions and the audit log over HTTP (api.md "Accounts", "Login and sessions").

"Two nodes" are two app instances built separately on the same database: nothing one of them
keeps in memory may let a token through that the other has revoked.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from beiandesk import bootstrap
from beiandesk.adapters.security import Passwords
from beiandesk.domain.model import Principal, Subject, SubjectKind
from beiandesk.entrypoints.api.app import create_app
from tests.conftest import login


@pytest.fixture
def node_b(settings, fakes, seeded):  # noqa: ANN001, ANN201
    built = bootstrap.build(settings, migrate=False, passwords=Passwords(time_cost=1, memory_cost=1024),
                            **fakes)
    with TestClient(create_app(built), raise_server_exceptions=False) as c:
        yield c
    built.engine.dispose()


def _token(client, username: str, password: str) -> str:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _create(client, admin, **body):  # noqa: ANN001, ANN003, ANN202
    return client.post("/api/v1/admin/accounts", headers=admin, json=body)


def test_create_account_with_one_time_password_then_change_it(client) -> None:
    admin = login(client, "demo-admin")
    r = _create(client, admin, username="reviewer-li", role="reviewer", display_name="审核 李", email="li@example.com")
    assert r.status_code == 201, r.text
    body = r.json()
    otp = body.pop("one_time_password")
    assert len(otp) >= 10
    assert body["username"] == "reviewer-li" and body["role"] == "reviewer" and body["disabled"] is False
    assert body["password_change_required"] is True and body["subjects"] == []
    assert set(body) == {"id", "username", "role", "display_name", "email", "disabled", "subjects",
                         "password_change_required", "created_at"}
    # the one-time password is not stored in any readable form
    assert "one_time_password" not in client.get(f"/api/v1/admin/accounts/{body['id']}", headers=admin).json()

    r = client.post("/api/v1/auth/token", data={"username": "reviewer-li", "password": otp})
    assert r.status_code == 200 and r.json()["password_change_required"] is True
    tok = r.json()["access_token"]
    for method, path in (("get", "/api/v1/me"), ("get", "/api/v1/review/queue")):
        r = getattr(client, method)(path, headers=_bearer(tok))
        assert r.status_code == 403 and r.json()["code"] == "password_change_required", (path, r.text)
    weak = client.post("/api/v1/me/password", headers=_bearer(tok),
                       json={"current_password": otp, "new_password": "password123"})
    assert weak.status_code == 422 and weak.json()["code"] == "password_too_weak"
    same_as_name = client.post("/api/v1/me/password", headers=_bearer(tok),
                               json={"current_password": otp, "new_password": "reviewer-li"})
    assert same_as_name.json()["code"] == "password_too_weak"
    wrong = client.post("/api/v1/me/password", headers=_bearer(tok),
                        json={"current_password": "not-the-otp-123", "new_password": "Lantern-Harbour-42"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "current_password_wrong"
    ok = client.post("/api/v1/me/password", headers=_bearer(tok),
                     json={"current_password": otp, "new_password": "Lantern-Harbour-42"})
    assert ok.status_code == 200 and ok.json()["password_change_required"] is False
    assert client.get("/api/v1/me", headers=_bearer(tok)).status_code == 200  # same session goes on
    assert client.get("/api/v1/review/queue", headers=_bearer(tok)).status_code == 200
    assert client.post("/api/v1/auth/token", data={"username": "reviewer-li", "password": otp}).status_code == 401

    audit = client.get("/api/v1/admin/audit", headers=admin).json()
    assert {"at", "actor", "action", "target", "detail"} <= set(audit[-1])
    created = [e for e in audit if e["action"] == "account.create"]
    assert created and created[0]["actor"] == "demo-admin" and created[0]["target"] == "reviewer-li"
    assert otp not in str(audit)


def test_account_refusals(client) -> None:
    admin = login(client, "demo-admin")
    assert _create(client, admin, username="demo-reviewer", role="reviewer").json()["code"] == "account_exists"
    assert _create(client, admin, username="demo-reviewer", role="reviewer").status_code == 409
    for pw in ("short1", "1234567890", "qwertyuiop", "Reviewer-Wu", "aaaaaaaaaaaa"):
        r = _create(client, admin, username="reviewer-wu", role="reviewer", password=pw)
        assert r.status_code == 422 and r.json()["code"] == "password_too_weak", pw
    assert _create(client, admin, username="x y", role="reviewer").json()["code"] == "value_invalid"
    assert _create(client, admin, username="someone", role="boss").json()["code"] == "value_invalid"
    r = _create(client, admin, username="someone", role="applicant", subjects=["沪ICP备20260002号"])
    assert r.status_code == 409 and r.json()["code"] == "subject_linked_elsewhere"
    r = _create(client, admin, username="someone", role="applicant", subjects=["京ICP备99999999号"])
    assert r.status_code == 404 and r.json()["code"] == "subject_not_found"
    assert client.get("/api/v1/admin/accounts", headers=admin).status_code == 200
    assert "someone" not in {a["username"] for a in client.get("/api/v1/admin/accounts", headers=admin).json()}
    rev = login(client, "demo-reviewer")
    assert client.get("/api/v1/admin/accounts", headers=rev).status_code == 403
    assert client.get("/api/v1/admin/audit", headers=rev).status_code == 403


def test_last_active_admin_is_protected(client) -> None:
    admin = login(client, "demo-admin")
    me = next(a for a in client.get("/api/v1/admin/accounts", headers=admin).json() if a["username"] == "demo-admin")
    for patch in ({"disabled": True}, {"role": "reviewer"}):
        r = client.patch(f"/api/v1/admin/accounts/{me['id']}", headers=admin, json=patch)
        assert r.status_code == 409 and r.json()["code"] == "last_admin"
    second = _create(client, admin, username="admin-two", role="admin", password="Second-Admin-Key-77").json()
    assert client.patch(f"/api/v1/admin/accounts/{me['id']}", headers=admin, json={"role": "reviewer"}).status_code == 200
    other = _bearer(_token(client, "admin-two", "Second-Admin-Key-77"))
    r = client.patch(f"/api/v1/admin/accounts/{second['id']}", headers=other, json={"disabled": True})
    assert r.status_code == 409 and r.json()["code"] == "last_admin"


def test_disable_and_logout_are_seen_at_once_on_another_node(client, node_b) -> None:
    admin = login(client, "demo-admin")
    created = _create(client, admin, username="applicant-zhao", role="applicant",
                      password="Morning-Tea-Garden-9").json()
    tok = _token(client, "applicant-zhao", "Morning-Tea-Garden-9")
    # both nodes accept it (node B has it warm in whatever it keeps)
    assert node_b.get("/api/v1/me", headers=_bearer(tok)).status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(tok)).status_code == 200
    r = client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    for c in (node_b, client):
        r = c.get("/api/v1/me", headers=_bearer(tok))
        assert r.status_code == 401 and r.json()["code"] == "account_disabled"
    r = node_b.post("/api/v1/auth/token", data={"username": "applicant-zhao", "password": "Morning-Tea-Garden-9"})
    assert r.status_code == 401 and r.json()["code"] == "account_disabled"
    assert client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"disabled": False}).status_code == 200
    # the old token stays dead (its session was revoked); a new login works again
    assert node_b.get("/api/v1/me", headers=_bearer(tok)).status_code == 401
    tok2 = _token(node_b, "applicant-zhao", "Morning-Tea-Garden-9")
    tok3 = _token(node_b, "applicant-zhao", "Morning-Tea-Garden-9")
    assert client.get("/api/v1/me", headers=_bearer(tok2)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=_bearer(tok2)).status_code == 204
    r = node_b.get("/api/v1/me", headers=_bearer(tok2))
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert node_b.get("/api/v1/me", headers=_bearer(tok3)).status_code == 200  # only that session ended
    # a password reset ends every session at once, too
    r = client.post(f"/api/v1/admin/accounts/{created['id']}/reset-password", headers=admin)
    assert r.status_code == 200 and r.json()["password_change_required"] is True
    assert len(r.json()["one_time_password"]) >= 10
    assert node_b.get("/api/v1/me", headers=_bearer(tok3)).status_code == 401
    actions = [e["action"] for e in client.get("/api/v1/admin/audit", headers=admin).json()]
    assert actions[:4] == ["account.reset_password", "account.enable", "account.disable", "account.create"]


def test_throttle_holds_across_nodes_and_ends_after_15_minutes(client, node_b, fakes) -> None:
    def attempt(c, password: str):  # noqa: ANN001, ANN202
        return c.post("/api/v1/auth/token", data={"username": "demo-reviewer", "password": password})

    for i in range(5):
        r = attempt(client if i % 2 else node_b, "wrong-password-1")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    for c in (client, node_b):
        r = attempt(c, "beiandesk-demo")  # right password, still refused
        assert r.status_code == 429 and r.json()["code"] == "login_throttled"
        assert int(r.headers["Retry-After"]) == 15 * 60
        assert "分钟" in r.json()["message"]
    # another user name is not affected
    assert attempt_other(client).status_code == 200
    fakes["clock"].advance(minutes=10)
    r = attempt(node_b, "beiandesk-demo")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 5 * 60
    fakes["clock"].advance(minutes=5, seconds=1)
    assert attempt(client, "beiandesk-demo").status_code == 200
    # the success cleared the count: four more failures do not lock
    for _ in range(4):
        assert attempt(client, "nope-nope-nope").status_code == 401
    assert attempt(client, "beiandesk-demo").status_code == 200


def attempt_other(c):  # noqa: ANN001, ANN201
    return c.post("/api/v1/auth/token", data={"username": "demo-admin", "password": "beiandesk-demo"})


def test_linking_a_subject_to_an_applicant(client, deps) -> None:
    admin = login(client, "demo-admin")
    admin_id = next(a["id"] for a in client.get("/api/v1/admin/accounts", headers=admin).json()
                    if a["username"] == "demo-admin")
    with deps.uow() as uow:  # a subject held by staff, as an import without an owner leaves it
        uow.subjects.add(Subject(id=0, account_id=admin_id, kind=SubjectKind.personal, name="陈静",
                                 province="北京", id_type="resident_id", id_number="110101199003074477",
                                 filing_number="京ICP备20260077号",
                                 principal=Principal(name="陈静", mobile="13911112222")), deps.clock.now())
        uow.commit()
    created = _create(client, admin, username="chen-jing", role="applicant", password="Quiet-River-Stone-5").json()
    r = client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"subjects": ["京ICP备20260077号"]})
    assert r.status_code == 200 and r.json()["subjects"] == ["京ICP备20260077号"]
    mine = client.get("/api/v1/subjects", headers=_bearer(_token(client, "chen-jing", "Quiet-River-Stone-5"))).json()
    assert [s["filing_number"] for s in mine] == ["京ICP备20260077号"]
    other = _create(client, admin, username="someone-else", role="applicant", subjects=["京ICP备20260077号"])
    assert other.status_code == 409 and other.json()["code"] == "subject_linked_elsewhere"
    r = client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"role": "reviewer"})
    assert r.json()["code"] == "value_invalid"
    # PATCH subjects is the whole list: leaving one out unlinks it (it has no open order)
    r = client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"subjects": []})
    assert r.status_code == 200 and r.json()["subjects"] == []
    r = client.patch(f"/api/v1/admin/accounts/{created['id']}", headers=admin, json={"subjects": ["京ICP备20260077号"]})
    assert r.json()["subjects"] == ["京ICP备20260077号"]
    # a subject with an open change order stays with its applicant
    ent = next(a for a in client.get("/api/v1/admin/accounts", headers=admin).json() if a["username"] == "demo-enterprise")
    site = client.get("/api/v1/websites", headers=login(client, "demo-enterprise")).json()[0]
    assert client.post(f"/api/v1/websites/{site['id']}/changes", headers=login(client, "demo-enterprise")).status_code == 201
    r = client.patch(f"/api/v1/admin/accounts/{ent['id']}", headers=admin, json={"subjects": []})
    assert r.status_code == 409 and r.json()["code"] == "subject_has_open_change"
    link = [e for e in client.get("/api/v1/admin/audit", headers=admin).json() if e["action"] == "account.link"]
    assert link[0]["target"] == "chen-jing" and link[0]["detail"] == {"subjects": ["京ICP备20260077号"]}
