"""The authority desk: staff hand orders to the 管局 by hand and record what its system shows.

The 管局 systems have no public API. Without a gateway (``GATEWAY_URL`` unset or ``desk``) a
first-review pass leaves the order on the desk (``provider_review`` with ``review_passed_at``
set); a reviewer types it into the authority's system and records each step here. Every action
goes through the same functions as the gateway path (``services.authority``), so the states,
timeline, notifications and the SMS-window reminders are the same.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, InvalidTransition, NotFound
from beiandesk.domain.masking import mask_id_number, mask_mobile
from beiandesk.domain.model import Account, ChangeOrder
from beiandesk.domain.states import LABELS, ChangeState
from beiandesk.services import audit, auth, authority, notify
from beiandesk.services.deps import Deps

S = ChangeState

#: The stages the desk shows, in the order a hand-over goes through them.
STAGES: tuple[tuple[str, str], ...] = (
    ("waiting", "待提交管局"),
    (str(S.authority_sms), LABELS[S.authority_sms]),
    (str(S.authority_review), LABELS[S.authority_review]),
    (str(S.authority_returned), LABELS[S.authority_returned]),
)
#: Reasons the authority returns an order for (api.md): anything else is kept as typed.
RETURN_REASONS = {
    "sms_failed": "短信核验码输错次数过多",
    "sms_timeout": "未在 24 小时内完成短信核验",
}
MAX_REF, MAX_REASON = 64, 500


def stage(order: ChangeOrder) -> str | None:
    if order.state == S.provider_review:
        return "waiting" if order.review_passed_at is not None else None
    if order.state in (S.authority_sms, S.authority_review, S.authority_returned):
        return str(order.state)
    return None


def orders(d: Deps, actor: Account, limit: int = 1000) -> list[ChangeOrder]:
    """Orders waiting for hand-over (earliest pass first), then those in an authority stage."""
    auth.require_staff(actor)
    with d.uow(readonly=True) as uow:
        passed = uow.changes.list(states={S.provider_review}, limit=limit)
        held = uow.changes.list(
            states={S.authority_sms, S.authority_review, S.authority_returned},
            order_by_due=True,
            limit=limit,
        )
    waiting = sorted(
        (o for o in passed if o.review_passed_at is not None),
        key=lambda o: (o.review_passed_at, o.id),
    )
    return waiting + held


def _require_staff_and_order(d: Deps, actor: Account, change_id: int) -> ChangeOrder:
    auth.require_staff(actor)
    with d.uow(readonly=True) as uow:
        order = uow.changes.get(change_id)
    if order is None:
        raise NotFound("变更单")
    return order


def _refuse(order: ChangeOrder, action: str) -> InvalidTransition:
    return InvalidTransition(
        "invalid_transition", f"变更单当前状态为「{LABELS[order.state]}」，不能{action}。"
    )


def submitted(d: Deps, actor: Account, change_id: int, ref: str) -> ChangeOrder:
    """已提交管局: the authority's reference; the 24-hour SMS window starts now."""
    order = _require_staff_and_order(d, actor, change_id)
    ref = (ref or "").strip()
    if not ref or len(ref) > MAX_REF:
        raise DomainError("ref_required", f"请填写管局系统中的受理编号（1–{MAX_REF} 个字符）。")
    if stage(order) not in ("waiting", str(S.authority_returned)):
        raise _refuse(order, "登记为已提交管局")
    now = d.clock.now()
    done = authority.record_accepted(
        d,
        change_id,
        ref,
        now + rules.SMS_WINDOW,
        {S.provider_review, S.authority_returned},
        actor=actor.username,
    )
    if done is None:  # moved meanwhile
        raise _refuse(_require_staff_and_order(d, actor, change_id), "登记为已提交管局")
    return done


def _apply(
    d: Deps,
    actor: Account,
    change_id: int,
    state: str,
    action: str,
    reason: str | None = None,
    reasons: list[str] | None = None,
) -> ChangeOrder:
    before = _require_staff_and_order(d, actor, change_id)
    after = authority.apply_to_change(d, change_id, state, reason, reasons or [], actor.username)
    if after is None:
        raise NotFound("变更单")
    if after.state == before.state:
        raise _refuse(before, action)
    return after


def sms_passed(d: Deps, actor: Account, change_id: int) -> ChangeOrder:
    """短信核验通过 → 管局审核中."""
    return _apply(d, actor, change_id, "under_review", "登记短信核验通过")


def returned(d: Deps, actor: Account, change_id: int, reason: str) -> ChangeOrder:
    """退回 (``sms_failed``, ``sms_timeout`` or the authority's own words)."""
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise DomainError("reason_required", "请填写管局退回的原因。")
    return _apply(d, actor, change_id, "returned", "登记为管局退回", reason=reason)


def decision(
    d: Deps, actor: Account, change_id: int, decision: str, reasons: list[str]
) -> ChangeOrder:
    """管局通过 / 管局驳回 (with the authority's reasons)."""
    reasons = [r.strip()[:MAX_REASON] for r in reasons or [] if r and r.strip()][:20]
    if decision == "approve":
        return _apply(d, actor, change_id, "approved", "登记为管局通过")
    if decision == "reject":  # without reasons the applicant reads 管局审核未通过 (domain default)
        return _apply(d, actor, change_id, "rejected", "登记为管局驳回", reasons=reasons)
    raise DomainError(
        "invalid_request", "decision 只能是 approve（管局通过）或 reject（管局驳回）。"
    )


def remind_expired(d: Deps) -> int:
    """Once per hand-over, tell staff when an order's SMS window has run out on the desk.

    With a gateway the authority returns such an order by itself; on the desk nobody would
    notice, so the reviewers are e-mailed and the timeline says so (the order stays where it is
    until staff record what the authority's system shows)."""
    if d.gateway is not None:
        return 0
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        held = uow.changes.list(states={S.authority_sms}, limit=1000)
    sent = 0
    for order in held:
        if order.sms_deadline is None or order.sms_deadline > now:
            continue
        with d.uow() as uow:
            fresh = uow.changes.get(order.id, for_update=True)
            events = uow.changes.events(order.id)
            since = max(
                (e.at for e in events if e.kind == "authority_submitted"), default=fresh.created_at
            )
            if fresh.state != S.authority_sms or any(
                e.kind == "desk_sms_expired" and e.at >= since for e in events
            ):
                continue
            rules.event(
                fresh,
                "desk_sms_expired",
                "system",
                "短信核验期限已过：请在管局系统查看该订单，并在管局工作台登记结果（通常为退回）",
                now,
            )
            uow.changes.save(fresh)
            notify.reviewer_reminder(
                d, uow, fresh, f"变更单 #{fresh.id} 的短信核验期限已过，请在管局工作台登记结果", now
            )
            uow.commit()
            sent += 1
    return sent


# -- what staff type into the authority's system ---------------------------------------------
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("change_id", "变更单"),
    ("review_passed_at", "初审通过时间"),
    ("province", "省份"),
    ("subject_kind", "主体性质"),
    ("subject_name", "主体名称"),
    ("subject_filing_number", "主体备案号"),
    ("website_filing_number", "网站备案号"),
    ("website_name", "网站名称"),
    ("domains", "域名"),
    ("home_url", "首页地址"),
    ("content_categories", "内容类别"),
    ("principal_name", "网站负责人"),
    ("principal_id_number", "负责人证件号码"),
    ("principal_mobile", "负责人手机号"),
)


def handover_rows(d: Deps, actor: Account, unmasked: bool = False) -> list[dict[str, str]]:
    """One row per order waiting for hand-over; ID numbers and mobiles masked unless an admin asks
    for them in full — each such look is written on the order's timeline."""
    if unmasked:
        auth.require_admin(actor)
    waiting = [o for o in orders(d, actor) if stage(o) == "waiting"]
    rows = []
    now = d.clock.now()
    with d.uow(readonly=unmasked is False) as uow:
        for order in waiting:
            if unmasked:
                fresh = uow.changes.get(order.id, for_update=True)
                rules.event(
                    fresh,
                    "contact_viewed",
                    actor.username,
                    "管理员导出了待提交管局清单（含完整证件号码和手机号）",
                    now,
                )
                uow.changes.save(fresh)
            p = authority.handover_payload(uow, order)
            principal = p["principals"][0]
            rows.append(
                {
                    "change_id": str(order.id),
                    "review_passed_at": _cst(order.review_passed_at),
                    "province": p["province"],
                    "subject_kind": {"personal": "个人", "enterprise": "企业"}.get(
                        p["subject"]["kind"], p["subject"]["kind"]
                    ),
                    "subject_name": p["subject"]["name"],
                    "subject_filing_number": p["subject"]["filing_number"] or "",
                    "website_filing_number": p["filing_number"] or "",
                    "website_name": p["website"]["name"],
                    "domains": "；".join(p["website"]["domains"]),
                    "home_url": p["website"]["home_url"] or "",
                    "content_categories": "；".join(p["website"]["content_categories"]),
                    "principal_name": principal["name"],
                    "principal_id_number": principal["id_number"]
                    if unmasked
                    else mask_id_number(principal["id_number"] or ""),
                    "principal_mobile": principal["mobile"]
                    if unmasked
                    else mask_mobile(principal["mobile"] or ""),
                }
            )
        if unmasked:
            audit.record(
                uow,
                actor=actor.username,
                action="desk.export_unmasked",
                target="authority-desk",
                detail={"orders": [o.id for o in waiting]},
                at=now,
            )
            uow.commit()
    return rows


def handover_csv(d: Deps, actor: Account, unmasked: bool = False) -> str:
    """The hand-over list as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in EXPORT_COLUMNS])
    for row in handover_rows(d, actor, unmasked):
        writer.writerow([_cell(row[key]) for key, _ in EXPORT_COLUMNS])
    return "\ufeff" + out.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cst(at: datetime | None) -> str:
    if at is None:
        return ""
    from datetime import timedelta, timezone

    return at.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def view(order: ChangeOrder, now: datetime) -> dict[str, Any]:
    """Desk facts of one order (beside the change view)."""
    left = (order.sms_deadline - now).total_seconds() if order.sms_deadline else None
    return {
        "stage": stage(order),
        "sms_deadline": order.sms_deadline.isoformat() if order.sms_deadline else None,
        "sms_seconds_left": int(left) if left is not None else None,
        "sms_overdue": left is not None and left <= 0 and order.state == S.authority_sms,
    }
