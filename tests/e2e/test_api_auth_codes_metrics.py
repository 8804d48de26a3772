from __future__ import annotations

from tests.conftest import login


def test_enterprise_creates_up_to_five_codes_per_server_and_revokes(client) -> None:
    h = login(client, "demo-enterprise")
    instance = client.get("/api/v1/websites", headers=h).json()[0]["resource"]["instance_id"]
    codes = [client.post("/api/v1/auth-codes", headers=h, json={"instance_id": instance}) for _ in range(5)]
    assert [r.status_code for r in codes] == [201] * 5
    sixth = client.post("/api/v1/auth-codes", headers=h, json={"instance_id": instance})
    assert sixth.status_code == 422 and sixth.json()["code"] == "auth_code_exhausted"
    revoked = client.delete(f"/api/v1/auth-codes/{codes[0].json()['id']}", headers=h)
    assert revoked.json()["status"] == "revoked"
    assert client.post("/api/v1/auth-codes", headers=h, json={"instance_id": instance}).status_code == 201
    assert len(client.get("/api/v1/auth-codes", headers=h).json()) == 6


def test_personal_account_cannot_create_codes_and_foreign_servers_are_404(client) -> None:
    h = login(client, "demo-personal")
    mine = client.get("/api/v1/websites", headers=h).json()[0]["resource"]["instance_id"]
    r = client.post("/api/v1/auth-codes", headers=h, json={"instance_id": mine})
    assert r.status_code == 403 and r.json()["code"] == "auth_code_requires_enterprise"
    r = client.post("/api/v1/auth-codes", headers=h, json={"instance_id": "ins-sh3p8r1x"})
    assert r.status_code == 404


def test_metrics_show_orders_by_state_and_the_outbox(client) -> None:
    h = login(client, "demo-personal")
    site = client.get("/api/v1/websites", headers=h).json()[0]
    client.post(f"/api/v1/websites/{site['id']}/changes", headers=h)
    text = client.get("/metrics", headers=login(client, "demo-admin")).text
    assert 'beiandesk_change_orders{state="draft"} 1.0' in text
    assert 'beiandesk_outbox_rows{status="pending"} 0.0' in text
    assert 'route="/api/v1/websites",status="200"' in text
