"""The admin's outbox over HTTP: honest states (仅保存 / 发送失败 / 待确认), the provider's
answer, and the retry / mark-sent actions in the API and the console."""

from __future__ import annotations

from typing import Any

import pytest

from beiandesk.adapters.notify import OutboxOnlyMailer
from beiandesk.domain.outbox_states import PermanentFailure
from beiandesk.services import jobs
from tests.conftest import login
from tests.e2e.test_console_http import console_client, csrf_of, log_in


class RefusingSms:
    keeps_only = False

    def send(self, to: str, text: str, **kw: Any) -> None:
        raise PermanentFailure("腾讯云短信：FailedOperation.TemplateIncorrectOrUnapproved 模板未审批",
                               {"provider": "tencent", "request_id": "req-42", "code": "FailedOperation.TemplateIncorrectOrUnapproved"})


def _rows(deps: Any) -> dict[str, int]:
    now = deps.clock.now()
    with deps.uow() as uow:
        sms = uow.outbox.add("sms", {"to": "13800138000", "text": "【beiandesk】短信正文", "event": "received",
                                     "params": {}}, now, recipient_masked="138****8000", subject="短信主题")
        mail = uow.outbox.add("email", {"to": "a@example.com", "subject": "邮件主题", "text": "t"}, now,
                              recipient_masked="a***@example.com", subject="邮件主题")
        lost = uow.outbox.add("sms", {"to": "13800138000", "text": "t", "event": "approved", "params": {}}, now,
                              recipient_masked="138****8000", subject="中断的短信")
        uow.commit()
    deps.sms, deps.mailer = RefusingSms(), OutboxOnlyMailer()
    assert jobs.deliver(deps, sms) == "failed" and jobs.deliver(deps, mail) == "kept"
    with deps.uow() as uow:
        uow.outbox.claim(lost, "gone-node:1:000000", deps.clock.now())
        uow.commit()
    deps.clock.advance(seconds=90)
    assert jobs.reclaim(deps)["uncertain"] == 1
    return {"sms": sms, "mail": mail, "lost": lost}


def test_api_lists_honest_states_and_resolves_rows_on_purpose(client, deps, fakes) -> None:
    ids = _rows(deps)
    admin = login(client, "demo-admin")
    body = client.get("/api/v1/admin/outbox", headers=admin).json()
    by_id = {i["id"]: i for i in body["items"]}
    assert by_id[ids["mail"]]["status_label"] == "仅保存" and not by_id[ids["mail"]]["can_retry"]
    failed = by_id[ids["sms"]]
    assert failed["status_label"] == "发送失败" and failed["can_retry"]
    assert "TemplateIncorrectOrUnapproved" in failed["last_error"] and failed["provider_answer"]["request_id"] == "req-42"
    assert by_id[ids["lost"]]["status_label"] == "待确认" and by_id[ids["lost"]]["can_mark_sent"]
    assert body["labels"]["kept"] == "仅保存" and "仅保存" in body["channels"]["sms"]  # SMS_BACKEND=outbox
    assert client.get("/api/v1/admin/outbox", headers=admin, params={"status": "uncertain"}).json()["items"][0]["id"] \
        == ids["lost"]

    r = client.post(f"/api/v1/admin/outbox/{ids['mail']}/retry", headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "outbox_state_conflict", r.text
    assert client.post(f"/api/v1/admin/outbox/{ids['sms']}/retry",
                       headers=login(client, "demo-reviewer")).status_code == 403
    assert client.post("/api/v1/admin/outbox/999999/retry", headers=admin).status_code == 404

    deps.sms = fakes["sms"]
    r = client.post(f"/api/v1/admin/outbox/{ids['sms']}/retry", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["status_label"] == "待发送"
    assert jobs.deliver(deps, ids["sms"]) == "sent"
    r = client.post(f"/api/v1/admin/outbox/{ids['lost']}/mark-sent", headers=admin)
    assert r.status_code == 200 and r.json()["status_label"] == "已发送"
    assert "demo-admin" in r.json()["provider_answer"]["resolved"] and r.json()["last_error"] is None
    assert client.post(f"/api/v1/admin/outbox/{ids['lost']}/mark-sent", headers=admin).status_code == 409


@pytest.fixture
def web(app: Any, seeded: Any):  # noqa: ANN201
    with console_client(app) as c:
        yield c


def test_console_shows_states_and_the_retry_button(web, deps, fakes) -> None:
    ids = _rows(deps)
    log_in(web, "demo-admin")
    page = web.get("/admin").text
    assert "仅保存" in page and "发送失败" in page and "待确认" in page
    assert f'action="/admin/outbox/{ids["sms"]}/retry"' in page
    assert f'action="/admin/outbox/{ids["lost"]}/mark-sent"' in page
    assert f'action="/admin/outbox/{ids["mail"]}/retry"' not in page        # kept: nothing to retry
    assert "request_id=req-42" in page
    assert "未配置 SMTP" in page
    filtered = web.get("/admin", params={"status": "kept"}).text
    assert "邮件主题" in filtered and "短信主题" not in filtered

    r = web.post(f"/admin/outbox/{ids['sms']}/retry", data={"csrf_token": "wrong"})
    assert r.status_code in (400, 403)
    deps.sms = fakes["sms"]
    r = web.post(f"/admin/outbox/{ids['sms']}/retry", data={"csrf_token": csrf_of(web, "/admin")})
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert f"通知 #{ids['sms']} 已重新排队发送" in page
    with deps.uow(readonly=True) as uow:
        assert uow.outbox.get(ids["sms"]).status == "pending"
    r = web.post(f"/admin/outbox/{ids['mail']}/mark-sent", data={"csrf_token": csrf_of(web, "/admin")})
    assert "不能标记为已发送" in web.get(r.headers["location"]).text
