"""Issue 12's flow rules, pure: calls per round, call_too_early, no_changes, a no-op edit,
home_url_invalid, internal notes, the readable timeline and "who moved it" refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from beiandesk.domain import change as rules
from beiandesk.domain import timeline
from beiandesk.domain.errors import DomainError
from beiandesk.domain.home_url import check_home_url
from beiandesk.domain.model import Event, Reason
from beiandesk.domain.states import ChangeState
from tests.unit.test_change_rules import NOW, changed_draft, draft, submitted

S = ChangeState


# --- calls per round ---------------------------------------------------------------------------


def test_a_second_miss_before_the_retry_time_is_too_early() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW)
    version, calls = order.version, list(order.calls)
    with pytest.raises(DomainError) as exc:
        rules.record_call(order, "unreachable", "", "rev", NOW + timedelta(minutes=1))
    assert exc.value.code == "call_too_early" and exc.value.status == 409
    assert "11:00" in exc.value.message  # the retry time, Beijing time
    assert order.state == S.provider_review and order.calls == calls and order.version == version
    rules.record_call(order, "reached", "", "rev", NOW + timedelta(minutes=2))  # answering is never early
    assert order.calls[-1].outcome == "reached"


def test_retry_after_is_configurable() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW, retry_after=timedelta(seconds=5))
    assert order.next_call_at == NOW + timedelta(seconds=5)
    rules.record_call(order, "unreachable", "", "rev", NOW + timedelta(seconds=5), retry_after=timedelta(seconds=5))
    assert order.state == S.provider_rejected


def test_each_submission_is_a_new_round_of_calls() -> None:
    order = submitted()
    assert order.round == 1
    rules.record_call(order, "reached", "", "rev", NOW)
    assert order.calls[0].round == 1
    rules.reject(order, [Reason("other", "请补充材料。")], "rev", NOW)
    rules.submit(order, True, True, "2026-11", [], "user1", NOW + timedelta(days=1))
    assert order.round == 2 and order.calls == []
    with pytest.raises(DomainError) as exc:  # the first round's 已接通 does not count
        rules.approve_first_review(order, "", "rev", NOW + timedelta(days=1))
    assert exc.value.code == "call_required"


# --- edits and submission -----------------------------------------------------------------------


def test_submitting_no_change_is_refused() -> None:
    order = draft()
    with pytest.raises(DomainError) as exc:
        rules.submit(order, True, True, "2026-11", [], "user1", NOW)
    assert exc.value.code == "no_changes" and exc.value.status == 409
    assert order.state == S.draft and order.new_events == []


def test_a_save_that_changes_nothing_keeps_the_version_and_writes_nothing() -> None:
    order = changed_draft()
    assert rules.apply_edit(order, order.proposed, [], "user1", NOW) is False
    assert order.version == 1 and order.new_events == []


def test_a_save_lists_the_fields_it_changed() -> None:
    order = changed_draft()  # the name differs from the record already
    rules.apply_edit(order, replace(order.proposed, home_url="https://blog.mingyuan-notes.cn/"), [], "u", NOW)
    (ev,) = order.new_events
    assert ev.message == "保存网站信息：首页地址" and ev.data["fields"] == ["home_url"]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://www.mingyuan-notes.cn/", True),
    ("http://mingyuan-notes.cn", True),
    ("https://a.b.mingyuan-notes.cn:8443/index.html", True),
    ("HTTPS://WWW.MINGYUAN-NOTES.CN/", True),
    ("https://云帆科技.中国/", True),
    ("ftp://mingyuan-notes.cn/", False),
    ("file:///etc/passwd", False),
    ("mingyuan-notes.cn", False),
    ("https://other.cn/", False),
    ("https://evilmingyuan-notes.cn/", False),
    ("https://mingyuan-notes.cn.evil.cn/", False),
    ("https://user@mingyuan-notes.cn/", False),
    ("https://mingyuan-notes.cn:99999/", False),
    ("", False),
])
def test_home_url_must_be_http_on_the_websites_domains(url: str, ok: bool) -> None:
    problems = check_home_url(url, ["mingyuan-notes.cn", "xn--9kqs09aildfw4a.xn--fiqs8s"])
    assert [p.code for p in problems] == ([] if ok else ["home_url_invalid"])
    assert all(p.field == "proposed.home_url" and p.is_error for p in problems)


def test_home_url_has_nothing_to_compare_without_domains() -> None:
    assert check_home_url("https://x.cn/", []) == []


# --- the timeline -----------------------------------------------------------------------------


def ev(kind: str, message: str, actor: str = "user1", state: str = "draft", **data: object) -> Event:
    return Event(at=NOW, kind=kind, state=state, actor=actor, message=message, data=dict(data))


def test_consecutive_saves_fold_into_one_entry_with_what_changed() -> None:
    events = [ev("created", "发起网站变更"),
              *[ev("edited", "保存网站信息：网站名称", fields=["name"]) for _ in range(30)],
              ev("edited", "保存网站信息：首页地址", fields=["home_url"]),
              ev("edited", "保存网站信息（变更：网站名称、域名）"),  # a row written before fields were kept
              ev("material_uploaded", "上传材料：authorization_letter", material_kind="authorization_letter"),
              ev("edited", "保存网站信息：服务内容", fields=["content_categories"])]
    out = timeline.readable(events, staff=False)
    assert [e.kind for e in out] == ["created", "edited", "material_uploaded", "edited"]
    assert out[1].message == "保存网站信息：网站名称、首页地址、域名" and out[1].data["saves"] == 32
    assert out[2].message == "上传材料：网站负责人授权书"
    assert out[3].message == "保存网站信息：服务内容"


def test_old_rows_read_cleanly() -> None:
    out = timeline.readable([ev("material_deleted", "删除材料 #6"),
                             ev("provider_rejected", "初审驳回：请补充材料。；首页无备案号。", "rev")], staff=False)
    assert out[0].message == "删除材料" and "#6" not in out[0].message
    assert out[1].message == "初审驳回：请补充材料；首页无备案号。"


def test_reasons_are_joined_without_doubled_punctuation() -> None:
    order = submitted()
    rules.reject(order, [Reason("a", "首页未展示备案号。"), Reason("b", "请重新提交。")], "rev", NOW)
    assert order.new_events[-1].message == "初审驳回：首页未展示备案号；请重新提交"
    assert "。；" not in order.new_events[-1].message


def test_notes_are_for_staff_only() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "admin B calls", "rev", NOW)
    rules.record_call(order, "reached", "admin B reached", "rev", NOW + timedelta(hours=1))
    rules.approve_first_review(order, "admin B approves", "rev", NOW + timedelta(hours=1))
    old = ev("call", "审核专员电话联系：已接通（旧备注）", "rev", "provider_review", outcome="reached")
    events = [*order.new_events, old]
    public = timeline.readable(events, staff=False)
    staff = timeline.readable(events, staff=True)
    text = repr(public)
    assert "admin B" not in text and "旧备注" not in text
    assert [e.message for e in public] == ["审核专员电话联系：未接通，将于约 1 小时后再次致电",
                                           "审核专员电话联系：已接通", "初审通过，正在提交管局",
                                           "审核专员电话联系：已接通"]
    assert [e.data.get("note") for e in staff][:3] == ["admin B calls", "admin B reached", "admin B approves"]


# --- refusals that say who moved the order -------------------------------------------------------


def _refusal(order, reviewer: str) -> DomainError:  # noqa: ANN001
    with pytest.raises(DomainError) as exc:
        rules.approve_first_review(order, "", reviewer, NOW)
    events = list(order.new_events)
    return rules.moved_under(order, events, reviewer, exc.value)


def test_the_loser_of_two_approvals_is_told_another_reviewer_handled_it() -> None:
    order = submitted()
    rules.record_call(order, "reached", "", "rev-a", NOW)
    rules.approve_first_review(order, "", "rev-a", NOW)
    err = _refusal(order, "rev-b")
    assert err.status == 409 and err.code == "not_in_review"
    assert "已被其他审核专员处理" in err.message and "不在初审中" not in err.message
    assert "您已处理过" in _refusal(order, "rev-a").message


def test_a_withdrawn_order_says_so() -> None:
    order = submitted()
    rules.withdraw(order, "user1", NOW)
    assert "申请人已撤回" in _refusal(order, "rev").message


def test_a_draft_keeps_the_plain_message() -> None:
    order = draft()
    with pytest.raises(DomainError) as exc:
        rules.approve_first_review(order, "", "rev", NOW)
    assert rules.moved_under(order, order.new_events, "rev", exc.value) is exc.value
