"""What may happen to a change order, and what each step records (pure).

Sources: product.md §The flow (steps 1–7) and §Rules; the provider's 网站变更 documentation as
summarised in reference/filing-rules-research.md §(b). Every state change goes through
``transition`` so it is checked against the one state table and leaves an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from beiandesk.domain.errors import DomainError, Forbidden, InvalidTransition
from beiandesk.domain.model import (
    Account,
    Call,
    ChangeOrder,
    Event,
    Reason,
    Subject,
    Website,
    WebsiteInfo,
    WebsiteStatus,
)
from beiandesk.domain.precheck import personal_principal_rule
from beiandesk.domain.problems import Problem
from beiandesk.domain.states import EDITABLE, LABELS, ChangeState, can_transition
from beiandesk.domain.workdays import FIRST_REVIEW_WORKING_DAYS, add_working_days

S = ChangeState

#: A missed call is retried about one hour later (Tencent first-review practice, research §(b) 10).
CALL_RETRY_AFTER = timedelta(hours=1)
#: The second missed call rejects the order as unreachable.
MAX_MISSED_CALLS = 2
#: Fields of ``proposed`` an applicant may edit in a website change.
EDITABLE_FIELDS = frozenset({"name", "domains", "home_url", "content_categories", "principal", "resource"})


def event(order: ChangeOrder, kind: str, actor: str, message: str, now: datetime,
          from_state: str | None = None, **data: Any) -> Event:
    ev = Event(at=now, kind=kind, state=str(order.state), actor=actor, message=message,
               from_state=from_state, data=data)
    order.new_events.append(ev)
    return ev


def transition(order: ChangeOrder, to: ChangeState, actor: str, now: datetime, message: str,
               kind: str = "state_changed", **data: Any) -> None:
    """Move the order along the state table (states.py) and record the event."""
    if not can_transition(order.state, to):
        raise InvalidTransition(
            "not_editable" if order.state not in EDITABLE else "invalid_transition",
            f"变更单当前状态为「{LABELS[order.state]}」，不能变为「{LABELS[to]}」。",
        )
    src = order.state
    order.state = to
    order.updated_at = now
    event(order, kind, actor, message, now, from_state=str(src), **data)


def open_change(account: Account, subject: Subject, website: Website, has_open_order: bool,
                now: datetime) -> ChangeOrder:
    """Step 1: a change can be opened only on an open website of one's own, one at a time.

    product.md §The flow 1: refused when the website is not open (打开状态), when another order
    is still open for the same website, or when the account does not own it.
    """
    if subject.account_id != account.id:
        raise Forbidden("只能变更本账号名下已备案的网站。")
    if website.status != WebsiteStatus.open:
        raise DomainError("website_not_open", "该网站不是「打开」状态，不能发起网站变更。请先恢复网站为打开状态。",
                          status=409)
    if has_open_order:
        raise DomainError("change_in_progress", "该网站已有进行中的订单，请先完成或撤回该订单后再发起变更。",
                          status=409)
    order = ChangeOrder(
        id=None, website_id=website.id, subject_id=subject.id, account_id=account.id,
        state=S.draft, current=website.info, proposed=website.info,
        created_at=now, updated_at=now,
    )
    event(order, "created", account.username, f"发起网站变更：{website.info.name}（{website.filing_number}）", now)
    return order


def ensure_editable(order: ChangeOrder) -> None:
    if order.state not in EDITABLE:
        raise DomainError("not_editable", f"变更单当前状态为「{LABELS[order.state]}」，不能修改。", status=409)


def apply_edit(order: ChangeOrder, proposed: WebsiteInfo, problems: Sequence[Problem],
               actor: str, now: datetime) -> None:
    """Save an edited proposal. Edit-time errors (``edit_problems``) refuse the whole save."""
    ensure_editable(order)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DomainError(errors[0].code, errors[0].message, problems=errors)
    order.proposed = proposed
    order.version += 1
    order.updated_at = now
    changed = order.changed_fields()
    event(order, "edited", actor, "保存网站信息" + (f"（变更：{'、'.join(_FIELD_LABELS[f] for f in changed)}）" if changed else ""), now)


_FIELD_LABELS = {"name": "网站名称", "domains": "域名", "home_url": "首页地址",
                 "content_categories": "服务内容", "principal": "网站负责人", "resource": "接入资源"}


def principal_rule(subject: Subject, current: WebsiteInfo, proposed: WebsiteInfo) -> list[Problem]:
    """The personal-subject principal rule at edit time (the same rule the pre-check runs)."""
    return personal_principal_rule(subject, proposed.principal)


def submit(order: ChangeOrder, accept_terms: bool, accept_privacy: bool, terms_version: str,
           precheck_errors: Sequence[Problem], actor: str, now: datetime) -> None:
    """Step 4–5: consent (time and version recorded), no pre-check error, then first review."""
    ensure_editable(order)
    if not (accept_terms and accept_privacy):
        raise DomainError("consent_required", "请阅读并同意《服务条款》和《隐私声明》后再提交。")
    if precheck_errors:
        raise DomainError("precheck_failed",
                          f"预检发现 {len(precheck_errors)} 个问题，修正后才能提交。",
                          problems=list(precheck_errors))
    order.consent_at = now
    order.consent_version = terms_version
    order.submitted_at = now
    order.due_at = add_working_days(now, FIRST_REVIEW_WORKING_DAYS)
    order.next_call_at = None
    order.calls = []
    order.reasons = []
    order.review_passed_at = None
    order.version += 1
    transition(order, S.provider_review, actor, now,
               f"已提交，接入商将在 {FIRST_REVIEW_WORKING_DAYS} 个工作日内电话联系并完成初审",
               kind="submitted", consent_version=terms_version)


def withdraw(order: ChangeOrder, actor: str, now: datetime) -> None:
    if order.state == S.provider_review and order.review_passed_at is not None:
        raise DomainError("not_editable", "初审已通过、正在提交管局，不能撤回。", status=409)
    order.version += 1
    transition(order, S.withdrawn, actor, now, "申请人撤回了变更单", kind="withdrawn")


def _in_first_review(order: ChangeOrder) -> None:
    if order.state != S.provider_review or order.review_passed_at is not None:
        raise DomainError("not_in_review", f"变更单当前状态为「{LABELS[order.state]}」，不在初审中。", status=409)


def record_call(order: ChangeOrder, outcome: str, note: str, reviewer: str, now: datetime) -> None:
    """Step 5: the reviewer phones the applicant. A miss makes a second call due about one hour
    later; a second miss rejects the order (reason ``applicant_unreachable``)."""
    _in_first_review(order)
    order.calls.append(Call(at=now, outcome=outcome, note=note, reviewer=reviewer))
    order.version += 1
    order.updated_at = now
    if outcome == "reached":
        order.next_call_at = None
        event(order, "call", reviewer, "审核专员电话联系：已接通" + (f"（{note}）" if note else ""), now, outcome=outcome)
        return
    missed = sum(1 for c in order.calls if c.outcome == "unreachable")
    if missed < MAX_MISSED_CALLS:
        order.next_call_at = now + CALL_RETRY_AFTER
        event(order, "call", reviewer,
              "审核专员电话联系：未接通，将于约 1 小时后再次致电" + (f"（{note}）" if note else ""), now,
              outcome=outcome, next_call_at=order.next_call_at.isoformat())
        return
    event(order, "call", reviewer, "审核专员电话联系：再次未接通", now, outcome=outcome)
    order.next_call_at = None
    order.reasons = [Reason("applicant_unreachable", "两次电话均未接通，无法与申请人取得联系。请保持电话畅通后重新提交。")]
    transition(order, S.provider_rejected, reviewer, now, "初审驳回：申请人电话无法接通",
               kind="provider_rejected", reasons=[r.to_dict() for r in order.reasons])


def approve_first_review(order: ChangeOrder, note: str, reviewer: str, now: datetime) -> None:
    """Pass first review; only after the applicant was reached by phone (``call_required``).
    The order stays in ``provider_review`` until the authority accepts the hand-over."""
    _in_first_review(order)
    if not any(c.outcome == "reached" for c in order.calls):
        raise DomainError("call_required", "初审通过前须先电话联系申请人并接通。", status=409)
    order.review_passed_at = now
    order.next_call_at = None
    order.version += 1
    order.updated_at = now
    event(order, "provider_approved", reviewer, "初审通过，正在提交管局" + (f"（{note}）" if note else ""), now)


def reject(order: ChangeOrder, reasons: Sequence[Reason], reviewer: str, now: datetime) -> None:
    """First-review rejection, or a returned order sent back to the applicant to fix."""
    if order.state == S.provider_review:
        _in_first_review(order)
    elif order.state != S.authority_returned:
        raise DomainError("not_in_review", f"变更单当前状态为「{LABELS[order.state]}」，不能驳回。", status=409)
    if not reasons:
        raise DomainError("reasons_required", "驳回时请至少填写一条原因。")
    order.reasons = list(reasons)
    order.next_call_at = None
    order.version += 1
    transition(order, S.provider_rejected, reviewer, now,
               "初审驳回：" + "；".join(r.message for r in reasons),
               kind="provider_rejected", reasons=[r.to_dict() for r in reasons])


#: The MIIT SMS check must be done within this long of the hand-over (the desk's deadline).
SMS_WINDOW = timedelta(hours=24)


def authority_accepted(order: ChangeOrder, ref: str, sms_deadline: datetime | None, now: datetime,
                       actor: str = "system") -> None:
    """The authority accepted the hand-over (first time or resend): the SMS check begins.

    ``actor`` is ``system`` for the gateway, the staff member's name at the authority desk."""
    if order.state == S.provider_review and order.review_passed_at is None:
        raise InvalidTransition("invalid_transition", "变更单尚未通过初审，不能提交管局。")
    order.authority_ref = ref
    order.authority_reason = None
    order.sms_deadline = sms_deadline
    order.version += 1
    transition(order, S.authority_sms, actor, now,
               "已提交管局，请网站负责人在收到工信部短信后 24 小时内完成短信核验",
               kind="authority_submitted", ref=ref)


AUTHORITY_REASONS = {
    "sms_failed": "短信核验码连续输错 5 次，订单已退回接入商",
    "sms_timeout": "未在 24 小时内完成短信核验，订单已退回接入商",
}


def authority_update(order: ChangeOrder, state: str, reason: str | None, reasons: Sequence[str],
                     now: datetime, actor: str = "authority") -> bool:
    """Map an authority state (api.md §sandbox) onto the order. Returns True when it moved."""
    target = {"under_review": S.authority_review, "approved": S.approved,
              "rejected": S.authority_rejected, "returned": S.authority_returned}.get(state)
    if state == "sms_pending" and order.state == S.authority_returned:
        target = S.authority_sms  # a resend whose answer we never got: the authority has it again
    if target is None or target == order.state or not can_transition(order.state, target):
        return False
    order.version += 1
    if target == S.authority_sms:
        transition(order, target, actor, now, "管局已重新发送短信核验码，请在 24 小时内完成核验",
                   kind="authority_submitted")
    elif target == S.authority_review:
        transition(order, target, actor, now, "短信核验已通过，管局审核中", kind="authority_review")
    elif target == S.approved:
        transition(order, target, actor, now, "管局审核通过，网站信息已更新", kind="approved")
    elif target == S.authority_rejected:
        order.reasons = [Reason("authority_rejected", r) for r in reasons] or [
            Reason("authority_rejected", "管局审核未通过")]
        transition(order, target, actor, now,
                   "管局驳回：" + "；".join(r.message for r in order.reasons),
                   kind="authority_rejected", reasons=[r.to_dict() for r in order.reasons])
    else:
        order.authority_reason = reason
        transition(order, target, actor, now, AUTHORITY_REASONS.get(reason or "", "管局退回订单"),
                   kind="authority_returned", reason=reason)
    return True


def apply_approval(website: Website, order: ChangeOrder) -> Website:
    """Step 7: the website takes ``proposed``; filing number unchanged, version bumped."""
    return replace(website.with_info(order.proposed), filing_number=website.filing_number)
