"""The worker's use cases: deliver outbox rows, poll the authority, remind reviewers.

The job runner (huey) only carries "deliver row N" messages and a periodic tick; the rows in
our own table are the truth, so a lost queue message delays a delivery but never loses it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta

from beiandesk.domain.states import ChangeState
from beiandesk.services import authority, delivery, notify
from beiandesk.services.deps import Deps

log = logging.getLogger(__name__)

#: A claim whose worker has not beaten for this long belongs to a dead worker and is taken over
#: (api.md "Several nodes": within 60 s). Workers beat every HEARTBEAT_S.
DEAD_AFTER = timedelta(seconds=45)
HEARTBEAT_S = 5.0
#: Back-off between delivery attempts: 5 s, 15 s, 45 s, … capped at 15 minutes (first retry ≤ 30 s).
BACKOFF_BASE_S, BACKOFF_FACTOR, BACKOFF_CAP_S = 5.0, 3.0, 900.0
#: Kept for callers that imported it; channels now carry their own ``max_attempts``.
MAX_NOTIFY_ATTEMPTS = 12

HOST = socket.gethostname()[:40]
#: host:pid:nonce — the nonce tells this process from an earlier one that had the same pid.
WORKER_ID = f"{HOST}:{os.getpid()}:{secrets.token_hex(3)}"
STARTED_AT = None


def backoff(attempt: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_CAP_S, BACKOFF_BASE_S * BACKOFF_FACTOR ** max(0, attempt - 1))
    )


def _record(d: Deps, item_id: int, worker: str, mark: str, *args: object) -> None:
    """Write the outcome; if a takeover already marked the row 待确认, the real outcome wins."""
    with d.uow() as uow:
        ok = getattr(uow.outbox, mark)(item_id, *args, worker=worker)
        if not ok and uow.outbox.reopen_uncertain(item_id, worker):
            ok = getattr(uow.outbox, mark)(item_id, *args, worker=worker)
        if not ok:
            log.warning(
                "outbox %s: outcome %s not recorded (the row was taken over)", item_id, mark
            )
        uow.commit()


def deliver(d: Deps, item_id: int, worker: str | None = None) -> str:
    """Claim one outbox row, deliver it through its channel, record the outcome. Returns the status."""
    worker = worker or WORKER_ID
    now = d.clock.now()
    with d.uow() as uow:
        if not uow.outbox.claim(item_id, worker, now):
            return "skipped"
        uow.commit()
    with d.uow(readonly=True) as uow:
        item = uow.outbox.get(item_id)
    ch = delivery.channel(item.kind)
    if ch is None:
        _record(d, item_id, worker, "mark_failed", f"未知的通知类型：{item.kind}", d.clock.now())
        return "failed"
    if ch.keeps_only(d):
        _record(d, item_id, worker, "mark_kept", d.clock.now())
        return "kept"
    try:
        answer = ch.send(d, item)
    except delivery.Permanent as exc:
        _record(d, item_id, worker, "mark_failed", exc.reason, d.clock.now(), exc.answer)
        log.warning("outbox %s (%s) failed for good: %s", item_id, item.kind, exc.reason)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - any other failure is transient: retried or recorded, never lost
        reason = (
            exc.reason if isinstance(exc, delivery.Transient) else f"{type(exc).__name__}: {exc}"
        )
        answer = exc.answer if isinstance(exc, delivery.Transient) else None
        if ch.max_attempts is not None and item.attempts >= ch.max_attempts:
            _record(
                d,
                item_id,
                worker,
                "mark_failed",
                f"已重试 {item.attempts} 次仍失败：{reason}",
                d.clock.now(),
                answer,
            )
            status = "failed"
        else:
            _record(
                d,
                item_id,
                worker,
                "mark_retry",
                reason,
                d.clock.now() + backoff(item.attempts),
                answer,
            )
            status = "pending"
        log.warning(
            "outbox %s (%s) attempt %s failed: %s",
            item_id,
            item.kind,
            item.attempts,
            type(exc).__name__,
        )
        return status
    _record(
        d, item_id, worker, "mark_sent", d.clock.now(), answer if isinstance(answer, dict) else None
    )
    return "sent"


def due_outbox(d: Deps, limit: int = 100) -> list[int]:
    with d.uow(readonly=True) as uow:
        return uow.outbox.due_ids(d.clock.now(), limit)


def heartbeat(d: Deps, worker: str | None = None) -> None:
    global STARTED_AT
    now = d.clock.now()
    STARTED_AT = STARTED_AT or now
    with d.uow() as uow:
        uow.outbox.heartbeat(worker or WORKER_ID, HOST, os.getpid(), STARTED_AT, now)
        uow.outbox.forget_workers(now - timedelta(days=1))
        uow.commit()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: a process we may not signal exists
        return True
    return True


def _dead_at_start(claimant: str | None) -> bool:
    """A claim by an earlier process on this host that is no longer running (or had our pid)."""
    host, _, rest = (claimant or "").partition(":")
    pid_s, _, _nonce = rest.partition(":")
    if host != HOST or not pid_s.isdigit() or claimant == WORKER_ID:
        return False
    pid = int(pid_s)
    return pid == os.getpid() or not _pid_alive(pid)


def reclaim(d: Deps, *, at_start: bool = False) -> dict[str, int]:
    """Hand the claims of dead workers to their channels' rule: deliver again, or 待确认.

    Dead: the claimant has not beaten for ``DEAD_AFTER`` (or never beat and claimed the row that
    long ago); at start-up also every claim by an earlier process on this host that is gone.
    """
    now = d.clock.now()
    moved = {"pending": 0, "uncertain": 0}
    with d.uow(readonly=True) as uow:
        claims = uow.outbox.claims()
    for c in claims:
        if c.claimed_by == WORKER_ID:
            continue
        last = c.beat_at or c.claimed_at
        dead = (
            last is None or last < now - DEAD_AFTER or (at_start and _dead_at_start(c.claimed_by))
        )
        if not dead:
            continue
        ch = delivery.channel(c.kind)
        to = "uncertain" if ch is not None and ch.on_dead_claim == "uncertain" else "pending"
        why = (
            "发送过程中处理进程中断，无法确定短信是否已发出：请核对后选择重新发送或标记为已发送"
            if to == "uncertain"
            else "处理进程中断，已重新排队发送"
        )
        with d.uow() as uow:
            if uow.outbox.release(c.id, c.claimed_by, to, why, now):
                moved[to] += 1
            uow.commit()
    if any(moved.values()):
        log.warning("outbox: took over dead claims: %s", moved)
    return moved


def remind(d: Deps) -> int:
    """Remind reviewers once when a retry call falls due or first review is overdue."""
    now = d.clock.now()
    sent = 0
    with d.uow(readonly=True) as uow:
        waiting = uow.changes.list(
            states={ChangeState.provider_review}, review_pending_only=True, limit=1000
        )
    for order in waiting:
        due_call = order.next_call_at is not None and order.next_call_at <= now
        overdue = order.due_at is not None and order.due_at <= now
        if not (due_call or overdue):
            continue
        with d.uow() as uow:
            fresh = uow.changes.get(order.id, for_update=True)
            events = uow.changes.events(order.id)
            since = max(
                (e.at for e in events if e.kind in ("call", "submitted")), default=fresh.created_at
            )
            kinds = {e.kind for e in events if e.at >= since}
            from beiandesk.domain.change import event

            changed = False
            if due_call and "call_reminder" not in kinds:
                event(
                    fresh,
                    "call_reminder",
                    "system",
                    "应再次致电申请人（上次未接通已满约 1 小时）",
                    now,
                )
                notify.reviewer_reminder(
                    d, uow, fresh, f"变更单 #{fresh.id} 需要再次致电申请人", now
                )
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
        started = max(
            (e.at for e in _events(d, order.id) if e.kind == "authority_submitted"), default=None
        )
        if started is None or started >= order.sms_deadline:
            continue
        if now < order.sms_deadline - (order.sms_deadline - started) * SMS_REMINDER_SHARE:
            continue
        with d.uow() as uow:
            fresh = uow.changes.get(order.id, for_update=True)
            if fresh.state != ChangeState.authority_sms or any(
                e.kind == "sms_reminder" and e.at >= started for e in uow.changes.events(order.id)
            ):
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
    reclaim(d)
    due = due_outbox(d)
    for item_id in due:
        enqueue(item_id)
    moved = authority.poll(d) if d.gateway is not None else 0
    from beiandesk.services import desk

    desk_reminded = desk.remind_expired(d)  # the authority desk: no gateway returns a lapsed order
    from beiandesk.services import reminders

    daily = reminders.daily(d)
    return {
        "due": len(due),
        "moved": moved,
        "reminded": remind(d) + remind_sms(d) + desk_reminded,
        **daily,
    }
