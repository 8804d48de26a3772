"""Reviewer claims and the queue's search, filters and tabs, over HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from beiandesk.domain.model import Role
from beiandesk.services import claims, review
from tests.conftest import login
from tests.workflow_support import account, submitted_change


def _second_reviewer(deps) -> None:  # noqa: ANN001
    with deps.uow() as uow:
        uow.accounts.add("reviewer-b", deps.passwords.hash("beiandesk-demo"), Role.reviewer, "审核专员乙",
                         "b@example.com", False, deps.clock.now())
        uow.commit()


def test_claim_blocks_the_other_reviewer_until_released(client, seeded) -> None:  # noqa: ANN001
    _second_reviewer(seeded)
    order = submitted_change(seeded)
    a, b = login(client, "demo-reviewer"), login(client, "reviewer-b")
    r = client.post(f"/api/v1/review/changes/{order.id}/claim", headers=a)
    assert r.status_code == 200 and r.json()["claimed_by"] == "demo-reviewer"
    queue = client.get("/api/v1/review/queue", headers=b).json()
    assert [q["claimed_by"] for q in queue if q["id"] == order.id] == ["demo-reviewer"]
    for path, body in (("claim", None), ("calls", {"outcome": "reached", "note": ""}), ("approve", {"note": ""}),
                       ("reject", {"reasons": [{"code": "other", "message": "资料不全"}]})):
        r = client.post(f"/api/v1/review/changes/{order.id}/{path}", headers=b, json=body)
        assert r.status_code == 409, (path, r.text)
        assert r.json()["code"] == "claimed_by_other" and r.json()["claimed_by"] == "demo-reviewer"
    assert client.post(f"/api/v1/review/changes/{order.id}/release", headers=b).status_code == 409
    assert client.post(f"/api/v1/review/changes/{order.id}/release", headers=a).status_code == 200
    assert client.post(f"/api/v1/review/changes/{order.id}/calls", headers=b,
                       json={"outcome": "reached", "note": ""}).status_code == 200
    assert client.get("/api/v1/review/queue", headers=a).json()[0]["claimed_by"] == "reviewer-b"


def test_claim_goes_stale_after_30_minutes_and_admins_may_act(client, seeded, fakes) -> None:  # noqa: ANN001
    _second_reviewer(seeded)
    order = submitted_change(seeded)
    a, b = login(client, "demo-reviewer"), login(client, "reviewer-b")
    assert client.post(f"/api/v1/review/changes/{order.id}/claim", headers=a).status_code == 200
    fakes["clock"].advance(minutes=29)
    assert client.post(f"/api/v1/review/changes/{order.id}/claim", headers=b).status_code == 409
    fakes["clock"].advance(minutes=2)
    assert client.post(f"/api/v1/review/changes/{order.id}/claim", headers=b).json()["claimed_by"] == "reviewer-b"
    admin = login(client, "demo-admin")
    assert client.post(f"/api/v1/review/changes/{order.id}/calls", headers=admin,
                       json={"outcome": "reached", "note": ""}).status_code == 200
    assert client.get("/api/v1/review/queue", headers=a).json()[0]["claimed_by"] == "demo-admin"
    events = [e["kind"] for e in client.get(f"/api/v1/changes/{order.id}/events", headers=admin).json()]
    assert events.count("claim") >= 2


def test_racing_reviewers_exactly_one_wins(seeded) -> None:  # noqa: ANN001
    _second_reviewer(seeded)
    order = submitted_change(seeded)
    people = [account(seeded, "demo-reviewer"), account(seeded, "reviewer-b")]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def go(who) -> None:  # noqa: ANN001
        barrier.wait()
        try:
            claims.claim(seeded, who, order.id)
            results.append("won")
        except Exception as exc:  # noqa: BLE001
            results.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=go, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["claimed_by_other", "won"]


def test_search_filters_and_tabs(client, seeded) -> None:  # noqa: ANN001
    personal = submitted_change(seeded)
    enterprise = submitted_change(seeded, "demo-enterprise")
    h = login(client, "demo-reviewer")
    ids = lambda **p: [q["id"] for q in client.get("/api/v1/review/queue", headers=h, params=p).json()]  # noqa: E731
    assert set(ids()) == {personal.id, enterprise.id}
    site = client.get(f"/api/v1/websites/{personal.website_id}", headers=h).json()
    assert ids(q=site["filing_number"]) == [personal.id]
    assert ids(q=site["domains"][0].upper()) == [personal.id]
    assert ids(q="粤ＩＣＰ备") == [personal.id]  # full-width finds half-width
    assert ids(q=enterprise.proposed.name) == [enterprise.id]
    subject = client.get(f"/api/v1/subjects/{enterprise.subject_id}", headers=h).json()
    assert ids(q=subject["name"]) == [enterprise.id]
    assert ids(province="上海") == [enterprise.id]
    assert ids(overdue="true") == []
    assert ids(q="没有这个网站") == []
    assert ids(tab="sms") == [] and ids(tab="authority") == []
    r = client.get("/api/v1/review/queue", headers=h, params={"state": "bogus"})
    assert r.status_code == 422
    rows = client.get("/api/v1/review/queue", headers=h).json()
    assert {r["province"] for r in rows} == {"广东", "上海"}
    assert all(r["filing_number"] for r in rows)
    applicant = login(client, "demo-personal")
    assert client.get("/api/v1/review/queue", headers=applicant).status_code == 403


def test_decision_releases_the_claim(seeded) -> None:  # noqa: ANN001
    reviewer = account(seeded, "demo-reviewer")
    order = submitted_change(seeded)
    review.log_call(seeded, reviewer, order.id, "reached", "")
    assert claims.holders(seeded, [order.id])[order.id].username == "demo-reviewer"
    review.approve(seeded, reviewer, order.id, "")
    assert claims.holders(seeded, [order.id]) == {}


def test_console_queue_shows_holder_tabs_and_search(app, seeded) -> None:  # noqa: ANN001
    from tests.e2e.test_console_http import console_client, log_in
    _second_reviewer(seeded)
    personal = submitted_change(seeded)
    enterprise = submitted_change(seeded, "demo-enterprise")
    claims.claim(seeded, account(seeded, "reviewer-b"), enterprise.id)
    with console_client(app) as web:
        log_in(web, "demo-reviewer")
        page = web.get("/review").text
        assert "待初审" in page and "短信核验中" in page and "管局审核中" in page
        assert "reviewer-b" in page and "未认领" in page
        assert f"/review/{personal.id}" in page and f"/review/{enterprise.id}" in page
        found = web.get("/review", params={"q": "粤ICP备"}).text
        assert f"/review/{personal.id}" in found and f"/review/{enterprise.id}\"" not in found
        assert "没有符合条件的变更单" in web.get("/review", params={"q": "没有这个网站"}).text
        assert "目前没有短信核验中的变更单" in web.get("/review", params={"tab": "sms"}).text
        r = web.post(f"/review/{enterprise.id}/claim", data={"csrf_token": _csrf(web, f"/review/{enterprise.id}")})
        assert r.status_code == 303
        assert "reviewer-b" in web.get(r.headers["location"]).text


def _csrf(web, path: str) -> str:  # noqa: ANN001
    from tests.e2e.test_console_http import CSRF
    return CSRF.search(web.get(path).text).group(1)


def test_reveal_identity_is_audited(client, seeded) -> None:  # noqa: ANN001
    order = submitted_change(seeded)
    h = login(client, "demo-reviewer")
    masked = client.get(f"/api/v1/subjects/{order.subject_id}", headers=h).json()["principal"]["id_number"]
    assert "*" in masked
    r = client.post(f"/api/v1/review/changes/{order.id}/identity", headers=h)
    assert r.status_code == 200
    full = r.json()["subject_principal"]["id_number"]
    assert "*" not in full and full[:4] == masked[:4] and full[-4:] == masked[-4:]
    audit = client.get("/api/v1/admin/audit", headers=login(client, "demo-admin")).json()
    entries = audit["items"] if isinstance(audit, dict) else audit
    looks = [e for e in entries if e["action"] == "personal_data.reveal"]
    assert looks and looks[0]["actor"] == "demo-reviewer" and looks[0]["target"] == f"change:{order.id}"
    assert full not in str(entries)
    assert client.post(f"/api/v1/review/changes/{order.id}/identity",
                       headers=login(client, "demo-personal")).status_code == 403
