"""Found in helper J's walk-through: while demo-reviewer held an order, reviewer-b (not working
on it) could still reveal its principal's full ID numbers. A look at personal data is part of
working on the order, so it follows the claim like a call or a decision: another reviewer gets
409 ``claimed_by_other`` and no audit row; the holder and admins may look (each look audited)."""

from __future__ import annotations

from tests.conftest import login
from tests.e2e.test_claims_queue import _second_reviewer
from tests.workflow_support import submitted_change


def _looks(client) -> list[dict]:  # noqa: ANN001
    audit = client.get("/api/v1/admin/audit", headers=login(client, "demo-admin")).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    return [e for e in entries if e["action"] == "personal_data.reveal"]


def test_only_the_claim_holder_or_an_admin_sees_full_id_numbers(client, seeded) -> None:  # noqa: ANN001
    _second_reviewer(seeded)
    order = submitted_change(seeded)
    a, b = login(client, "demo-reviewer"), login(client, "reviewer-b")
    assert client.post(f"/api/v1/review/changes/{order.id}/claim", headers=a).status_code == 200
    r = client.post(f"/api/v1/review/changes/{order.id}/identity", headers=b)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "claimed_by_other" and r.json()["claimed_by"] == "demo-reviewer"
    assert "*" not in r.text and _looks(client) == []
    assert client.post(f"/api/v1/review/changes/{order.id}/identity", headers=a).status_code == 200
    admin = login(client, "demo-admin")
    assert client.post(f"/api/v1/review/changes/{order.id}/identity", headers=admin).status_code == 200
    assert [e["actor"] for e in _looks(client)] == ["demo-admin", "demo-reviewer"]
    assert client.post(f"/api/v1/review/changes/{order.id}/release", headers=a).status_code == 200
    assert client.post(f"/api/v1/review/changes/{order.id}/identity", headers=b).status_code == 200


def test_the_console_says_who_holds_it_beside_the_control(app, seeded) -> None:  # noqa: ANN001
    from tests.e2e.test_console_http import console_client, csrf_of, log_in

    _second_reviewer(seeded)
    order = submitted_change(seeded)
    a, b = console_client(app), console_client(app)
    log_in(a, "demo-reviewer")
    log_in(b, "reviewer-b")
    path = f"/review/{order.id}"
    assert a.post(f"{path}/claim", data={"csrf_token": csrf_of(a, path)}).status_code in (200, 303)
    page = b.get(path).text
    assert ">查看完整证件号码</button>" not in page and "认领后可查看完整证件号码" in page
    # a stale page's button (or a hand-made POST) is refused beside the 处理人 card, not with an error page
    r = b.post(f"{path}/identity", data={"csrf_token": csrf_of(b, path)}, follow_redirects=True)
    assert r.status_code == 200
    assert "正由审核专员 demo-reviewer 处理" in r.text and "44030519900101123X" not in r.text
    r = a.post(f"{path}/identity", data={"csrf_token": csrf_of(a, path)})
    assert r.status_code == 200 and "本次查看已记入审计日志" in r.text
