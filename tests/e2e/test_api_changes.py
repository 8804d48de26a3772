"""HTTP API: the applicant's side of a change order (api.md §Change orders, §States)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from beiandesk.domain.materials_files import MATERIAL_KINDS
from tests.conftest import login
from tests.workflow_support import tiny_png

CN = timezone(timedelta(hours=8))
PNG = tiny_png()  # a whole PNG: materials are judged by every chunk, not by their first and last bytes
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CONSENT = {"accept_terms": True, "accept_privacy": True}


def assert_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    assert re.search(r"[\u4e00-\u9fff]", body["message"])
    return body


def site_ids(client, h) -> dict[str, int]:
    return {w["name"]: w["id"] for w in client.get("/api/v1/websites", headers=h).json()}


def open_change(client, h, name: str) -> dict:
    r = client.post(f"/api/v1/websites/{site_ids(client, h)[name]}/changes", headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def fresh(client, h, cid: int) -> dict[str, str]:
    """Headers for a PATCH of the version just read (a PATCH without If-Match is 428)."""
    return {**h, "If-Match": client.get(f"/api/v1/changes/{cid}", headers=h).headers["etag"]}


def make_submittable(client, h, cid: int) -> list[str]:
    """Upload every material the pre-check asks for, and a verification photo (FakePhoto passes it);
    an order that changes nothing is given a change (its home page path), or it is ``no_changes``."""
    order = client.get(f"/api/v1/changes/{cid}", headers=h).json()
    if not order["changed_fields"]:
        r = client.patch(f"/api/v1/changes/{cid}", headers=fresh(client, h, cid),
                         json={"home_url": order["proposed"]["home_url"].rstrip("/") + "/index.html"})
        assert r.status_code == 200, r.text
    problems = client.get(f"/api/v1/changes/{cid}/precheck", headers=h).json()["problems"]
    kinds = [p["kind"] for p in problems if p["code"] == "material_missing"]
    for kind in kinds:
        r = client.post(f"/api/v1/changes/{cid}/materials", headers=h, data={"kind": kind},
                        files={"file": (f"{kind}.pdf", PDF, "application/pdf")})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/changes/{cid}/verification", headers=h, files={"file": ("me.jpg", b"any bytes")})
    assert r.status_code == 201 and r.json()["passed"] is True, r.text
    return kinds


@pytest.fixture
def ent(client) -> dict[str, str]:
    return login(client, "demo-enterprise")


@pytest.fixture
def per(client) -> dict[str, str]:
    return login(client, "demo-personal")


# --- open ----------------------------------------------------------------------------------------------


def test_open_a_change(client, ent) -> None:
    ids = site_ids(client, ent)
    r = client.post(f"/api/v1/websites/{ids['云帆开发者文档中心']}/changes", headers=ent)
    assert r.status_code == 201 and r.headers["etag"] == '"1"'
    c = r.json()
    assert (c["website_id"], c["state"], c["version"]) == (ids["云帆开发者文档中心"], "draft", 1)
    assert c["created_at"] and datetime.fromisoformat(c["created_at"]).tzinfo is not None
    website = client.get(f"/api/v1/websites/{ids['云帆开发者文档中心']}", headers=ent).json()
    for snap in (c["current"], c["proposed"]):
        for key in ("name", "domains", "home_url", "principal", "resource"):
            assert snap[key] == website[key]
    got = client.get(f"/api/v1/changes/{c['id']}", headers=ent)
    assert got.status_code == 200 and got.headers["etag"] == '"1"' and got.json()["id"] == c["id"]
    assert [x["id"] for x in client.get("/api/v1/changes", headers=ent).json()] == [c["id"]]
    assert [x["id"] for x in client.get("/api/v1/changes?state=draft", headers=ent).json()] == [c["id"]]
    assert client.get("/api/v1/changes?state=withdrawn", headers=ent).json() == []


def test_a_closed_website_cannot_be_changed(client, ent) -> None:
    r = client.post(f"/api/v1/websites/{site_ids(client, ent)['云帆旧版商城']}/changes", headers=ent)
    assert_problem(r, 409, "website_not_open")
    assert client.get("/api/v1/changes", headers=ent).json() == []


def test_one_open_order_per_website_then_withdraw_frees_it(client, ent) -> None:
    sid = site_ids(client, ent)["云帆科技官网"]
    first = client.post(f"/api/v1/websites/{sid}/changes", headers=ent).json()
    assert_problem(client.post(f"/api/v1/websites/{sid}/changes", headers=ent), 409, "change_in_progress")
    # another website of the same subject is not blocked
    assert client.post(f"/api/v1/websites/{site_ids(client, ent)['云帆开发者文档中心']}/changes",
                       headers=ent).status_code == 201
    r = client.post(f"/api/v1/changes/{first['id']}/withdraw", headers=ent)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn" and r.headers["etag"] == '"2"'
    again = client.post(f"/api/v1/websites/{sid}/changes", headers=ent)
    assert again.status_code == 201 and again.json()["id"] != first["id"]


def test_a_submitted_order_still_blocks_the_website(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    make_submittable(client, ent, c["id"])
    assert client.post(f"/api/v1/changes/{c['id']}/submit", headers=ent, json=CONSENT).status_code == 200
    r = client.post(f"/api/v1/websites/{c['website_id']}/changes", headers=ent)
    assert_problem(r, 409, "change_in_progress")


# --- PATCH, ETag and If-Match ------------------------------------------------------------------------------


def test_patch_with_etags(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}"
    r = client.patch(url, headers={**ent, "If-Match": '"1"'}, json={"name": "云帆科技集团官网"})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    body = r.json()
    assert body["version"] == 2 and body["proposed"]["name"] == "云帆科技集团官网"
    assert body["current"]["name"] == "云帆科技官网" and body["changed_fields"] == ["name"]
    # the bare version number works too, and so does the {"proposed": …} wrapper
    r = client.patch(url, headers={**ent, "If-Match": "2"}, json={"proposed": {"home_url": "https://yunfan-tech.com.cn/"}})
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    assert r.json()["proposed"]["name"] == "云帆科技集团官网"  # partial: the earlier edit stays
    # a stale version
    stale = assert_problem(client.patch(url, headers={**ent, "If-Match": '"2"'}, json={"name": "云帆官网三"}),
                           412, "version_conflict")
    assert stale.get("current_version") == 3
    got = client.get(url, headers=ent)
    assert got.headers["etag"] == '"3"' and got.json()["proposed"]["name"] == "云帆科技集团官网"
    # the ETag of a GET is what the next If-Match sends
    r = client.patch(url, headers={**ent, "If-Match": got.headers["etag"]}, json={"name": "云帆官网四"})
    assert r.status_code == 200 and r.json()["version"] == 4


def test_if_match_that_cannot_match_is_412(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    for value in ('"abc"', "garbage", '"1", "2"', "-1", '"99"', "0", "1.0", "9" * 12):
        r = client.patch(f"/api/v1/changes/{c['id']}", headers={**ent, "If-Match": value}, json={"name": "云帆官网新版"})
        assert_problem(r, 412, "version_conflict")
    assert client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()["version"] == 1


def test_personal_principal_swap_is_refused(client, per) -> None:
    c = open_change(client, per, "明远技术笔记")
    r = client.patch(f"/api/v1/changes/{c['id']}", headers={**per, "If-Match": '"1"'}, json={
        "principal": {"name": "王芳", "id_type": "resident_id", "id_number": "310104198503152023",
                      "mobile": "13812345678", "email": "wangfang@example.com"}})
    body = assert_problem(r, 422, "principal_change_requires_filing_change")
    assert any(p["field"] == "proposed.principal" for p in body["problems"])
    after = client.get(f"/api/v1/changes/{c['id']}", headers=per).json()
    assert after["version"] == 1 and after["proposed"]["principal"]["name"] == "李明"


def test_personal_principal_may_change_mobile_and_email(client, per) -> None:
    c = open_change(client, per, "明远技术笔记")
    r = client.patch(f"/api/v1/changes/{c['id']}", headers=fresh(client, per, c['id']),
                     json={"principal": {"mobile": "13700001234", "email": "ming@example.cn"}})
    assert r.status_code == 200, r.text
    p = r.json()["proposed"]["principal"]
    assert (p["name"], p["id_number"], p["mobile"], p["email"]) == ("李明", "4403**********123X", "137****1234",
                                                                    "ming@example.cn")
    assert r.json()["changed_fields"] == ["principal"]


def test_masked_values_sent_back_keep_the_stored_ones(client, per) -> None:
    c = open_change(client, per, "明远技术笔记")
    shown = dict(c["proposed"]["principal"])  # masked id_number and mobile, as a form would send back
    r = client.patch(f"/api/v1/changes/{c['id']}", headers=fresh(client, per, c['id']), json={"principal": {**shown, "email": "x@example.cn"}})
    assert r.status_code == 200, r.text  # not a "new person", not an invalid ID
    assert r.json()["proposed"]["principal"]["id_number"] == shown["id_number"]
    deps = client.app.state.deps
    with deps.uow(readonly=True) as uow:
        stored = uow.changes.get(c["id"]).proposed.principal
    assert (stored.id_number, stored.mobile, stored.email) == ("44030519900101123X", "13912345678", "x@example.cn")


def test_masked_values_pass_validation_for_an_enterprise_principal(client, ent) -> None:
    # The enterprise website principal is validated on every change: masked values must be
    # understood as "unchanged", not judged as an invalid ID number or mobile.
    c = open_change(client, ent, "云帆开发者文档中心")
    shown = dict(c["proposed"]["principal"])
    r = client.patch(f"/api/v1/changes/{c['id']}", headers=fresh(client, ent, c['id']),
                     json={"principal": {**shown, "email": "hao.chen@yunfan-tech.com.cn"}})
    assert r.status_code == 200, r.text
    with client.app.state.deps.uow(readonly=True) as uow:
        stored = uow.changes.get(c["id"]).proposed.principal
    assert (stored.id_number, stored.mobile) == ("310115199207083012", "13687654321")


def test_domains_may_only_be_removed(client, ent) -> None:
    c = open_change(client, ent, "云帆开发者文档中心")
    url = f"/api/v1/changes/{c['id']}"
    body = assert_problem(client.patch(url, headers=fresh(client, ent, c['id']), json={"domains": ["yunfan-dev.cn", "yunfandev.com",
                                                                           "yunfan-new.cn"]}),
                          422, "domain_add_not_allowed")
    assert [p["field"] for p in body["problems"]] == ["proposed.domains[2]"]
    assert_problem(client.patch(url, headers=fresh(client, ent, c['id']), json={"domains": ["yunfan-dev2.cn"]}), 422, "domain_add_not_allowed")
    assert_problem(client.patch(url, headers=fresh(client, ent, c['id']), json={"domains": []}), 422, "domain_required")
    # The home page is on the removed domain: the save must move it too (home_url_invalid).
    body = assert_problem(client.patch(url, headers={**ent, "If-Match": '"1"'}, json={"domains": ["yunfandev.com"]}),
                          422, "home_url_invalid")
    assert [p["field"] for p in body["problems"]] == ["proposed.home_url"]
    r = client.patch(url, headers={**ent, "If-Match": '"1"'},
                     json={"domains": ["yunfandev.com"], "home_url": "https://docs.yunfandev.com/"})
    assert r.status_code == 200, r.text
    assert r.json()["proposed"]["domains"] == ["yunfandev.com"]
    assert r.json()["current"]["domains"] == ["yunfan-dev.cn", "yunfandev.com"]
    assert "domains" in r.json()["changed_fields"]


def test_enterprise_website_principal_is_validated(client, ent) -> None:
    c = open_change(client, ent, "云帆开发者文档中心")
    for principal, code, field in [
        ({"id_number": "310115199207083013"}, "id_number_invalid", "proposed.principal.id_number"),  # check digit
        ({"id_number": "12345"}, "id_number_invalid", "proposed.principal.id_number"),
        ({"mobile": "1234"}, "mobile_invalid", "proposed.principal.mobile"),
        ({"mobile": "12912345678"}, "mobile_invalid", "proposed.principal.mobile"),
        ({"email": "not-an-email"}, "email_invalid", "proposed.principal.email"),
    ]:
        r = client.patch(f"/api/v1/changes/{c['id']}", headers=fresh(client, ent, c['id']), json={"principal": principal})
        body = assert_problem(r, 422, code)
        assert field in [p.get("field") for p in body["problems"]]
    assert client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()["version"] == 1


def test_enterprise_website_principal_may_be_another_valid_person(client, ent) -> None:
    c = open_change(client, ent, "云帆开发者文档中心")
    r = client.patch(f"/api/v1/changes/{c['id']}", headers=fresh(client, ent, c['id']), json={"principal": {
        "name": "王芳", "id_type": "resident_id", "id_number": "310104198503152023", "mobile": "13812345678",
        "email": "wangfang@yunfan-tech.com.cn"}})
    assert r.status_code == 200, r.text
    assert r.json()["proposed"]["principal"]["name"] == "王芳"
    assert r.json()["proposed"]["principal"]["id_number"] == "3101**********2023"


def test_unknown_fields_and_wrong_types_are_refused(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    for patch in [
        {"status": "closed"}, {"filing_number": "沪ICP备99999999号-1"}, {"principal": {"age": 30}},
        {"resource": {"colour": "red"}}, {"proposed": {"name": "云帆官网"}, "name": "云帆官网"},
        {"domains": "yunfan-tech.com.cn"}, {"name": 5}, {"name": ["云帆"]}, {"principal": "王芳"},
        {"resource": {"purchased_at": "not a date"}}, {"resource": {"kind": "mainframe"}}, {"name": "x" * 201},
        {"domains": [None]}, [{"name": "云帆官网"}], "云帆官网", None,
    ]:
        r = client.patch(f"/api/v1/changes/{c['id']}", headers=ent, json=patch)
        assert_problem(r, 422, "invalid_request")
    assert client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()["version"] == 1


def test_not_editable_after_submit(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    make_submittable(client, ent, c["id"])
    r = client.post(f"/api/v1/changes/{c['id']}/submit", headers=ent, json=CONSENT)
    assert r.status_code == 200, r.text
    etag = r.headers["etag"]
    assert_problem(client.patch(f"/api/v1/changes/{c['id']}", headers={**ent, "If-Match": etag},
                                json={"name": "云帆官网新版"}), 409, "not_editable")
    assert_problem(client.post(f"/api/v1/changes/{c['id']}/materials", headers=ent, data={"kind": "other"},
                               files={"file": ("a.pdf", PDF)}), 409, "not_editable")
    assert_problem(client.post(f"/api/v1/changes/{c['id']}/submit", headers=ent, json=CONSENT), 409, "not_editable")


# --- materials --------------------------------------------------------------------------------------------


def test_materials_judged_by_content(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}/materials"
    r = client.post(url, headers=ent, data={"kind": "business_license"}, files={"file": ("licence.pdf", PNG, "application/pdf")})
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["kind"], m["content_type"], m["size"]) == ("business_license", "image/png", len(PNG))
    assert_problem(client.post(url, headers=ent, data={"kind": "id_card_front"},
                               files={"file": ("photo.jpg", b"just some text\n", "image/jpeg")}),
                   422, "material_type_not_allowed")
    assert_problem(client.post(url, headers=ent, data={"kind": "id_card_front"}, files={"file": ("empty.png", b"")}),
                   422, "material_unreadable")
    assert_problem(client.post(url, headers=ent, data={"kind": "selfie"}, files={"file": ("a.png", PNG)}),
                   422, "material_kind_invalid")
    assert_problem(client.post(url, headers=ent, files={"file": ("a.png", PNG)}), 422, "invalid_request")
    assert_problem(client.post(url, headers=ent, data={"kind": "other"}), 422, "invalid_request")
    listed = client.get(url, headers=ent).json()
    assert [x["id"] for x in listed] == [m["id"]]
    content = client.get(f"{url}/{m['id']}/content", headers=ent)
    assert content.status_code == 200 and content.content == PNG
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    # staff can read it too
    assert client.get(f"{url}/{m['id']}/content", headers=login(client, "demo-reviewer")).content == PNG


def test_delete_material(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}/materials"
    m = client.post(url, headers=ent, data={"kind": "other"}, files={"file": ("a.pdf", PDF)}).json()
    r = client.delete(f"{url}/{m['id']}", headers=ent)
    assert r.status_code == 204 and r.content == b""
    assert client.get(url, headers=ent).json() == []
    assert_problem(client.delete(f"{url}/{m['id']}", headers=ent), 404, "not_found")
    assert_problem(client.get(f"{url}/{m['id']}/content", headers=ent), 404, "not_found")
    # a material id of another order is not this order's
    other = open_change(client, ent, "云帆开发者文档中心")
    m2 = client.post(f"/api/v1/changes/{other['id']}/materials", headers=ent, data={"kind": "other"},
                     files={"file": ("b.pdf", PDF)}).json()
    assert_problem(client.delete(f"{url}/{m2['id']}", headers=ent), 404, "not_found")
    assert_problem(client.get(f"{url}/{m2['id']}/content", headers=ent), 404, "not_found")


def test_too_large_material_is_413(client, ent) -> None:
    deps = client.app.state.deps
    deps.settings = deps.settings.model_copy(update={"max_material_bytes": 2048})
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}/materials"
    big = PDF[:-7] + b"\x00" * 4096 + b"%%EOF\n"
    assert_problem(client.post(url, headers=ent, data={"kind": "other"}, files={"file": ("big.pdf", big)}),
                   413, "material_too_large")
    assert client.get(url, headers=ent).json() == []
    assert client.post(url, headers=ent, data={"kind": "other"}, files={"file": ("ok.pdf", PDF)}).status_code == 201


def test_client_filename_is_never_a_path(client, ent, tmp_path: Path) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}/materials"
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/etc/shadow", "证件/../../x.png"):
        r = client.post(url, headers=ent, data={"kind": "other"}, files={"file": (name, PDF.replace(b"trailer", b"%" + name.encode() + b"\ntrailer"))})
        assert r.status_code == 201, r.text
        assert "/" not in r.json()["filename"] and "\\" not in r.json()["filename"]
    root = client.app.state.deps.settings.resolved_storage_dir()
    stored = [p for p in root.rglob("*") if p.is_file()]
    assert len(stored) == 4
    for p in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", p.name), p
        assert p.parent.parent.parent == root and p.parent.name == p.name[2:4] and p.parent.parent.name == p.name[:2]
    assert not any(p.name in ("passwd", "shadow", "boot.ini", "x.png") for p in tmp_path.rglob("*"))


# --- submit ----------------------------------------------------------------------------------------------


def test_submit_needs_consent(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}/submit"
    for body in (None, {}, {"accept_terms": True}, {"accept_privacy": True},
                 {"accept_terms": False, "accept_privacy": True}):
        assert_problem(client.post(url, headers=ent, json=body), 422, "consent_required")
    assert client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()["state"] == "draft"


def test_submit_runs_the_precheck(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    body = assert_problem(client.post(f"/api/v1/changes/{c['id']}/submit", headers=ent, json=CONSENT),
                          422, "precheck_failed")
    missing = [p for p in body["problems"] if p["code"] == "material_missing"]
    assert missing, body
    for p in missing:
        assert p["kind"] in MATERIAL_KINDS and p["severity"] == "error"
    assert {"id_card_front", "business_license"} <= {p["kind"] for p in missing}
    assert "verification_missing" in {p["code"] for p in body["problems"]}
    assert all(p["severity"] == "error" for p in body["problems"])
    after = client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()
    assert after["state"] == "draft" and after["consent"] is None and after["submitted_at"] is None


def test_submit_goes_to_first_review(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    make_submittable(client, ent, c["id"])
    now = client.app.state.deps.clock.now()
    r = client.post(f"/api/v1/changes/{c['id']}/submit", headers=ent, json=CONSENT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "provider_review" and r.headers["etag"] == f'"{body["version"]}"'
    assert body["consent"] is not None and body["consent"]["terms_version"] == "2026-11"
    assert datetime.fromisoformat(body["consent"]["at"]) == now
    assert datetime.fromisoformat(body["submitted_at"]) == now
    # the fake clock is Wednesday 2026-11-25 10:00 Beijing: due Friday, same time
    assert datetime.fromisoformat(body["due_at"]) == datetime(2026, 11, 27, 10, 0, tzinfo=CN)
    stored = client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()
    assert stored["consent"] == body["consent"] and stored["due_at"] is not None
    queue = client.get("/api/v1/review/queue", headers=login(client, "demo-reviewer")).json()
    assert [q["id"] for q in queue] == [c["id"]]


def test_personal_subject_can_submit(client, per) -> None:
    c = open_change(client, per, "明远技术笔记")
    make_submittable(client, per, c["id"])
    r = client.post(f"/api/v1/changes/{c['id']}/submit", headers=per, json=CONSENT)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("submitted_cn", "due_cn"), [
    (datetime(2026, 11, 27, 16, 0, tzinfo=CN), datetime(2026, 12, 1, 16, 0, tzinfo=CN)),   # Friday → Tuesday
    (datetime(2026, 11, 28, 10, 0, tzinfo=CN), datetime(2026, 12, 2, 9, 0, tzinfo=CN)),    # Saturday → Wed 09:00
    (datetime(2026, 11, 30, 7, 30, tzinfo=CN), datetime(2026, 12, 2, 7, 30, tzinfo=CN)),   # Monday early → Wednesday
])
def test_due_date_counts_beijing_working_days(client, submitted_cn: datetime, due_cn: datetime) -> None:
    client.app.state.deps.clock.current = submitted_cn.astimezone(UTC)
    h = login(client, "demo-enterprise")
    c = open_change(client, h, "云帆科技官网")
    make_submittable(client, h, c["id"])
    body = client.post(f"/api/v1/changes/{c['id']}/submit", headers=h, json=CONSENT).json()
    due = datetime.fromisoformat(body["due_at"])
    assert due == due_cn, f"due {due.astimezone(CN).isoformat()} Beijing, expected {due_cn.isoformat()}"


# --- withdraw and the timeline -----------------------------------------------------------------------------


def test_withdraw(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}"
    assert client.post(f"{url}/withdraw", headers=ent).json()["state"] == "withdrawn"
    assert_problem(client.post(f"{url}/withdraw", headers=ent), 409, "not_editable")
    assert_problem(client.patch(url, headers=fresh(client, ent, c['id']), json={"name": "云帆官网新版"}), 409, "not_editable")
    assert_problem(client.post(f"{url}/submit", headers=ent, json=CONSENT), 409, "not_editable")


def test_events_timeline_records_every_state_change(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}"
    assert client.patch(url, headers=fresh(client, ent, c['id']), json={"name": "云帆科技集团官网"}).status_code == 200
    make_submittable(client, ent, c["id"])
    client.app.state.deps.clock.advance(minutes=5)
    assert client.post(f"{url}/submit", headers=ent, json=CONSENT).status_code == 200
    client.app.state.deps.clock.advance(minutes=5)
    assert client.post(f"{url}/withdraw", headers=ent).status_code == 200
    events = client.get(f"{url}/events", headers=ent).json()
    for e in events:
        assert {"at", "kind", "state", "actor", "message"} <= set(e)
        assert datetime.fromisoformat(e["at"]).tzinfo is not None and e["message"]
    ats = [datetime.fromisoformat(e["at"]) for e in events]
    assert ats == sorted(ats)
    moves = [(e["from_state"], e["state"], e["actor"]) for e in events if e.get("from_state")]
    assert moves == [("draft", "provider_review", "demo-enterprise"),
                     ("provider_review", "withdrawn", "demo-enterprise")]
    assert events[0]["kind"] == "created" and events[0]["state"] == "draft"
    # the chain of states is unbroken: each move starts where the previous event left the order
    state = None
    for e in events:
        if e.get("from_state"):
            assert e["from_state"] == state
        state = e["state"]
    assert state == "withdrawn"
    assert {"edited", "submitted", "withdrawn"} <= {e["kind"] for e in events}
    reviewer = client.get(f"{url}/events", headers=login(client, "demo-reviewer")).json()
    assert reviewer == events


# --- concurrency ---------------------------------------------------------------------------------------------


def test_two_patches_with_the_same_if_match(client, ent, monkeypatch: pytest.MonkeyPatch) -> None:
    from beiandesk.adapters.db.changes import ChangeRepo
    from beiandesk.domain.errors import VersionConflict
    from beiandesk.services import changes

    deps = client.app.state.deps
    c = open_change(client, ent, "云帆科技官网")
    with deps.uow(readonly=True) as uow:
        account = uow.accounts.by_username("demo-enterprise")[0]
    if deps.settings.is_postgres:
        # Make both requests read version 1 before either writes: only the database can decide.
        barrier = threading.Barrier(2)
        original = ChangeRepo.get

        def get(self, change_id, **kw):
            order = original(self, change_id, **kw)
            barrier.wait(10)
            return order
        monkeypatch.setattr(ChangeRepo, "get", get)
    results: dict[str, object] = {}

    def edit(name: str) -> None:
        try:
            results[name] = changes.update_change(deps, account, c["id"], {"name": name}, 1)
        except VersionConflict as exc:
            results[name] = exc

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("云帆官网甲版", "云帆官网乙版")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    monkeypatch.undo()
    conflicts = [n for n, r in results.items() if isinstance(r, VersionConflict)]
    winners = [n for n, r in results.items() if not isinstance(r, BaseException)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    final = client.get(f"/api/v1/changes/{c['id']}", headers=ent).json()
    assert final["version"] == 2 and final["proposed"]["name"] == winners[0]


def test_two_patches_over_http(client, ent) -> None:
    c = open_change(client, ent, "云帆科技官网")
    url = f"/api/v1/changes/{c['id']}"
    statuses: list[int] = []
    start = threading.Barrier(2)

    def edit(name: str) -> None:
        start.wait(10)
        statuses.append(client.patch(url, headers={**ent, "If-Match": '"1"'}, json={"name": name}).status_code)

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("云帆官网甲版", "云帆官网乙版")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 412]
