"""The authority desk over HTTP (no gateway): hand-over, SMS check, return, decision, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from beiandesk.services import jobs
from tests.conftest import login
from tests.workflow_support import submitted_change


@pytest.fixture
def desk_client(app, seeded, client):  # noqa: ANN001, ANN201
    app.deps.gateway = None  # GATEWAY_URL=desk
    return client


def _passed(client, deps) -> tuple[int, dict[str, str]]:  # noqa: ANN001
    cid = submitted_change(deps, name="明远技术随笔").id
    staff = login(client, "demo-reviewer")
    assert client.post(f"/api/v1/review/changes/{cid}/calls", headers=staff,
                       json={"outcome": "reached", "note": ""}).status_code == 200
    r = client.post(f"/api/v1/review/changes/{cid}/approve", headers=staff, json={"note": ""})
    assert r.status_code == 200 and r.json()["state"] == "provider_review", r.text
    return cid, staff


def _kinds(client, cid, headers) -> list[str]:  # noqa: ANN001
    return [e["kind"] for e in client.get(f"/api/v1/changes/{cid}/events", headers=headers).json()]


def test_desk_flow_to_approval(desk_client, seeded, fakes) -> None:
    client, deps = desk_client, seeded
    cid, staff = _passed(client, deps)
    # No gateway row is queued, and a stale one finishes instead of retrying 未配置管局网关 forever.
    with deps.uow() as uow:
        assert not uow.outbox.list(kind="gateway_submit", change_id=cid)
        stale = uow.outbox.add("gateway_submit", {"change_id": cid}, deps.clock.now(), change_id=cid)
        uow.commit()
    assert jobs.deliver(deps, stale) == "sent"
    desk = client.get("/api/v1/authority/desk", headers=staff).json()
    row = next(o for o in desk if o["id"] == cid)
    assert row["stage"] == "waiting" and row["state"] == "provider_review"

    # Applicants may not use the desk.
    applicant = login(client, "demo-personal")
    assert client.get("/api/v1/authority/desk", headers=applicant).status_code == 403
    assert client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=applicant,
                       json={"ref": "X"}).status_code == 403

    # Out of order: 409 invalid_transition, nothing moves.
    r = client.post(f"/api/v1/authority/desk/{cid}/sms-passed", headers=staff)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition", r.text
    r = client.post(f"/api/v1/authority/desk/{cid}/decision", headers=staff, json={"decision": "approve"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"

    now = deps.clock.now()
    r = client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "沪ICP受理-0001"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "authority_sms" and body["authority_ref"] == "沪ICP受理-0001"
    assert body["stage"] == "authority_sms"
    from datetime import datetime
    assert datetime.fromisoformat(body["sms_deadline"]) - now == timedelta(hours=24)
    # Same notifications as the gateway path: the principal is told to do the SMS check.
    with deps.uow(readonly=True) as uow:
        subjects = [i.subject for i in uow.outbox.list(change_id=cid)]
    assert any("24 小时内完成工信部短信核验" in s for s in subjects), subjects
    r = client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "again"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"

    # The SMS-window reminder runs for desk orders too.
    fakes["clock"].advance(hours=19)
    assert jobs.remind_sms(deps) == 1
    staff = login(client, "demo-reviewer")  # the fake clock moved past the token's lifetime

    r = client.post(f"/api/v1/authority/desk/{cid}/sms-passed", headers=staff)
    assert r.status_code == 200 and r.json()["state"] == "authority_review", r.text
    r = client.post(f"/api/v1/authority/desk/{cid}/decision", headers=staff, json={"decision": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    kinds = _kinds(client, cid, staff)
    assert kinds[-4:] == ["authority_submitted", "sms_reminder", "authority_review", "approved"], kinds
    events = client.get(f"/api/v1/changes/{cid}/events", headers=staff).json()
    assert {e["actor"] for e in events[-4:] if e["kind"] != "sms_reminder"} == {"demo-reviewer"}
    # The website took the change.
    site = client.get(f"/api/v1/websites/{body['website_id']}", headers=staff).json()
    assert site["name"] == body["proposed"]["name"]
    assert cid not in [o["id"] for o in client.get("/api/v1/authority/desk", headers=staff).json()]


def test_desk_return_resubmit_and_rejection(desk_client, seeded) -> None:
    client, deps = desk_client, seeded
    cid, staff = _passed(client, deps)
    client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "R-1"})
    r = client.post(f"/api/v1/authority/desk/{cid}/returned", headers=staff, json={"reason": "sms_timeout"})
    assert r.status_code == 200 and r.json()["state"] == "authority_returned", r.text
    assert r.json()["authority_reason"] == "sms_timeout"
    # Handed over again from the returned state: a new SMS window.
    r = client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "R-2"})
    assert r.status_code == 200 and r.json()["state"] == "authority_sms"
    client.post(f"/api/v1/authority/desk/{cid}/sms-passed", headers=staff)
    r = client.post(f"/api/v1/authority/desk/{cid}/decision", headers=staff,
                    json={"decision": "reject", "reasons": ["网站名称与内容不符", "  "]})
    assert r.status_code == 200 and r.json()["state"] == "authority_rejected", r.text
    assert r.json()["reasons"][0]["message"] == "网站名称与内容不符"
    r = client.post(f"/api/v1/authority/desk/{cid}/decision", headers=staff, json={"decision": "maybe"})
    assert r.status_code == 422
    assert client.post("/api/v1/authority/desk/999999/sms-passed", headers=staff).status_code == 404


def test_handover_csv_masks_unless_an_admin_asks(desk_client, seeded) -> None:
    client, deps = desk_client, seeded
    cid, staff = _passed(client, deps)
    r = client.get("/api/v1/authority/desk/export.csv", headers=staff)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    row = next(x for x in rows if x["变更单"] == str(cid))
    assert row["网站负责人"] and row["域名"] and row["主体名称"]
    assert "****" in row["负责人手机号"] and "13912345678" not in r.text
    assert "*" in row["负责人证件号码"]
    assert client.get("/api/v1/authority/desk/export.csv?unmasked=true", headers=staff).status_code == 403
    admin = login(client, "demo-admin")
    r = client.get("/api/v1/authority/desk/export.csv?unmasked=true", headers=admin)
    assert r.status_code == 200 and "13912345678" in r.text
    assert "contact_viewed" in _kinds(client, cid, admin)
    audit = client.get("/api/v1/admin/audit", headers=admin).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    assert any(e["action"] == "desk.export_unmasked" and e["actor"] == "demo-admin" for e in entries), entries


def test_resend_points_to_the_desk_without_a_gateway(desk_client, seeded) -> None:
    client, deps = desk_client, seeded
    cid, staff = _passed(client, deps)
    client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "R-1"})
    client.post(f"/api/v1/authority/desk/{cid}/returned", headers=staff, json={"reason": "sms_failed"})
    r = client.post(f"/api/v1/review/changes/{cid}/resend", headers=staff)
    assert r.status_code == 409 and r.json()["code"] == "use_desk" and "管局工作台" in r.json()["message"]
    with deps.uow(readonly=True) as uow:
        assert not uow.outbox.list(kind="gateway_resend", change_id=cid)


def test_staff_are_told_once_when_the_sms_window_lapses_on_the_desk(desk_client, seeded, fakes) -> None:
    client, deps = desk_client, seeded
    cid, staff = _passed(client, deps)
    client.post(f"/api/v1/authority/desk/{cid}/submitted", headers=staff, json={"ref": "R-9"})
    from beiandesk.services import desk
    assert desk.remind_expired(deps) == 0  # still inside the window
    fakes["clock"].advance(hours=24, seconds=1)
    assert desk.remind_expired(deps) == 1 and desk.remind_expired(deps) == 0  # once
    with deps.uow(readonly=True) as uow:
        assert [e.kind for e in uow.changes.events(cid)].count("desk_sms_expired") == 1
        assert any("短信核验期限已过" in i.subject for i in uow.outbox.list(kind="email", change_id=cid))
        assert str(uow.changes.get(cid).state) == "authority_sms"
