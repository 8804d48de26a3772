from __future__ import annotations

from tests.conftest import login


def test_reviewer_reveals_the_number_to_call_and_it_is_recorded(client) -> None:
    applicant = login(client, "demo-personal")
    site = client.get("/api/v1/websites", headers=applicant).json()[0]
    cid = client.post(f"/api/v1/websites/{site['id']}/changes", headers=applicant).json()["id"]
    assert client.post(f"/api/v1/review/changes/{cid}/contact", headers=applicant).status_code == 403
    reviewer = login(client, "demo-reviewer")
    r = client.post(f"/api/v1/review/changes/{cid}/contact", headers=reviewer)
    assert r.status_code == 200 and r.json()["mobile"] == "13912345678"
    events = client.get(f"/api/v1/changes/{cid}/events", headers=reviewer).json()
    assert [e for e in events if e["kind"] == "contact_viewed"][0]["actor"] == "demo-reviewer"
    # Everywhere else the number stays masked.
    assert "13912345678" not in client.get(f"/api/v1/changes/{cid}", headers=reviewer).text
