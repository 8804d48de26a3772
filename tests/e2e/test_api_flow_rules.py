"""HTTP API: api.md §Flow rules made precise — If-Match required, no_changes, home_url_invalid,
a no-op PATCH, internal notes as the applicant and as a reviewer, call_too_early, and what the
loser of two simultaneous approvals reads."""

from __future__ import annotations

import threading

from tests.conftest import login
from tests.e2e.test_api_changes import CONSENT, assert_problem, make_submittable, open_change


def _etag(client, h, cid: int) -> str:  # noqa: ANN001
    return client.get(f"/api/v1/changes/{cid}", headers=h).headers["etag"]


def _submitted(client, h, site: str = "明远技术笔记", **patch) -> int:  # noqa: ANN001, ANN003
    c = open_change(client, h, site)
    if patch:
        r = client.patch(f"/api/v1/changes/{c['id']}", headers={**h, "If-Match": '"1"'}, json=patch)
        assert r.status_code == 200, r.text
    make_submittable(client, h, c["id"])
    r = client.post(f"/api/v1/changes/{c['id']}/submit", headers=h, json=CONSENT)
    assert r.status_code == 200, r.text
    return c["id"]


# --- edits --------------------------------------------------------------------------------------


def test_patch_without_if_match_is_428(client) -> None:
    h = login(client, "demo-personal")
    c = open_change(client, h, "明远技术笔记")
    url = f"/api/v1/changes/{c['id']}"
    for headers in (h, {**h, "If-Match": ""}):
        assert_problem(client.patch(url, headers=headers, json={"name": "明远技术随笔"}), 428, "precondition_required")
    after = client.get(url, headers=h).json()
    assert after["version"] == 1 and after["proposed"]["name"] == "明远技术笔记"
    r = client.patch(url, headers={**h, "If-Match": "*"}, json={"name": "明远技术随笔"})  # explicitly any version
    assert r.status_code == 200 and r.json()["version"] == 2


def test_a_patch_that_changes_nothing_keeps_its_version_and_writes_no_event(client) -> None:
    h = login(client, "demo-personal")
    c = open_change(client, h, "明远技术笔记")
    url = f"/api/v1/changes/{c['id']}"
    r = client.patch(url, headers={**h, "If-Match": '"1"'}, json={"name": "明远技术随笔"})
    assert r.headers["etag"] == '"2"'
    before = client.get(f"{url}/events", headers=h).json()
    for patch in ({"name": "明远技术随笔"}, {}, {"domains": ["mingyuan-notes.cn"]}):
        r = client.patch(url, headers={**h, "If-Match": '"2"'}, json=patch)
        assert r.status_code == 200 and r.headers["etag"] == '"2"' and r.json()["version"] == 2, r.text
    assert client.get(f"{url}/events", headers=h).json() == before
    # A stale version is still a conflict, even for a save that would change nothing.
    assert_problem(client.patch(url, headers={**h, "If-Match": '"1"'}, json={}), 412, "version_conflict")


def test_submitting_no_change_is_409(client) -> None:
    h = login(client, "demo-personal")
    c = open_change(client, h, "明远技术笔记")
    url = f"/api/v1/changes/{c['id']}"
    make_submittable(client, h, c["id"])  # it gives the order a change: take it back
    r = client.patch(url, headers={**h, "If-Match": _etag(client, h, c["id"])},
                     json={"home_url": c["current"]["home_url"]})
    assert r.status_code == 200 and r.json()["changed_fields"] == []
    assert_problem(client.post(f"{url}/submit", headers=h, json=CONSENT), 409, "no_changes")
    assert client.get(url, headers=h).json()["state"] == "draft"


def test_home_url_must_be_http_on_the_websites_domains(client) -> None:
    h = login(client, "demo-personal")
    c = open_change(client, h, "明远技术笔记")
    url = f"/api/v1/changes/{c['id']}"
    for bad in ("ftp://www.mingyuan-notes.cn/", "https://www.example.com/", "https://mingyuan-notes.cn.evil.cn/",
                "www.mingyuan-notes.cn", ""):
        body = assert_problem(client.patch(url, headers={**h, "If-Match": '"1"'}, json={"home_url": bad}),
                              422, "home_url_invalid")
        assert body["problems"][0]["field"] == "proposed.home_url"
    r = client.patch(url, headers={**h, "If-Match": '"1"'}, json={"home_url": "http://blog.mingyuan-notes.cn/"})
    assert r.status_code == 200, r.text


# --- internal notes --------------------------------------------------------------------------------


def test_call_and_approval_notes_are_for_reviewers_only(client) -> None:
    applicant, reviewer = login(client, "demo-personal"), login(client, "demo-reviewer")
    cid = _submitted(client, applicant, name="明远技术随笔")
    deps = client.app.state.deps
    r = client.post(f"/api/v1/review/changes/{cid}/calls", headers=reviewer,
                    json={"outcome": "unreachable", "note": "admin B calls: no answer"})
    assert r.status_code == 200 and r.json()["calls"][0]["note"] == "admin B calls: no answer"
    deps.clock.advance(minutes=61)
    client.post(f"/api/v1/review/changes/{cid}/calls", headers=reviewer,
                json={"outcome": "reached", "note": "admin B reached the applicant"})
    r = client.post(f"/api/v1/review/changes/{cid}/approve", headers=reviewer, json={"note": "admin B approves"})
    assert r.status_code == 200, r.text

    seen = [client.get(f"/api/v1/changes/{cid}", headers=applicant).text,
            client.get(f"/api/v1/changes/{cid}/events", headers=applicant).text,
            client.get("/api/v1/changes", headers=applicant).text]
    assert all("admin B" not in text for text in seen)
    mine = client.get(f"/api/v1/changes/{cid}", headers=applicant).json()
    assert [c["outcome"] for c in mine["calls"]] == ["unreachable", "reached"]  # the outcome, not the note
    kinds = [e["kind"] for e in client.get(f"/api/v1/changes/{cid}/events", headers=applicant).json()]
    assert "provider_approved" in kinds and kinds.count("call") == 2
    with deps.uow(readonly=True) as uow:  # nor in any SMS or e-mail to them
        assert all("admin B" not in repr(i.payload) for i in uow.outbox.list())

    staff = client.get(f"/api/v1/changes/{cid}", headers=reviewer).json()
    assert [c["note"] for c in staff["calls"]] == ["admin B calls: no answer", "admin B reached the applicant"]
    notes = [e["data"].get("note") for e in client.get(f"/api/v1/changes/{cid}/events", headers=reviewer).json()]
    assert "admin B approves" in notes


def test_rejection_reasons_do_reach_the_applicant(client) -> None:
    applicant, reviewer = login(client, "demo-personal"), login(client, "demo-reviewer")
    cid = _submitted(client, applicant, name="明远技术随笔")
    r = client.post(f"/api/v1/review/changes/{cid}/reject", headers=reviewer,
                    json={"reasons": [{"code": "other", "message": "请在首页底部展示备案号。"},
                                      {"code": "other", "message": "请重新上传清晰的身份证照片。"}]})
    assert r.status_code == 200, r.text
    mine = client.get(f"/api/v1/changes/{cid}", headers=applicant).json()
    assert [x["message"] for x in mine["reasons"]] == ["请在首页底部展示备案号。", "请重新上传清晰的身份证照片。"]
    events = client.get(f"/api/v1/changes/{cid}/events", headers=applicant).json()
    rejected = [e["message"] for e in events if e["kind"] == "provider_rejected"]
    assert rejected == ["初审驳回：请在首页底部展示备案号；请重新上传清晰的身份证照片"]


# --- calls and concurrency ----------------------------------------------------------------------------


def test_second_miss_within_the_hour_is_call_too_early(client) -> None:
    applicant, reviewer = login(client, "demo-personal"), login(client, "demo-reviewer")
    cid = _submitted(client, applicant, name="明远技术随笔")
    calls = f"/api/v1/review/changes/{cid}/calls"
    assert client.post(calls, headers=reviewer, json={"outcome": "unreachable"}).status_code == 200
    client.app.state.deps.clock.advance(minutes=1)
    r = client.post(calls, headers=reviewer, json={"outcome": "unreachable"})
    body = assert_problem(r, 409, "call_too_early")
    due = client.get(f"/api/v1/changes/{cid}", headers=reviewer).json()["next_call_at"]
    assert body["next_call_at"] == due and int(r.headers["retry-after"]) == 59 * 60
    assert client.get(f"/api/v1/changes/{cid}", headers=reviewer).json()["state"] == "provider_review"
    queue = client.get("/api/v1/review/queue", headers=reviewer).json()
    assert [len(q["calls"]) for q in queue if q["id"] == cid] == [1]


def test_two_reviewers_pressing_approve_at_once(client) -> None:
    applicant = login(client, "demo-personal")
    a, b = login(client, "demo-reviewer"), login(client, "demo-admin")
    cid = _submitted(client, applicant, name="明远技术随笔")
    client.post(f"/api/v1/review/changes/{cid}/calls", headers=a, json={"outcome": "reached"})
    start = threading.Barrier(2)
    answers: list = []

    def press(h: dict[str, str]) -> None:
        start.wait(10)
        answers.append(client.post(f"/api/v1/review/changes/{cid}/approve", headers=h, json={}))

    threads = [threading.Thread(target=press, args=(h,)) for h in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 409).json()
    assert "已被其他审核专员处理" in loser["message"] and "不在初审中" not in loser["message"]
    # The winner pressing again is told it was them (the timeline says who won).
    events = client.get(f"/api/v1/changes/{cid}/events", headers=a).json()
    who = next(e["actor"] for e in events if e["kind"] == "provider_approved")
    again = client.post(f"/api/v1/review/changes/{cid}/approve", headers=a if who == "demo-reviewer" else b, json={})
    assert_problem(again, 409, "not_in_review")
    assert "您已处理过" in again.json()["message"]


def test_reject_after_another_reviewer_approved(client) -> None:
    applicant = login(client, "demo-personal")
    a, b = login(client, "demo-reviewer"), login(client, "demo-admin")
    cid = _submitted(client, applicant, name="明远技术随笔")
    client.post(f"/api/v1/review/changes/{cid}/calls", headers=a, json={"outcome": "reached"})
    assert client.post(f"/api/v1/review/changes/{cid}/approve", headers=a, json={}).status_code == 200
    for path, body in (("reject", {"reasons": [{"code": "other", "message": "材料不清晰"}]}),
                       ("calls", {"outcome": "reached"})):
        r = client.post(f"/api/v1/review/changes/{cid}/{path}", headers=b, json=body)
        assert_problem(r, 409, "not_in_review")
        assert "已被其他审核专员处理" in r.json()["message"]
