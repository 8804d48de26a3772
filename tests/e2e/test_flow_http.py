"""The whole 网站变更 flow over real HTTP: a live server in demo mode, its sandbox, real SMTP.

Runs on SQLite and PostgreSQL. The sandbox plays MIIT, the 管局 and the phone network; the
verification photo is a real photo judged by the real OpenCV checker.
"""

from __future__ import annotations

import pytest

from tests.e2e.live import LiveServer, MailSink, wait_for
from tests.photo_samples import encode, good_photo
from tests.workflow_support import tiny_png

PERSONAL_MOBILE = "13912345678"


@pytest.fixture
def sink():  # noqa: ANN201
    with MailSink() as s:
        yield s


def live(tmp_path, database_url, sink, **env):  # noqa: ANN001, ANN003, ANN201
    return LiveServer(tmp_path / "var", database_url,
                      env={"BEIANDESK_SMTP_URL": f"smtp://127.0.0.1:{sink.port}", **env})


def submit_change(server: LiveServer, name: str = "明远技术随笔") -> int:
    app = server.client("demo-personal")
    site = app.get("/api/v1/websites").json()[0]
    r = app.post(f"/api/v1/websites/{site['id']}/changes")
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = app.patch(f"/api/v1/changes/{cid}", json={"proposed": {"name": name}}, headers={"If-Match": r.headers["etag"]})
    assert r.status_code == 200, r.text
    r = app.post(f"/api/v1/changes/{cid}/verification", files={"file": ("me.jpg", encode(good_photo()), "image/jpeg")})
    assert r.status_code == 201 and r.json()["passed"], r.text
    for p in app.get(f"/api/v1/changes/{cid}/precheck").json()["problems"]:
        if p["code"] == "material_missing":
            r = app.post(f"/api/v1/changes/{cid}/materials", data={"kind": p["kind"]},
                         files={"file": ("scan.png", tiny_png(), "image/png")})
            assert r.status_code == 201, r.text
    check = app.get(f"/api/v1/changes/{cid}/precheck").json()
    assert check["ok"], check
    r = app.post(f"/api/v1/changes/{cid}/submit", json={"accept_terms": True, "accept_privacy": True})
    assert r.status_code == 200 and r.json()["state"] == "provider_review", r.text
    return cid


def provider_approves(server: LiveServer, cid: int, miss_first: bool = False) -> str:
    staff = server.client("demo-reviewer")
    queue = staff.get("/api/v1/review/queue").json()
    assert cid in [o["id"] for o in queue] and queue[0]["due_at"]
    if miss_first:
        r = staff.post(f"/api/v1/review/changes/{cid}/calls", json={"outcome": "unreachable", "note": "无人接听"})
        assert r.json()["next_call_at"], r.text
    r = staff.post(f"/api/v1/review/changes/{cid}/approve", json={"note": ""})
    assert r.status_code == 409 and r.json()["code"] == "call_required"
    staff.post(f"/api/v1/review/changes/{cid}/calls", json={"outcome": "reached", "note": "确认变更"})
    assert staff.post(f"/api/v1/review/changes/{cid}/approve", json={"note": "通过"}).status_code == 200
    app = server.client("demo-personal")
    order = wait_for(lambda: (o := app.get(f"/api/v1/changes/{cid}").json())["state"] == "authority_sms" and o)
    assert order["authority_ref"]
    return order["authority_ref"]


def sms_code(server: LiveServer, ref: str, after: int = 0) -> str:
    def find() -> str | None:
        msgs = httpx_get(server, "/sandbox/messages")
        codes = [m["code"] for m in msgs if m["ref"] == ref and m["to"] == PERSONAL_MOBILE]
        return codes[-1] if len(codes) > after else None
    return wait_for(find)


def httpx_get(server: LiveServer, path: str):  # noqa: ANN201
    data = server.client().get(path).json()
    return data["items"] if isinstance(data, dict) else data


def state_of(server: LiveServer, cid: int, want: str) -> dict:
    app = server.client("demo-personal")
    return wait_for(lambda: (o := app.get(f"/api/v1/changes/{cid}").json())["state"] == want and o)


def test_whole_flow_to_approval_with_notifications(tmp_path, database_url, sink) -> None:
    with live(tmp_path, database_url, sink) as server:
        cid = submit_change(server)
        ref = provider_approves(server, cid, miss_first=True)
        sandbox = server.client()
        r = sandbox.post("/sandbox/miit/verify", json={"ref": ref, "mobile": PERSONAL_MOBILE, "code": sms_code(server, ref)})
        assert r.json()["ok"] is True, r.text
        state_of(server, cid, "authority_review")
        r = sandbox.post(f"/sandbox/orders/{ref}/decision", json={"decision": "approve", "reasons": []})
        assert r.status_code == 200, r.text
        state_of(server, cid, "approved")
        app = server.client("demo-personal")
        site = app.get("/api/v1/websites").json()[0]
        assert site["name"] == "明远技术随笔" and site["filing_number"] == "粤ICP备20260001号-1"
        assert app.get(f"/api/v1/websites/{site['id']}/history").json()[0]["name"] == "明远技术笔记"
        kinds = [e["kind"] for e in app.get(f"/api/v1/changes/{cid}/events").json()]
        for k in ("created", "submitted", "call", "provider_approved", "authority_submitted", "authority_review", "approved"):
            assert k in kinds
        wanted = ["已提交", "初审通过", "已提交管局", "已通过管局审核"]
        subjects = wait_for(lambda: (s := sink.subjects()) and all(any(w in x for x in s) for w in wanted) and s)
        msg = next(m for m in sink.messages if "已通过管局审核" in str(m["Subject"]))
        assert msg.get_body(("plain",)).get_content().count("备案号不变") == 1
        assert msg.get_body(("html",)) is not None
        assert len(subjects) == len(set((str(m["To"]), str(m["Subject"])) for m in sink.messages))
        outbox = server.client("demo-admin").get("/api/v1/admin/outbox", params={"kind": "sms"}).json()
        assert outbox["items"] and all("****" in i["to"] for i in outbox["items"])


def test_five_wrong_codes_return_the_order_and_resend_sends_new_codes(tmp_path, database_url, sink) -> None:
    with live(tmp_path, database_url, sink) as server:
        cid = submit_change(server)
        ref = provider_approves(server, cid)
        code = sms_code(server, ref)
        wrong = "000000" if code != "000000" else "111111"
        sandbox = server.client()
        answers = [sandbox.post("/sandbox/miit/verify", json={"ref": ref, "mobile": PERSONAL_MOBILE, "code": wrong}).json()
                   for _ in range(5)]
        assert [a["ok"] for a in answers] == [False] * 5
        sandbox.post("/sandbox/miit/verify", json={"ref": ref, "mobile": PERSONAL_MOBILE, "code": code})
        order = state_of(server, cid, "authority_returned")
        assert order["authority_reason"] == "sms_failed"
        staff = server.client("demo-reviewer")
        assert staff.post(f"/api/v1/review/changes/{cid}/resend").status_code == 200
        state_of(server, cid, "authority_sms")
        new_code = sms_code(server, ref, after=1)
        r = sandbox.post("/sandbox/miit/verify", json={"ref": ref, "mobile": PERSONAL_MOBILE, "code": new_code})
        assert r.json()["ok"] is True
        state_of(server, cid, "authority_review")


def test_sms_timeout_returns_the_order(tmp_path, database_url, sink) -> None:
    with live(tmp_path, database_url, sink, BEIANDESK_SANDBOX_SMS_WINDOW_S="2") as server:
        cid = submit_change(server)
        provider_approves(server, cid)
        order = state_of(server, cid, "authority_returned")
        assert order["authority_reason"] == "sms_timeout"
        wait_for(lambda: any("退回" in s for s in sink.subjects()))
