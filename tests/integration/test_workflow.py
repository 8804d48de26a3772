"""The whole 网站变更 road through the use cases, on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from beiandesk.domain.errors import DomainError
from beiandesk.services import authority, changes, jobs, review
from tests.workflow_support import account, submitted_change


def deliver_all(deps) -> list[str]:  # noqa: ANN001
    return [jobs.deliver(deps, i) for i in jobs.due_outbox(deps)]


def test_submission_enters_the_queue_with_a_working_day_deadline(seeded, fakes) -> None:
    order = submitted_change(seeded, name="明远技术随笔")
    assert order.state == "provider_review"
    # Wednesday 2026-11-25 10:00 Beijing + 2 working days = Friday 2026-11-27 10:00 Beijing.
    assert order.due_at == fakes["clock"].now() + timedelta(days=2)
    reviewer = account(seeded, "demo-reviewer")
    assert [o.id for o in review.queue(seeded, reviewer)] == [order.id]
    statuses = deliver_all(seeded)
    assert statuses and set(statuses) == {"sent"}
    assert any("已提交" in m["subject"] for m in fakes["mailer"].sent)
    assert fakes["sms"].sent and fakes["sms"].sent[0]["to"] == "13912345678"


def test_missed_call_then_retry_due_in_an_hour_then_second_miss_rejects(seeded, fakes) -> None:
    order = submitted_change(seeded)
    reviewer = account(seeded, "demo-reviewer")
    clock = fakes["clock"]
    o = review.log_call(seeded, reviewer, order.id, "unreachable", "无人接听")
    assert o.state == "provider_review" and o.next_call_at == clock.now() + timedelta(hours=1)
    with pytest.raises(DomainError) as exc:
        review.approve(seeded, reviewer, order.id, "")
    assert exc.value.code == "call_required"
    assert jobs.remind(seeded) == 0
    clock.advance(minutes=61)
    assert jobs.remind(seeded) == 1
    assert jobs.remind(seeded) == 0  # once per due call
    o = review.log_call(seeded, reviewer, order.id, "unreachable", "")
    assert o.state == "provider_rejected"
    assert [r.code for r in o.reasons] == ["applicant_unreachable"]
    deliver_all(seeded)
    assert any("初审未通过" in m["subject"] for m in fakes["mailer"].sent)


def test_rejection_with_reasons_then_resubmission_gets_a_new_deadline(seeded, fakes) -> None:
    order = submitted_change(seeded)
    reviewer, applicant = account(seeded, "demo-reviewer"), account(seeded, "demo-personal")
    o = review.reject(seeded, reviewer, order.id, [{"code": "name_mismatch", "message": "网站名称与内容不符"}])
    assert o.state == "provider_rejected"
    seen = changes.get_change(seeded, applicant, order.id)
    assert seen.reasons[0].message == "网站名称与内容不符"
    changes.update_change(seeded, applicant, order.id, {"name": "明远技术分享"}, seen.version)
    fakes["clock"].advance(days=3)
    o = changes.submit(seeded, applicant, order.id, True, True)
    assert o.state == "provider_review" and o.reasons == []
    assert o.due_at > order.due_at


def _approved_by_provider(deps, fakes):  # noqa: ANN001, ANN202
    order = submitted_change(deps, name="明远技术随笔")
    reviewer = account(deps, "demo-reviewer")
    review.log_call(deps, reviewer, order.id, "reached", "已确认变更内容")
    review.approve(deps, reviewer, order.id, "资料齐全")
    return order


def test_handover_is_queued_with_approval_and_submitted_once(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    applicant = account(seeded, "demo-personal")
    assert changes.get_change(seeded, applicant, order.id).state == "provider_review"
    fakes["gateway"].down = True
    deliver_all(seeded)
    timeline = [e.kind for e in changes.events(seeded, applicant, order.id)]
    assert "authority_retry" in timeline
    assert changes.get_change(seeded, applicant, order.id).state == "provider_review"
    fakes["gateway"].down = False
    fakes["clock"].advance(minutes=1)
    deliver_all(seeded)
    o = changes.get_change(seeded, applicant, order.id)
    assert o.state == "authority_sms" and o.authority_ref == "FAKE-0001"
    assert len(fakes["gateway"].submitted) == 1
    payload = fakes["gateway"].submitted[0]["payload"]
    assert payload["principals"][0]["mobile"] == "13912345678"
    fakes["clock"].advance(minutes=10)
    assert deliver_all(seeded).count("sent") >= 1  # the "handed to the authority" notices
    assert any("24 小时" in m["text"] for m in fakes["sms"].sent)


def test_authority_approval_updates_the_record_and_keeps_history(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    gw, applicant = fakes["gateway"], account(seeded, "demo-personal")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    gw.set(ref, "under_review")
    assert authority.poll(seeded) == 1
    assert authority.poll(seeded) == 0  # idempotent
    gw.set(ref, "approved")
    assert authority.poll(seeded) == 1
    o = changes.get_change(seeded, applicant, order.id)
    assert o.state == "approved"
    with seeded.uow(readonly=True) as uow:
        site = uow.websites.get(o.website_id)
        history = uow.websites.history(o.website_id)
    assert site.info.name == "明远技术随笔" and site.filing_number == "粤ICP备20260001号-1"
    assert site.version == 2 and history[0]["info"].name == "明远技术笔记"
    deliver_all(seeded)
    assert any("已通过管局审核" in m["subject"] for m in fakes["mailer"].sent)


def test_returned_by_sms_timeout_then_resend_gets_new_codes(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    gw, reviewer = fakes["gateway"], account(seeded, "demo-reviewer")
    applicant = account(seeded, "demo-personal")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    gw.set(ref, "returned", reason="sms_timeout")
    authority.poll(seeded)
    o = changes.get_change(seeded, applicant, order.id)
    assert o.state == "authority_returned" and o.authority_reason == "sms_timeout"
    assert o.id in [q.id for q in review.queue(seeded, reviewer)]
    review.resend(seeded, reviewer, order.id)
    with pytest.raises(DomainError) as exc:
        review.resend(seeded, reviewer, order.id)
    assert exc.value.code == "resend_in_progress"
    deliver_all(seeded)
    assert gw.resent == [ref]
    assert changes.get_change(seeded, applicant, order.id).state == "authority_sms"


def test_returned_order_can_go_back_to_the_applicant(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    applicant, reviewer = account(seeded, "demo-personal"), account(seeded, "demo-reviewer")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    fakes["gateway"].set(ref, "returned", reason="sms_failed")
    authority.poll(seeded)
    o = review.reject(seeded, reviewer, order.id, [{"code": "sms_failed", "message": "请确认负责人手机号后重新提交"}])
    assert o.state == "provider_rejected"


def test_authority_rejection_returns_the_order_to_the_applicant(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    applicant = account(seeded, "demo-personal")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    fakes["gateway"].set(ref, "under_review")
    authority.poll(seeded)
    fakes["gateway"].set(ref, "rejected", reasons=["首页未展示备案号"])
    authority.poll(seeded)
    o = changes.get_change(seeded, applicant, order.id)
    assert o.state == "authority_rejected" and o.reasons[0].message == "首页未展示备案号"
    changes.update_change(seeded, applicant, order.id, {"name": "明远技术园地"}, o.version)
    assert changes.submit(seeded, applicant, order.id, True, True).state == "provider_review"


def test_callback_path_alone_is_enough(seeded, fakes) -> None:
    import json
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    applicant = account(seeded, "demo-personal")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    fakes["gateway"].set(ref, "under_review")
    body = json.dumps({"ref": ref, "state": "under_review"}).encode()
    assert authority.callback(seeded, body, "0", "sig") is True
    assert changes.get_change(seeded, applicant, order.id).state == "authority_review"
    seeded.verify_callback = lambda *a: False
    with pytest.raises(DomainError) as exc:
        authority.callback(seeded, body, "0", "bad")
    assert exc.value.status == 401


def test_smtp_outage_loses_nothing_and_never_undoes_the_state(seeded, fakes) -> None:
    fakes["mailer"].fail = True
    order = submitted_change(seeded)
    deliver_all(seeded)
    with seeded.uow(readonly=True) as uow:
        pending = uow.outbox.list(kind="email", status="pending")
    assert pending and pending[0].last_error
    applicant = account(seeded, "demo-personal")
    assert changes.get_change(seeded, applicant, order.id).state == "provider_review"
    fakes["mailer"].fail = False
    fakes["clock"].advance(minutes=5)
    deliver_all(seeded)
    assert len([m for m in fakes["mailer"].sent if "已提交" in m["subject"]]) == len(pending)


def test_a_claimed_row_is_not_delivered_twice(seeded, fakes) -> None:
    submitted_change(seeded)
    ids = jobs.due_outbox(seeded)
    assert jobs.deliver(seeded, ids[0]) == "sent"
    assert jobs.deliver(seeded, ids[0]) == "skipped"


def test_withdraw_is_refused_once_the_handover_started(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    with pytest.raises(DomainError) as exc:
        changes.withdraw(seeded, account(seeded, "demo-personal"), order.id)
    assert exc.value.code == "not_editable"


def test_principal_is_reminded_once_before_the_sms_window_closes(seeded, fakes) -> None:
    order = _approved_by_provider(seeded, fakes)
    deliver_all(seeded)
    applicant = account(seeded, "demo-personal")
    ref = changes.get_change(seeded, applicant, order.id).authority_ref
    deadline = (fakes["clock"].now() + timedelta(hours=24)).isoformat()
    authority.apply_status(seeded, ref, "sms_pending", None, [], deadline)
    assert changes.get_change(seeded, applicant, order.id).sms_deadline is not None
    fakes["clock"].advance(hours=17)
    assert jobs.remind_sms(seeded) == 0  # 7 h left: not yet
    fakes["clock"].advance(hours=2)
    assert jobs.remind_sms(seeded) == 1  # 5 h left: remind
    assert jobs.remind_sms(seeded) == 0  # once
    deliver_all(seeded)
    assert any("短信核验" in s["text"] and "即将届满" in s["text"] for s in fakes["sms"].sent)
