from __future__ import annotations

from tests.conftest import login


def test_applicant_opens_and_edits_a_change(client) -> None:
    h = login(client, "demo-personal")
    sites = client.get("/api/v1/websites", headers=h).json()
    assert [s["filing_number"] for s in sites] == ["粤ICP备20260001号-1"]
    r = client.post(f"/api/v1/websites/{sites[0]['id']}/changes", headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "draft" and r.headers["etag"] == '"1"'
