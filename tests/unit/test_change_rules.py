"""The change-order aggregate (domain/change.py) against api.md §States and product.md §The flow.

Pure: no database, no clock — every ``now`` is passed in.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, Forbidden, InvalidTransition
from beiandesk.domain.model import (
    Account,
    ChangeOrder,
    Principal,
    Reason,
    Resource,
    Role,
    Subject,
    SubjectKind,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)
from beiandesk.domain.problems import error, warning
from beiandesk.domain.states import EDITABLE, LABELS, OPEN, TRANSITIONS, ChangeState, can_transition

S = ChangeState
CN = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CN)  # a Wednesday

LIMING = Principal("李明", "resident_id", "44030519900101123X", "13912345678", "liming@example.com")
WANGFANG = Principal("王芳", "resident_id", "310104198503152023", "13812345678", "wf@example.com")
CHENHAO = Principal("陈浩", "resident_id", "310115199207083012", "13687654321", "ch@example.com")

#: api.md §States of a change order, copied by hand: the code's table must say the same.
API_MD_STATES = {
    "draft": {"provider_review", "withdrawn"},
    "provider_review": {"provider_rejected", "authority_sms", "withdrawn"},
    "provider_rejected": {"provider_review", "withdrawn"},
    "authority_sms": {"authority_review", "authority_returned"},
    "authority_returned": {"authority_sms", "provider_rejected"},
    "authority_review": {"approved", "authority_rejected"},
    "authority_rejected": {"provider_review", "withdrawn"},
    "approved": set(),
    "withdrawn": set(),
}


def applicant(account_id: int = 1) -> Account:
    return Account(id=account_id, username=f"user{account_id}", role=Role.applicant)


def person_subject(account_id: int = 1) -> Subject:
    return Subject(id=10, account_id=account_id, kind=SubjectKind.personal, name="李明", province="广东",
                   id_type="resident_id", id_number=LIMING.id_number, filing_number="粤ICP备20260001号",
                   principal=LIMING)


def company_subject(account_id: int = 2) -> Subject:
    return Subject(id=20, account_id=account_id, kind=SubjectKind.enterprise, name="上海云帆信息科技有限公司",
                   province="上海", id_type="uscc", id_number="91310104MA1FL8XQ36",
                   filing_number="沪ICP备20260002号", principal=WANGFANG, legal_rep="王芳")


def site(principal: Principal = LIMING, status: WebsiteStatus = WebsiteStatus.open,
         domains: tuple[str, ...] = ("mingyuan-notes.cn",)) -> Website:
    info = WebsiteInfo(name="明远技术笔记", domains=domains, home_url="https://www.mingyuan-notes.cn/",
                       principal=principal, content_categories=("博客/个人空间",),
                       resource=Resource(region="ap-guangzhou", public_ip="119.29.100.21"))
    return Website(id=100, subject_id=10, filing_number="粤ICP备20260001号-1", status=status, info=info)


def draft() -> ChangeOrder:
    order = rules.open_change(applicant(), person_subject(), site(), False, NOW)
    order.id = 7
    order.new_events.clear()
    return order


def in_state(state: ChangeState, **fields: object) -> ChangeOrder:
    order = draft()
    order.state = state
    for k, v in fields.items():
        setattr(order, k, v)
    return order


def changed_draft() -> ChangeOrder:
    """A draft with an edit: an order whose proposal equals the record cannot be submitted."""
    order = draft()
    order.proposed = replace(order.proposed, name="明远技术随笔")
    return order


def submitted() -> ChangeOrder:
    order = changed_draft()
    rules.submit(order, True, True, "2026-11", [], "user1", NOW)
    order.new_events.clear()
    return order


# --- the state table ----------------------------------------------------------------------------


def test_state_table_is_the_one_in_api_md() -> None:
    assert {str(k): {str(v) for v in vs} for k, vs in TRANSITIONS.items()} == API_MD_STATES
    assert set(LABELS) == set(ChangeState)


def test_open_and_editable_sets_follow_the_table() -> None:
    assert OPEN == {s for s in ChangeState if s not in (S.approved, S.withdrawn)}
    assert EDITABLE == {S.draft, S.provider_rejected, S.authority_rejected}
    # every editable state can be (re)submitted and withdrawn
    for s in EDITABLE:
        assert can_transition(s, S.provider_review) and can_transition(s, S.withdrawn)


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(ChangeState, ChangeState)),
                         ids=lambda s: str(s))
def test_transition_allows_exactly_the_table(src: ChangeState, dst: ChangeState) -> None:
    order = in_state(src)
    version = order.version
    later = NOW + timedelta(minutes=5)
    if dst in TRANSITIONS[src]:
        rules.transition(order, dst, "someone", later, "msg", kind="k", extra=1)
        assert order.state == dst
        assert order.updated_at == later
        (ev,) = order.new_events
        assert (ev.from_state, ev.state, ev.actor, ev.at, ev.kind) == (str(src), str(dst), "someone", later, "k")
        assert ev.data == {"extra": 1}
    else:
        with pytest.raises(InvalidTransition) as exc:
            rules.transition(order, dst, "someone", later, "msg")
        assert exc.value.status == 409
        assert exc.value.code == ("not_editable" if src not in EDITABLE else "invalid_transition")
        assert LABELS[src] in exc.value.message
        assert order.state == src and order.new_events == [] and order.version == version


# --- step 1: open --------------------------------------------------------------------------------


def test_open_change_copies_the_record_and_logs_it() -> None:
    website = site()
    order = rules.open_change(applicant(), person_subject(), website, False, NOW)
    assert order.state == S.draft and order.version == 1 and order.id is None
    assert order.current == website.info == order.proposed
    assert (order.website_id, order.subject_id, order.account_id) == (100, 10, 1)
    (ev,) = order.new_events
    assert ev.kind == "created" and ev.state == "draft" and ev.actor == "user1" and ev.at == NOW
    assert "粤ICP备20260001号-1" in ev.message


def test_open_change_refuses_another_accounts_website() -> None:
    with pytest.raises(Forbidden):
        rules.open_change(applicant(99), person_subject(), site(), False, NOW)


def test_open_change_refuses_a_closed_website() -> None:
    with pytest.raises(DomainError) as exc:
        rules.open_change(applicant(), person_subject(), site(status=WebsiteStatus.closed), False, NOW)
    assert exc.value.code == "website_not_open" and exc.value.status == 409


def test_open_change_refuses_a_second_open_order() -> None:
    with pytest.raises(DomainError) as exc:
        rules.open_change(applicant(), person_subject(), site(), True, NOW)
    assert exc.value.code == "change_in_progress" and exc.value.status == 409


# --- step 2: edit --------------------------------------------------------------------------------


def test_apply_edit_saves_and_bumps_the_version() -> None:
    order = draft()
    proposed = replace(order.proposed, name="明远的技术笔记")
    rules.apply_edit(order, proposed, [warning("x", "提示")], "user1", NOW)
    assert order.proposed == proposed and order.version == 2
    assert order.changed_fields() == ["name"]
    (ev,) = order.new_events
    assert ev.kind == "edited" and "网站名称" in ev.message


def test_apply_edit_refuses_the_whole_save_on_an_error() -> None:
    order = draft()
    before = order.proposed
    with pytest.raises(DomainError) as exc:
        rules.apply_edit(order, replace(before, domains=()), [error("domain_required", "至少一个")], "u", NOW)
    assert exc.value.code == "domain_required" and [p.code for p in exc.value.problems] == ["domain_required"]
    assert order.proposed == before and order.version == 1 and order.new_events == []


@pytest.mark.parametrize("state", sorted(set(ChangeState) - EDITABLE))
def test_apply_edit_refused_outside_editable_states(state: ChangeState) -> None:
    order = in_state(state)
    with pytest.raises(DomainError) as exc:
        rules.apply_edit(order, replace(order.proposed, name="新名称网站"), [], "u", NOW)
    assert exc.value.code == "not_editable" and exc.value.status == 409


@pytest.mark.parametrize("state", sorted(EDITABLE))
def test_apply_edit_allowed_in_editable_states(state: ChangeState) -> None:
    order = in_state(state)
    rules.apply_edit(order, replace(order.proposed, name="新名称网站"), [], "u", NOW)
    assert order.proposed.name == "新名称网站" and order.state == state


def test_changed_fields_lists_each_edited_part() -> None:
    order = draft()
    order.proposed = replace(order.proposed, home_url="https://mingyuan-notes.cn/",
                             principal=replace(LIMING, email="new@example.com"))
    assert order.changed_fields() == ["home_url", "principal"]


# --- the personal-principal scenario rule ---------------------------------------------------------


@pytest.mark.parametrize("new", [
    CHENHAO,                                            # another person
    replace(LIMING, name="李小明"),                      # same ID, other name
    replace(LIMING, id_number="110101199003077777"),    # same name, other ID
    replace(LIMING, id_type="passport"),
])
def test_personal_principal_cannot_be_swapped(new: Principal) -> None:
    cur = site().info
    problems = rules.principal_rule(person_subject(), cur, replace(cur, principal=new))
    assert [(p.code, p.severity, p.field) for p in problems] == [
        ("principal_change_requires_filing_change", "error", "proposed.principal")]
    assert "变更备案" in problems[0].message


@pytest.mark.parametrize("new", [
    replace(LIMING, mobile="13900001111"),
    replace(LIMING, email="other@example.com"),
    replace(LIMING, id_number=LIMING.id_number.lower()),  # the check letter's case is not a new person
    replace(LIMING, name=" 李明 "),
])
def test_personal_principal_may_change_contact_details(new: Principal) -> None:
    cur = site().info
    assert rules.principal_rule(person_subject(), cur, replace(cur, principal=new)) == []


def test_enterprise_website_principal_may_be_swapped() -> None:
    cur = site(principal=CHENHAO).info
    assert rules.principal_rule(company_subject(), cur, replace(cur, principal=WANGFANG)) == []


# --- step 4: submit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("terms", "privacy"), [(False, False), (True, False), (False, True)])
def test_submit_needs_both_consents(terms: bool, privacy: bool) -> None:
    order = changed_draft()
    with pytest.raises(DomainError) as exc:
        rules.submit(order, terms, privacy, "2026-11", [], "user1", NOW)
    assert exc.value.code == "consent_required"
    assert order.state == S.draft and order.consent_at is None and order.new_events == []


def test_submit_refused_with_precheck_errors_carries_them() -> None:
    order = changed_draft()
    problems = [error("material_missing", "缺少材料", "materials.id_card_front", kind="id_card_front")]
    with pytest.raises(DomainError) as exc:
        rules.submit(order, True, True, "2026-11", problems, "user1", NOW)
    assert exc.value.code == "precheck_failed" and exc.value.problems == problems
    assert order.state == S.draft and order.submitted_at is None


def test_submit_records_consent_and_due_date() -> None:
    order = changed_draft()
    friday = datetime(2026, 11, 27, 15, 30, tzinfo=CN)
    rules.submit(order, True, True, "2026-11", [], "user1", friday)
    assert order.state == S.provider_review and order.version == 2
    assert (order.consent_at, order.consent_version, order.submitted_at) == (friday, "2026-11", friday)
    assert order.due_at == datetime(2026, 12, 1, 15, 30, tzinfo=CN)  # Mon, Tue: 2 working days
    (ev,) = order.new_events
    assert (ev.kind, ev.from_state, ev.state, ev.actor) == ("submitted", "draft", "provider_review", "user1")
    assert ev.data["consent_version"] == "2026-11"


def test_resubmission_starts_a_fresh_first_review() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW)
    rules.record_call(order, "unreachable", "", "rev", NOW + timedelta(hours=1))
    assert order.state == S.provider_rejected
    later = NOW + timedelta(days=1)
    rules.submit(order, True, True, "2026-12", [], "user1", later)
    assert order.state == S.provider_review
    assert order.calls == [] and order.reasons == [] and order.next_call_at is None
    assert order.consent_version == "2026-12" and order.submitted_at == later


@pytest.mark.parametrize("state", sorted(set(ChangeState) - EDITABLE))
def test_submit_refused_outside_editable_states(state: ChangeState) -> None:
    with pytest.raises(DomainError) as exc:
        rules.submit(in_state(state), True, True, "2026-11", [], "u", NOW)
    assert exc.value.code == "not_editable"


# --- withdraw ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.draft, S.provider_review, S.provider_rejected, S.authority_rejected])
def test_withdraw_from_the_applicants_states(state: ChangeState) -> None:
    order = in_state(state)
    rules.withdraw(order, "user1", NOW)
    assert order.state == S.withdrawn and order.version == 2
    (ev,) = order.new_events
    assert (ev.kind, ev.from_state, ev.state) == ("withdrawn", str(state), "withdrawn")


def test_withdraw_refused_once_first_review_passed() -> None:
    order = submitted()
    rules.record_call(order, "reached", "", "rev", NOW)
    rules.approve_first_review(order, "", "rev", NOW)
    with pytest.raises(DomainError) as exc:
        rules.withdraw(order, "user1", NOW)
    assert exc.value.code == "not_editable" and order.state == S.provider_review


@pytest.mark.parametrize("state", [S.authority_sms, S.authority_returned, S.authority_review, S.approved, S.withdrawn])
def test_withdraw_refused_with_the_authority_or_when_closed(state: ChangeState) -> None:
    order = in_state(state)
    with pytest.raises(DomainError):
        rules.withdraw(order, "user1", NOW)
    assert order.state == state


# --- step 5: calls and first review ---------------------------------------------------------------------


def test_reached_call_is_logged_without_a_state_change() -> None:
    order = submitted()
    rules.record_call(order, "reached", "已核实", "rev", NOW)
    assert order.state == S.provider_review and order.next_call_at is None
    assert [c.outcome for c in order.calls] == ["reached"]
    (ev,) = order.new_events
    assert ev.kind == "call" and ev.actor == "rev"
    # The note is internal: kept for reviewers in the call and the event's data, never in the
    # message an applicant reads.
    assert "已核实" not in ev.message and ev.data["note"] == "已核实" and order.calls[0].note == "已核实"


def test_first_missed_call_schedules_a_second_one_an_hour_later() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW)
    assert order.state == S.provider_review
    assert order.next_call_at == NOW + timedelta(hours=1)
    assert order.new_events[-1].data["next_call_at"] == (NOW + timedelta(hours=1)).isoformat()


def test_second_missed_call_rejects_as_unreachable() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW)
    second = NOW + timedelta(hours=1, minutes=2)
    rules.record_call(order, "unreachable", "", "rev", second)
    assert order.state == S.provider_rejected
    assert order.next_call_at is None
    assert [r.code for r in order.reasons] == ["applicant_unreachable"]
    last = order.new_events[-1]
    assert (last.kind, last.from_state, last.state, last.at) == (
        "provider_rejected", "provider_review", "provider_rejected", second)
    assert last.data["reasons"][0]["code"] == "applicant_unreachable"


@pytest.mark.parametrize("state", [S.draft, S.provider_rejected, S.authority_sms, S.approved, S.withdrawn])
def test_calls_only_during_first_review(state: ChangeState) -> None:
    with pytest.raises(DomainError) as exc:
        rules.record_call(in_state(state), "reached", "", "rev", NOW)
    assert exc.value.code == "not_in_review"


def test_approve_requires_a_reached_call() -> None:
    order = submitted()
    with pytest.raises(DomainError) as exc:
        rules.approve_first_review(order, "", "rev", NOW)
    assert exc.value.code == "call_required"
    rules.record_call(order, "unreachable", "", "rev", NOW)
    with pytest.raises(DomainError) as exc:
        rules.approve_first_review(order, "", "rev", NOW)
    assert exc.value.code == "call_required"
    assert order.review_passed_at is None


def test_approve_after_a_reached_call() -> None:
    order = submitted()
    rules.record_call(order, "unreachable", "", "rev", NOW)
    rules.record_call(order, "reached", "", "rev", NOW + timedelta(hours=1))
    rules.approve_first_review(order, "资料齐全", "rev", NOW + timedelta(hours=2))
    assert order.review_passed_at == NOW + timedelta(hours=2)
    assert order.state == S.provider_review  # until the authority accepts the hand-over
    assert order.new_events[-1].kind == "provider_approved"
    with pytest.raises(DomainError) as exc:  # not twice, and no more calls
        rules.approve_first_review(order, "", "rev", NOW)
    assert exc.value.code == "not_in_review"


def test_reject_needs_reasons_and_moves_to_provider_rejected() -> None:
    order = submitted()
    with pytest.raises(DomainError) as exc:
        rules.reject(order, [], "rev", NOW)
    assert exc.value.code == "reasons_required" and order.state == S.provider_review
    rules.reject(order, [Reason("name", "网站名称不符合要求")], "rev", NOW)
    assert order.state == S.provider_rejected and order.reasons[0].code == "name"
    assert order.new_events[-1].data["reasons"] == [{"code": "name", "message": "网站名称不符合要求"}]


def test_reject_a_returned_order_back_to_the_applicant() -> None:
    order = in_state(S.authority_returned)
    rules.reject(order, [Reason("sms", "短信核验未完成")], "rev", NOW)
    assert order.state == S.provider_rejected


@pytest.mark.parametrize("state", [S.draft, S.authority_sms, S.authority_review, S.approved])
def test_reject_refused_elsewhere(state: ChangeState) -> None:
    with pytest.raises(DomainError):
        rules.reject(in_state(state), [Reason("x", "y")], "rev", NOW)


# --- step 6–7: the authority ---------------------------------------------------------------------------------


def test_authority_accepted_starts_the_sms_check() -> None:
    order = submitted()
    rules.record_call(order, "reached", "", "rev", NOW)
    rules.approve_first_review(order, "", "rev", NOW)  # the hand-over follows a first-review pass
    deadline = NOW + timedelta(hours=24)
    rules.authority_accepted(order, "REF-1", deadline, NOW)
    assert order.state == S.authority_sms and order.authority_ref == "REF-1" and order.sms_deadline == deadline
    assert order.new_events[-1].actor == "system"


@pytest.mark.parametrize(("start", "remote", "expected"), [
    (S.authority_sms, "under_review", S.authority_review),
    (S.authority_sms, "returned", S.authority_returned),
    (S.authority_review, "approved", S.approved),
    (S.authority_review, "rejected", S.authority_rejected),
])
def test_authority_update_follows_the_table(start: ChangeState, remote: str, expected: ChangeState) -> None:
    order = in_state(start)
    assert rules.authority_update(order, remote, "sms_timeout", ["材料不清晰"], NOW) is True
    assert order.state == expected
    assert order.new_events[-1].from_state == str(start) and order.new_events[-1].actor == "authority"
    if expected == S.authority_rejected:
        assert [r.message for r in order.reasons] == ["材料不清晰"]
    if expected == S.authority_returned:
        assert order.authority_reason == "sms_timeout"


@pytest.mark.parametrize(("start", "remote"), [
    (S.authority_sms, "approved"),        # not allowed by the table
    (S.authority_sms, "sms_pending"),     # no state of ours
    (S.authority_review, "under_review"),  # already there
    (S.withdrawn, "approved"),
])
def test_authority_update_ignores_what_the_table_forbids(start: ChangeState, remote: str) -> None:
    order = in_state(start)
    assert rules.authority_update(order, remote, None, [], NOW) is False
    assert order.state == start and order.new_events == [] and order.version == 1


def test_apply_approval_keeps_the_filing_number() -> None:
    website = site(domains=("a-example.cn", "b-example.cn"))
    order = rules.open_change(applicant(), person_subject(), website, False, NOW)
    order.proposed = replace(order.proposed, domains=("a-example.cn",), name="明远笔记站")
    new = rules.apply_approval(website, order)
    assert new.info == order.proposed
    assert new.filing_number == website.filing_number and new.id == website.id
    assert new.version == website.version + 1
