"""The provider's first review (初审): queue, calls, approve, reject, resend to the authority."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, NotFound
from beiandesk.domain.model import Account, ChangeOrder, Reason
from beiandesk.domain.states import LABELS, ChangeState
from beiandesk.services import claims, notify
from beiandesk.services.deps import Deps

S = ChangeState


def queue(d: Deps, actor: Account, limit: int = 200) -> list[ChangeOrder]:
    """Orders waiting for first review, earliest working-day deadline first; then returned ones."""
    with d.uow(readonly=True) as uow:
        waiting = uow.changes.list(
            states={S.provider_review}, order_by_due=True, limit=limit, review_pending_only=True
        )
        returned = uow.changes.list(states={S.authority_returned}, order_by_due=True, limit=limit)
    return waiting + returned


def _load(uow: Any, change_id: int) -> ChangeOrder:
    order = uow.changes.get(change_id, for_update=True)
    if order is None:
        raise NotFound("变更单")
    return order


@contextmanager
def _as_seen(uow: Any, order: ChangeOrder, actor: Account) -> Iterator[None]:
    """A refusal because the order moved under the reviewer (another reviewer, the applicant or
    the authority acted first) says who moved it, instead of a bare state message."""
    try:
        yield
    except DomainError as exc:
        if exc.code not in rules.STALE_CODES:
            raise
        raise rules.moved_under(order, uow.changes.events(order.id), actor.username, exc) from None


def log_call(d: Deps, actor: Account, change_id: int, outcome: str, note: str) -> ChangeOrder:
    now = d.clock.now()
    with d.uow() as uow:
        order = _load(uow, change_id)
        before = order.state
        with _as_seen(uow, order, actor):
            claims.touch(uow, order, actor, now)
            rules.record_call(
                order,
                outcome,
                note,
                actor.username,
                now,
                retry_after=timedelta(seconds=d.settings.call_retry_s),
            )
        uow.changes.save(order)
        if before != order.state:  # second miss: rejected as unreachable
            notify.order_event(d, uow, order, "provider_rejected", now)
        uow.commit()
    return order


def approve(d: Deps, actor: Account, change_id: int, note: str) -> ChangeOrder:
    """Pass first review and queue the hand-over to the authority in the same transaction."""
    now = d.clock.now()
    with d.uow() as uow:
        order = _load(uow, change_id)
        with _as_seen(uow, order, actor):
            claims.touch(uow, order, actor, now)
            rules.approve_first_review(order, note, actor.username, now)
        claims.done(uow, order)
        uow.changes.save(order)
        notify.order_event(d, uow, order, "provider_approved", now)
        _queue_gateway(d, uow, order, "gateway_submit", now)
        uow.commit()
    return order


def reject(d: Deps, actor: Account, change_id: int, reasons: list[dict[str, str]]) -> ChangeOrder:
    now = d.clock.now()
    with d.uow() as uow:
        order = _load(uow, change_id)
        with _as_seen(uow, order, actor):
            claims.touch(uow, order, actor, now)
            rules.reject(
                order, [Reason(r["code"], r["message"]) for r in reasons], actor.username, now
            )
        claims.done(uow, order)
        uow.changes.save(order)
        notify.order_event(d, uow, order, "provider_rejected", now)
        uow.commit()
    return order


def resend(d: Deps, actor: Account, change_id: int) -> ChangeOrder:
    """Re-send an order the authority returned (SMS time-out or failure): new codes are sent."""
    now = d.clock.now()
    with d.uow() as uow:
        order = _load(uow, change_id)
        with _as_seen(uow, order, actor):
            if order.state != S.authority_returned:
                raise DomainError(
                    "not_returned",
                    f"只有被退回的订单可以重新提交管局（当前：{LABELS[order.state]}）。",
                    status=409,
                )
        if d.gateway is None:
            raise DomainError(
                "use_desk",
                "未配置管局网关：请在管局系统中重新提交该订单，再到管局工作台登记「已重新提交管局」。",
                status=409,
            )
        if any(
            i.status in ("pending", "sending")
            for i in uow.outbox.list(kind="gateway_resend", change_id=order.id)
        ):
            raise DomainError("resend_in_progress", "已在重新提交管局，请稍候。", status=409)
        rules.event(
            order,
            "resend_requested",
            actor.username,
            "审核专员重新提交管局（将重新发送短信核验码）",
            now,
        )
        order.version += 1
        order.updated_at = now
        uow.changes.save(order)
        _queue_gateway(d, uow, order, "gateway_resend", now)
        uow.commit()
    return order


def reveal_contact(d: Deps, actor: Account, change_id: int) -> dict[str, str]:
    """The full mobile of the person to call, for the reviewer who phones them.

    Mobiles are masked everywhere else; revealing one is recorded on the timeline (who, when),
    so every look at personal data leaves a trace.
    """
    now = d.clock.now()
    with d.uow() as uow:
        order = _load(uow, change_id)
        p = order.proposed.principal
        rules.event(
            order,
            "contact_viewed",
            actor.username,
            "审核专员查看了联系人完整手机号（用于电话核实）",
            now,
        )
        uow.changes.save(order)
        uow.commit()
    return {"name": p.name, "mobile": p.mobile, "email": p.email}


def _queue_gateway(d: Deps, uow: Any, order: ChangeOrder, kind: str, now: Any) -> None:
    if d.gateway is None:
        return  # the authority desk: staff hand the order over and record it (services.desk)
    item_id = uow.outbox.add(
        kind,
        {"change_id": order.id},
        now,
        change_id=order.id,
        subject="提交管局" if kind == "gateway_submit" else "重新提交管局",
    )
    uow.after_commit(lambda: d.wake([item_id]))


def outbox(d: Deps, actor: Account, kind: str | None, status: str | None) -> dict[str, Any]:
    with d.uow(readonly=True) as uow:
        items = uow.outbox.list(kind=kind, status=status)
        counts = uow.outbox.counts()
    from beiandesk.services import outbox_admin

    return {
        "items": [i.public() for i in items],
        "counts": counts,
        "labels": dict(outbox_admin.LABELS),
        "channels": outbox_admin.channels(d),
    }


def stats(d: Deps) -> dict[str, dict[str, int]]:
    """Operator figures: change orders by state and outbox rows by status."""
    with d.uow(readonly=True) as uow:
        return {"changes": uow.changes.count_by_state(), "outbox": uow.outbox.counts()}
