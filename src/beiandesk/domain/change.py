"""What may happen to a change order, and what each step records (pure).

Sources: product.md §The flow (steps 1–7) and §Rules; the provider's 网站变更 documentation as
summarised in reference/filing-rules-research.md §(b). Every state change goes through
``transition`` so it is checked against the one state table and leaves an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
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
from beiandesk.domain.timeline import call_message, edited_message, join_reasons
from beiandesk.domain.workdays import FIRST_REVIEW_WORKING_DAYS, add_working_days

S = ChangeState

#: A missed call is retried about one hour later (Tencent first-review practice, research §(b) 10);
#: ``CALL_RETRY_S`` sets it (api.md §Flow rules made precise), the services pass it in.
CALL_RETRY_AFTER = timedelta(hours=1)
#: The second missed call rejects the order as unreachable.
MAX_MISSED_CALLS = 2
#: Fields of ``proposed`` an applicant may edit in a website change.
EDITABLE_FIELDS = frozenset(
    {"name", "domains", "home_url", "content_categories", "principal", "resource"}
)


def event(
    order: ChangeOrder,
    kind: str,
    actor: str,
    message: str,
    now: datetime,
    from_state: str | None = None,
    **data: Any,
) -> Event:
    ev = Event(
        at=now,
        kind=kind,
        state=str(order.state),
        actor=actor,
        message=message,
        from_state=from_state,
        data=data,
    )
    order.new_events.append(ev)
    return ev


def transition(
    order: ChangeOrder,
    to: ChangeState,
    actor: str,
    now: datetime,
    message: str,
    kind: str = "state_changed",
    **data: Any,
) -> None:
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


def change_in_progress() -> DomainError:
    """One open order per website: the refusal, whoever finds it (this rule, or the database's
    unique index when two requests race past it)."""
    return DomainError(
        "change_in_progress",
        "该网站已有进行中的订单，请先完成或撤回该订单后再发起变更。",
        status=409,
    )


def open_change(
    account: Account, subject: Subject, website: Website, has_open_order: bool, now: datetime
) -> ChangeOrder:
    """Step 1: a change can be opened only on an open website of one's own, one at a time.

    product.md §The flow 1: refused when the website is not open (打开状态), when another order
    is still open for the same website, or when the account does not own it.
    """
    if subject.account_id != account.id:
        raise Forbidden("只能变更本账号名下已备案的网站。")
    if website.status != WebsiteStatus.open:
        raise DomainError(
            "website_not_open",
            "该网站不是「打开」状态，不能发起网站变更。请先恢复网站为打开状态。",
            status=409,
        )
    if has_open_order:
        raise change_in_progress()
    order = ChangeOrder(
        id=None,
        website_id=website.id,
        subject_id=subject.id,
        account_id=account.id,
        state=S.draft,
        current=website.info,
        proposed=website.info,
        created_at=now,
        updated_at=now,
    )
    event(
        order,
        "created",
        account.username,
        f"发起网站变更：{website.info.name}（{website.filing_number}）",
        now,
    )
    return order


def ensure_editable(order: ChangeOrder) -> None:
    if order.state not in EDITABLE:
        raise DomainError(
            "not_editable", f"变更单当前状态为「{LABELS[order.state]}」，不能修改。", status=409
        )


def edited_fields(before: WebsiteInfo, after: WebsiteInfo) -> list[str]:
    """The fields one save changes (not the whole difference from the filed record)."""
    old, new = before.to_dict(), after.to_dict()
    return [
        k
        for k in ("name", "domains", "home_url", "content_categories", "principal", "resource")
        if old[k] != new[k]
    ]


def apply_edit(
    order: ChangeOrder,
    proposed: WebsiteInfo,
    problems: Sequence[Problem],
    actor: str,
    now: datetime,
) -> bool:
    """Save an edited proposal. Edit-time errors (``edit_problems``) refuse the whole save.

    A save that changes nothing is no change at all: the version stays (so the client's ETag
    still holds) and no event is written. Returns whether anything changed.
    """
    ensure_editable(order)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DomainError(errors[0].code, errors[0].message, problems=errors)
    fields = edited_fields(order.proposed, proposed)
    if not fields:
        return False
    order.proposed = proposed
    order.version += 1
    order.updated_at = now
    event(order, "edited", actor, edited_message(fields), now, fields=fields)
    return True


def principal_rule(subject: Subject, current: WebsiteInfo, proposed: WebsiteInfo) -> list[Problem]:
    """The personal-subject principal rule at edit time (the same rule the pre-check runs)."""
    return personal_principal_rule(subject, proposed.principal)


def submit(
    order: ChangeOrder,
    accept_terms: bool,
    accept_privacy: bool,
    terms_version: str,
    precheck_errors: Sequence[Problem],
    actor: str,
    now: datetime,
) -> None:
    """Step 4–5: consent (time and version recorded), no pre-check error, then first review."""
    ensure_editable(order)
    if not (accept_terms and accept_privacy):
        raise DomainError("consent_required", "请阅读并同意《服务条款》和《隐私声明》后再提交。")
    if precheck_errors:
        raise DomainError(
            "precheck_failed",
            f"预检发现 {len(precheck_errors)} 个问题，修正后才能提交。",
            problems=list(precheck_errors),
        )
    if not order.changed_fields():  # api.md §Flow rules made precise
        raise DomainError(
            "no_changes",
            "变更后的信息与已备案信息完全相同，没有需要提交的变更。请先修改网站信息。",
            status=409,
        )
    order.consent_at = now
    order.consent_version = terms_version
    order.submitted_at = now
    order.due_at = add_working_days(now, FIRST_REVIEW_WORKING_DAYS)
    order.next_call_at = None
    order.round += 1  # a fresh round of calls: the stored calls of earlier rounds never count again
    order.calls = []
    order.reasons = []
    order.review_passed_at = None
    order.version += 1
    transition(
        order,
        S.provider_review,
        actor,
        now,
        f"已提交，接入商将在 {FIRST_REVIEW_WORKING_DAYS} 个工作日内电话联系并完成初审",
        kind="submitted",
        consent_version=terms_version,
    )


def withdraw(order: ChangeOrder, actor: str, now: datetime) -> None:
    if order.state == S.provider_review and order.review_passed_at is not None:
        raise DomainError("not_editable", "初审已通过、正在提交管局，不能撤回。", status=409)
    order.version += 1
    transition(order, S.withdrawn, actor, now, "申请人撤回了变更单", kind="withdrawn")


def _in_first_review(order: ChangeOrder) -> None:
    if order.review_passed_at is not None and order.state == S.provider_review:
        raise DomainError(
            "not_in_review", "该变更单的初审已经通过，正在提交管局，不能再操作。", status=409
        )
    if order.state != S.provider_review:
        raise DomainError(
            "not_in_review", f"变更单当前状态为「{LABELS[order.state]}」，不在初审中。", status=409
        )


def _cst(at: datetime) -> str:
    return at.astimezone(timezone(timedelta(hours=8))).strftime("%H:%M")


def record_call(
    order: ChangeOrder,
    outcome: str,
    note: str,
    reviewer: str,
    now: datetime,
    retry_after: timedelta = CALL_RETRY_AFTER,
) -> None:
    """Step 5: the reviewer phones the applicant. A miss makes a second call due about one hour
    later (``retry_after``); a second miss before then is refused (``call_too_early``), a second
    miss after it rejects the order (reason ``applicant_unreachable``). Only the current
    round's calls count (``ChangeOrder.round``). The note is internal: it is kept in the call
    and the event's ``data``, never in the message the applicant reads."""
    _in_first_review(order)
    missed = sum(1 for c in order.calls if c.outcome == "unreachable")
    if (
        outcome != "reached"
        and missed
        and order.next_call_at is not None
        and now < order.next_call_at
    ):
        too_early = DomainError(
            "call_too_early",
            f"上次未接通后须间隔约 {round(retry_after.total_seconds() / 60)} 分钟再次致电："
            f"请于 {_cst(order.next_call_at)}（北京时间）之后再拨打并记录。",
            status=409,
        )
        too_early.extra = {"next_call_at": order.next_call_at.isoformat()}  # type: ignore[attr-defined]
        wait = max(1, int((order.next_call_at - now).total_seconds()))
        too_early.headers = {"Retry-After": str(wait)}  # type: ignore[attr-defined]
        raise too_early
    order.calls.append(
        Call(at=now, outcome=outcome, note=note, reviewer=reviewer, round=order.round)
    )
    order.version += 1
    order.updated_at = now
    notes = {"note": note} if note else {}
    if outcome == "reached":
        order.next_call_at = None
        event(
            order,
            "call",
            reviewer,
            call_message("reached", False, False),
            now,
            outcome=outcome,
            **notes,
        )
        return
    missed += 1
    if missed < MAX_MISSED_CALLS:
        order.next_call_at = now + retry_after
        event(
            order,
            "call",
            reviewer,
            call_message(outcome, True, False),
            now,
            outcome=outcome,
            next_call_at=order.next_call_at.isoformat(),
            **notes,
        )
        return
    event(
        order, "call", reviewer, call_message(outcome, False, True), now, outcome=outcome, **notes
    )
    order.next_call_at = None
    order.reasons = [
        Reason(
            "applicant_unreachable",
            "两次电话均未接通，无法与申请人取得联系。请保持电话畅通后重新提交。",
        )
    ]
    transition(
        order,
        S.provider_rejected,
        reviewer,
        now,
        "初审驳回：申请人电话无法接通",
        kind="provider_rejected",
        reasons=[r.to_dict() for r in order.reasons],
    )


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
    event(
        order,
        "provider_approved",
        reviewer,
        "初审通过，正在提交管局",
        now,
        **({"note": note} if note else {}),
    )


#: Codes a reviewer's action gets when the order is no longer where the reviewer saw it.
STALE_CODES = frozenset({"not_in_review", "not_returned"})
#: Events that decide where an order is, with what they did (for "who moved it" messages).
_DECISIONS = {
    "provider_approved": "初审已通过",
    "provider_rejected": "初审已驳回",
    "withdrawn": "申请人已撤回",
    "resend_requested": "已重新提交管局",
    "authority_submitted": "已提交管局",
    "authority_review": "管局审核中",
    "authority_returned": "管局已退回",
    "authority_rejected": "管局已驳回",
    "approved": "管局已通过",
}
_NOT_STAFF = ("system", "authority")


def moved_under(
    order: ChangeOrder, events: Sequence[Event], reviewer: str, error: DomainError
) -> DomainError:
    """The refusal a reviewer reads when another person (or the authority) moved the order
    after the reviewer's page was drawn: who did what, not a contradictory state message.

    ``error`` (the plain refusal) is kept when no decision explains it (e.g. a draft).
    """
    last = next((e for e in reversed(events) if e.kind in _DECISIONS), None)
    if last is None or last.kind == "submitted":
        return error
    what = _DECISIONS[last.kind]
    if last.kind == "withdrawn":
        message = "申请人已撤回该变更单，无需再审核。"
    elif last.actor == reviewer:
        message = f"您已处理过该变更单（{what}），无需重复操作。"
    elif last.actor in _NOT_STAFF:
        message = f"该变更单已由管局或系统处理（{what}，当前状态：{LABELS[order.state]}）。"
    else:
        message = f"该变更单已被其他审核专员处理（{last.actor}：{what}），请刷新页面查看最新状态。"
    return DomainError(error.code, message, status=409)


def reject(order: ChangeOrder, reasons: Sequence[Reason], reviewer: str, now: datetime) -> None:
    """First-review rejection, or a returned order sent back to the applicant to fix."""
    if order.state == S.provider_review:
        _in_first_review(order)
    elif order.state != S.authority_returned:
        raise DomainError(
            "not_in_review", f"变更单当前状态为「{LABELS[order.state]}」，不能驳回。", status=409
        )
    if not reasons:
        raise DomainError("reasons_required", "驳回时请至少填写一条原因。")
    order.reasons = list(reasons)
    order.next_call_at = None
    order.version += 1
    transition(
        order,
        S.provider_rejected,
        reviewer,
        now,
        "初审驳回：" + join_reasons(r.message for r in reasons),
        kind="provider_rejected",
        reasons=[r.to_dict() for r in reasons],
    )


#: The MIIT SMS check must be done within this long of the hand-over (the desk's deadline).
SMS_WINDOW = timedelta(hours=24)


def authority_accepted(
    order: ChangeOrder,
    ref: str,
    sms_deadline: datetime | None,
    now: datetime,
    actor: str = "system",
) -> None:
    """The authority accepted the hand-over (first time or resend): the SMS check begins.

    ``actor`` is ``system`` for the gateway, the staff member's name at the authority desk."""
    if order.state == S.provider_review and order.review_passed_at is None:
        raise InvalidTransition("invalid_transition", "变更单尚未通过初审，不能提交管局。")
    order.authority_ref = ref
    order.authority_reason = None
    order.sms_deadline = sms_deadline
    order.version += 1
    transition(
        order,
        S.authority_sms,
        actor,
        now,
        "已提交管局，请网站负责人在收到工信部短信后 24 小时内完成短信核验",
        kind="authority_submitted",
        ref=ref,
    )


AUTHORITY_REASONS = {
    "sms_failed": "短信核验码连续输错 5 次，订单已退回接入商",
    "sms_timeout": "未在 24 小时内完成短信核验，订单已退回接入商",
}


def authority_update(
    order: ChangeOrder,
    state: str,
    reason: str | None,
    reasons: Sequence[str],
    now: datetime,
    actor: str = "authority",
) -> bool:
    """Map an authority state (api.md §sandbox) onto the order. Returns True when it moved."""
    target = {
        "under_review": S.authority_review,
        "approved": S.approved,
        "rejected": S.authority_rejected,
        "returned": S.authority_returned,
    }.get(state)
    if state == "sms_pending" and order.state == S.authority_returned:
        target = S.authority_sms  # a resend whose answer we never got: the authority has it again
    if target is None or target == order.state or not can_transition(order.state, target):
        return False
    order.version += 1
    if target == S.authority_sms:
        transition(
            order,
            target,
            actor,
            now,
            "管局已重新发送短信核验码，请在 24 小时内完成核验",
            kind="authority_submitted",
        )
    elif target == S.authority_review:
        transition(order, target, actor, now, "短信核验已通过，管局审核中", kind="authority_review")
    elif target == S.approved:
        transition(order, target, actor, now, "管局审核通过，网站信息已更新", kind="approved")
    elif target == S.authority_rejected:
        order.reasons = [Reason("authority_rejected", r) for r in reasons] or [
            Reason("authority_rejected", "管局审核未通过")
        ]
        transition(
            order,
            target,
            actor,
            now,
            "管局驳回：" + join_reasons(r.message for r in order.reasons),
            kind="authority_rejected",
            reasons=[r.to_dict() for r in order.reasons],
        )
    else:
        order.authority_reason = reason
        transition(
            order,
            target,
            actor,
            now,
            AUTHORITY_REASONS.get(reason or "", "管局退回订单"),
            kind="authority_returned",
            reason=reason,
        )
    return True


def apply_approval(website: Website, order: ChangeOrder) -> Website:
    """Step 7: the website takes ``proposed``; filing number unchanged, version bumped."""
    return replace(website.with_info(order.proposed), filing_number=website.filing_number)
