"""Hand-over to the authority (管局 via the gateway) and what comes back from it.

The hand-over is an outbox row written with the first-review approval; the worker calls the
gateway with an idempotency key derived from that approval, so a retry after a crash or a
time-out can never file the order twice. State changes come back by signed callback and by
polling; both go through ``apply_status``, which is idempotent, so either alone is enough.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError
from beiandesk.domain.masking import scrub
from beiandesk.domain.model import ChangeOrder
from beiandesk.domain.states import ChangeState
from beiandesk.services import notify
from beiandesk.services.deps import Deps

log = logging.getLogger(__name__)
S = ChangeState


class Retry(Exception):
    """The gateway could not be reached: try again later (the outbox backs off)."""


def handover_payload(uow: Any, order: ChangeOrder) -> dict[str, Any]:
    """What the authority is given (the gateway's body; the desk's CSV export)."""
    subject = uow.subjects.get(order.subject_id)
    website = uow.websites.get(order.website_id)
    p = order.proposed.principal
    return {
        "order_type": "website_change",
        "province": subject.province,
        "filing_number": website.filing_number,
        "subject": {
            "kind": str(subject.kind),
            "name": subject.name,
            "filing_number": subject.filing_number,
        },
        "website": {
            "name": order.proposed.name,
            "domains": list(order.proposed.domains),
            "home_url": order.proposed.home_url,
            "content_categories": list(order.proposed.content_categories),
        },
        # Who verifies in a website change: each distinct website principal, once (research §(b) 21).
        "principals": [
            {"role": "website", "name": p.name, "id_number": p.id_number, "mobile": p.mobile}
        ],
    }


def _idempotency_key(order: ChangeOrder) -> str:
    passed = order.review_passed_at.isoformat() if order.review_passed_at else "none"
    return f"beiandesk-change-{order.id}-{passed}"


def handover(d: Deps, change_id: int, attempt: int) -> None:
    """Deliver a ``gateway_submit`` row: file the order with the authority."""
    with d.uow(readonly=True) as uow:
        order = uow.changes.get(change_id)
        if order is None or order.state != S.provider_review or order.review_passed_at is None:
            return  # withdrawn or already handed over: nothing to do
        payload = handover_payload(uow, order)
        key = _idempotency_key(order)
    if d.gateway is None:
        # The authority desk: staff hand the order over by hand; it waits on the desk (a row
        # queued while a gateway was configured must not retry forever).
        log.info("change %s waits on the authority desk (no gateway)", change_id)
        return
    payload["callback_url"] = d.settings.public_url.rstrip("/") + "/api/v1/authority/callback"
    try:
        ref = d.gateway.submit(payload, key)
    except Exception as exc:  # noqa: BLE001 - every failure is retried; the timeline says so
        _note_failure(d, change_id, attempt, exc)
        raise Retry(str(exc)) from exc
    status = _safe_status(d, ref)
    if record_accepted(d, change_id, ref, _deadline(status), {S.provider_review}):
        log.info("change %s handed to the authority as %s", change_id, ref)


def record_accepted(
    d: Deps,
    change_id: int,
    ref: str,
    sms_deadline: datetime | None,
    states: set[ChangeState],
    actor: str = "system",
) -> ChangeOrder | None:
    """The authority holds the order as ``ref``: the SMS window starts (gateway and desk alike).

    None when the order is no longer in one of ``states`` (withdrawn, or already handed over)."""
    now = d.clock.now()
    with d.uow() as uow:
        order = uow.changes.get(change_id, for_update=True)
        if order is None or order.state not in states:
            return None
        rules.authority_accepted(order, ref, sms_deadline, now, actor=actor)
        uow.changes.save(order)
        notify.order_event(d, uow, order, "authority_submitted", now)
        uow.commit()
    return order


def resend(d: Deps, change_id: int, attempt: int, key: str) -> None:
    """Deliver a ``gateway_resend`` row: the authority sends new SMS codes."""
    with d.uow(readonly=True) as uow:
        order = uow.changes.get(change_id)
    if order is None or order.state != S.authority_returned or not order.authority_ref:
        return
    try:
        if d.gateway is None:
            raise RuntimeError("未配置管局网关（BEIANDESK_GATEWAY_URL）")
        status = d.gateway.resend(order.authority_ref, idempotency_key=key)
    except Exception as exc:  # noqa: BLE001
        _note_failure(d, change_id, attempt, exc)
        raise Retry(str(exc)) from exc
    record_accepted(
        d, change_id, order.authority_ref or "", _deadline(status), {S.authority_returned}
    )


def _safe_status(d: Deps, ref: str) -> dict[str, Any]:
    try:
        return d.gateway.status(ref)
    except Exception:  # noqa: BLE001 - the deadline is informative; polling fills it in later
        return {}


def _deadline(status: dict[str, Any]) -> datetime | None:
    value = status.get("sms_deadline") if status else None
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _note_failure(d: Deps, change_id: int, attempt: int, exc: Exception) -> None:
    now = d.clock.now()
    with d.uow() as uow:
        order = uow.changes.get(change_id)
        if order is None:
            return
        detail = scrub(str(exc))[:160] or type(exc).__name__
        rules.event(
            order,
            "authority_retry",
            "system",
            f"提交管局暂时失败（第 {attempt} 次），系统将自动重试：{detail}",
            now,
        )
        uow.changes.save(order)
        uow.commit()


def apply_status(
    d: Deps,
    ref: str,
    state: str,
    reason: str | None,
    reasons: list[str],
    sms_deadline: str | None = None,
) -> bool:
    """Map an authority state onto the order with that ``ref``; True when something changed."""
    with d.uow() as uow:
        order = uow.changes.by_authority_ref(ref)
        if order is None:
            return False
        return _apply(d, uow, order, state, reason, reasons, sms_deadline, "authority")


def apply_to_change(
    d: Deps, change_id: int, state: str, reason: str | None, reasons: list[str], actor: str
) -> ChangeOrder | None:
    """The authority desk: what staff read in the authority's system, applied by change id.

    The same mapping, timeline, website update and notifications as a gateway's status; the
    order afterwards, or None when the order does not exist. Moves nothing when the state table
    does not allow it (the caller says 409)."""
    with d.uow() as uow:
        order = uow.changes.get(change_id, for_update=True)
        if order is None:
            return None
        _apply(d, uow, order, state, reason, reasons, None, actor)
        return order


def _apply(
    d: Deps,
    uow: Any,
    order: ChangeOrder,
    state: str,
    reason: str | None,
    reasons: list[str],
    sms_deadline: str | None,
    actor: str,
) -> bool:
    """Apply one authority state to a loaded order in ``uow``; commits when something changed."""
    now = d.clock.now()
    learned_deadline = bool(
        sms_deadline and order.state == S.authority_sms and order.sms_deadline is None
    )
    if learned_deadline:
        order.sms_deadline = _deadline({"sms_deadline": sms_deadline})
        order.version += 1
    moved = rules.authority_update(order, state, reason, reasons, now, actor=actor)
    if not (moved or learned_deadline):
        return False
    if order.state == S.approved and moved:
        website = uow.websites.get(order.website_id)
        uow.websites.replace(website, rules.apply_approval(website, order), order.id, now)
    uow.changes.save(order)
    if moved:
        kind = {
            S.approved: "approved",
            S.authority_rejected: "authority_rejected",
            S.authority_returned: "authority_returned",
        }.get(order.state)
        if kind:
            notify.order_event(
                d,
                uow,
                order,
                kind,
                now,
                reason_text=rules.AUTHORITY_REASONS.get(reason or "", "管局退回").split("，")[0],
            )
    uow.commit()
    return moved


def callback(d: Deps, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    if d.verify_callback is None or not d.verify_callback(body, timestamp, signature):
        raise DomainError("invalid_signature", "回调签名无效。", status=401)
    try:
        data = json.loads(body)
        ref, state = str(data["ref"]), str(data["state"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DomainError("invalid_request", "回调内容格式不正确。") from exc
    # The callback is a hint; the authority's own record is the truth (a replayed old callback
    # must not move an order backwards), so read the order back before applying it.
    try:
        status = d.gateway.status(ref)
    except Exception:  # noqa: BLE001 - polling will catch up
        status = {
            "state": state,
            "reason": data.get("reason"),
            "reasons": data.get("reasons") or [],
        }
    return apply_status(
        d,
        ref,
        status.get("state", state),
        status.get("reason"),
        list(status.get("reasons") or []),
        status.get("sms_deadline"),
    )


def poll(d: Deps) -> int:
    """Ask the authority about every order it holds; returns how many moved."""
    with d.uow(readonly=True) as uow:
        waiting = uow.changes.list(states={S.authority_sms, S.authority_review}, limit=1000)
    moved = 0
    for order in waiting:
        try:
            status = d.gateway.status(order.authority_ref or "")
        except Exception as exc:  # noqa: BLE001 - try again next round
            log.warning("polling %s failed: %s", order.authority_ref, type(exc).__name__)
            continue
        moved += apply_status(
            d,
            order.authority_ref or "",
            status.get("state", ""),
            status.get("reason"),
            list(status.get("reasons") or []),
            status.get("sms_deadline"),
        )
    return moved
