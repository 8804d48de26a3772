"""The worker's use cases: deliver outbox rows, poll the authority, remind reviewers.

The job runner (huey) only carries "deliver row N" messages and a periodic tick; the rows in
our own table are the truth, so a lost queue message delays a delivery but never loses it.
"""

from __future__ import annotations

import logging
import socket
import os
from datetime import timedelta

from beiandesk.domain.states import ChangeState
from beiandesk.services import authority, notify
from beiandesk.services.deps import Deps

log = logging.getLogger(__name__)

#: A claim older than this belongs to a worker that died mid-delivery and is taken over.
STALE_CLAIM = timedelta(minutes=5)
#: Back-off between delivery attempts: 5 s, 15 s, 45 s, … capped at 15 minutes.
BACKOFF_BASE_S, BACKOFF_FACTOR, BACKOFF_CAP_S = 5.0, 3.0, 900.0
#: Notifications give up after this many attempts (gateway calls never give up).
MAX_NOTIFY_ATTEMPTS = 12

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * BACKOFF_FACTOR ** max(0, attempt - 1)))


def deliver(d: Deps, item_id: int) -> str:
    """Claim and deliver one outbox row. Returns its status afterwards."""
    now = d.clock.now()
    with d.uow() as uow:
        if not uow.outbox.claim(item_id, WORKER_ID, now, STALE_CLAIM):
            return "skipped"
        uow.commit()
    with d.uow(readonly=True) as uow:
        item = uow.outbox.get(item_id)
    try:
        if item.kind == "email":
            d.mailer.send(item.payload["to"], item.payload["subject"], item.payload["text"], item.payload.get("html"))
        elif item.kind == "sms":
            d.sms.send(item.payload["to"], item.payload["text"])
        elif item.kind == "gateway_submit":
            authority.handover(d, item.payload["change_id"], item.attempts)
        elif item.kind == "gateway_resend":
            authority.resend(d, item.payload["change_id"], item.attempts, f"beiandesk-resend-{item.id}")
        else:
            raise ValueError(f"unknown outbox kind {item.kind}")
    except Exception as exc:  # noqa: BLE001 - any failure is retried or recorded, never lost
        error = f"{type(exc).__name__}: {exc}"
        with d.uow() as uow:
            if item.kind in ("email", "sms") and item.attempts >= MAX_NOTIFY_ATTEMPTS:
                uow.outbox.mark_failed(item_id, error, d.clock.now())
                status = "failed"
            else:
                uow.outbox.mark_retry(item_id, error, d.clock.now() + backoff(item.attempts))
                status = "pending"
            uow.commit()
        log.warning("outbox %s (%s) attempt %s failed: %s", item_id, item.kind, item.attempts, type(exc).__name__)
        return status
    with d.uow() as uow:
        uow.outbox.mark_sent(item_id, d.clock.now())
        uow.commit()
    return "sent"


def due_outbox(d: Deps, limit: int = 100) -> list[int]:
    with d.uow(readonly=True) as uow:
        return uow.outbox.due_ids(d.clock.now(), STALE_CLAIM, limit)


def remind(d: Deps) -> int:
    """Remind reviewers once when a retry call falls due or first review is overdue."""
    now = d.clock.now()
    sent = 0
    with d.uow(readonly=True) as uow:
        waiting = uow.changes.list(states={ChangeState.provider_review}, review_pending_only=True, limit=1000)
    for order in waiting:
        due_call = order.next_call_at is not None and order.next_call_at <= now
        overdue = order.due_at is not None and order.due_at <= now
        if not (due_call or overdue):
            continue
        with d.uow() as uow:
            fresh = uow.changes.get(order.id, for_update=True)
            events = uow.changes.events(order.id)
            since = max((e.at for e in events if e.kind in ("call", "submitted")), default=fresh.created_at)
            kinds = {e.kind for e in events if e.at >= since}
            from beiandesk.domain.change import event
            changed = False
            if due_call and "call_reminder" not in kinds:
                event(fresh, "call_reminder", "system", "应再次致电申请人（上次未接通已满约 1 小时）", now)
                notify.reviewer_reminder(d, uow, fresh, f"变更单 #{fresh.id} 需要再次致电申请人", now)
                changed = True
            if overdue and "overdue" not in {e.kind for e in events}:
                event(fresh, "overdue", "system", "初审已超过 2 个工作日时限", now)
                notify.reviewer_reminder(d, uow, fresh, f"变更单 #{fresh.id} 初审已超时", now)
                changed = True
            if changed:
                uow.changes.save(fresh)
                uow.commit()
                sent += 1
    return sent


#: The principal is reminded once when this share of the SMS window is left (24 h → 6 h).
SMS_REMINDER_SHARE = 0.25


def remind_sms(d: Deps) -> int:
    """Remind the website principal once, by SMS and e-mail, before the MIIT window closes."""
    now = d.clock.now()
    sent = 0
    with d.uow(readonly=True) as uow:
        waiting = uow.changes.list(states={ChangeState.authority_sms}, limit=1000)
    for order in waiting:
        if order.sms_deadline is None or order.sms_deadline <= now:
            continue
        started = max((e.at for e in _events(d, order.id) if e.kind == "authority_submitted"), default=None)
        if started is None or started >= order.sms_deadline:
            continue
        if now < order.sms_deadline - (order.sms_deadline - started) * SMS_REMINDER_SHARE:
            continue
        with d.uow() as uow:
            fresh = uow.changes.get(order.id, for_update=True)
            if fresh.state != ChangeState.authority_sms or any(
                    e.kind == "sms_reminder" and e.at >= started for e in uow.changes.events(order.id)):
                continue
            from beiandesk.domain.change import event
            event(fresh, "sms_reminder", "system", "已提醒网站负责人尽快完成工信部短信核验", now)
            uow.changes.save(fresh)
            notify.order_event(d, uow, fresh, "sms_reminder", now)
            uow.commit()
            sent += 1
    return sent


def _events(d: Deps, change_id: int) -> list:
    with d.uow(readonly=True) as uow:
        return uow.changes.events(change_id)


def tick(d: Deps, enqueue) -> dict[str, int]:  # noqa: ANN001
    """One round of the worker's periodic duties."""
    due = due_outbox(d)
    for item_id in due:
        enqueue(item_id)
    moved = authority.poll(d) if d.gateway is not None else 0
    return {"due": len(due), "moved": moved, "reminded": remind(d) + remind_sms(d)}
