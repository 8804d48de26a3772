"""``POST /api/v1/admin/imports`` over HTTP: admin only, the CLI's JSON, dry runs write nothing."""

from __future__ import annotations

from tests.conftest import login
from tests.import_support import csv_text, record, rows


def _post(client, headers, content: bytes, name: str = "records.csv", dry_run: str | None = None):  # noqa: ANN001, ANN202
    data = {"dry_run": dry_run} if dry_run is not None else {}
    return client.post("/api/v1/admin/imports", headers=headers, files={"file": (name, content, "text/csv")},
                       data=data)


def test_admin_imports_a_file_with_bad_rows(client) -> None:  # noqa: ANN001
    admin = login(client, "demo-admin")
    body = csv_text([*rows(2), record(5, subject_principal_email="not-an-email")]).encode("gb18030")
    dry = _post(client, admin, body, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 2
    r = _post(client, admin, body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert {k: out[k] for k in ("ok", "rows", "created", "updated", "unchanged", "refused")} == {
        "ok": False, "rows": 3, "created": 2, "updated": 0, "unchanged": 0, "refused": 1}
    assert [(p["row"], p["code"], p["field"]) for p in out["problems"]] == [(4, "email_invalid", "subject_principal_email")]
    again = _post(client, admin, body).json()
    assert (again["created"], again["unchanged"]) == (0, 2)
    # imported subjects have no owner yet: staff still read them, masked as everywhere
    for path in ("/api/v1/websites", "/api/v1/subjects"):
        listed = client.get(path, headers=admin)
        assert listed.status_code == 200, listed.text
        assert record(0)["subject_principal_mobile"] not in listed.text
    sites = client.get("/api/v1/websites", headers=admin).json()
    items = sites["items"] if isinstance(sites, dict) else sites
    imported = [w for w in items if w["filing_number"] == record(0)["website_filing_number"]]
    assert len(imported) == 1
    one = client.get(f"/api/v1/websites/{imported[0]['id']}", headers=admin)
    assert one.status_code == 200, one.text
    audit = client.get("/api/v1/admin/audit", headers=admin)
    if audit.status_code == 200:
        items = audit.json()["items"] if isinstance(audit.json(), dict) else audit.json()
        assert any(e["action"] == "records.import" for e in items)


def test_unreadable_file_is_422_and_non_admins_are_refused(client) -> None:  # noqa: ANN001
    admin = login(client, "demo-admin")
    r = _post(client, admin, b"\x89PNG\r\n\x1a\n" + bytes(100), name="photo.png")
    assert r.status_code == 422
    assert r.json()["problems"][0]["code"] == "import_file_unreadable"
    r = _post(client, admin, csv_text(rows(1)).replace("province,", "prov,").encode())
    assert r.status_code == 422 and r.json()["code"] == "import_column_missing"
    reviewer = login(client, "demo-reviewer")
    assert _post(client, reviewer, csv_text(rows(1)).encode()).status_code == 403
    assert _post(client, {}, csv_text(rows(1)).encode()).status_code == 401
