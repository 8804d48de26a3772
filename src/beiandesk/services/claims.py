"""Claim and release an order for first review; review actions claim it too (domain/claims.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beiandesk.domain import claims as rules
from beiandesk.domain.change import event
from beiandesk.domain.errors import DomainError, Forbidden, NotFound
from beiandesk.domain.model import Account, ChangeOrder
from beiandesk.domain.states import ChangeState
from beiandesk.services.deps import Deps

#: Orders a reviewer can work on (first review, and a returned order to re-send).
CLAIMABLE = {ChangeState.provider_review, ChangeState.authority_returned}


def _staff(actor: Account) -> None:
    if not actor.is_staff:
        raise Forbidden("只有审核专员和管理员可以认领变更单。")


def touch(uow: Any, order: ChangeOrder, actor: Account, now: datetime) -> rules.Claim:
    """Inside a review action's transaction (the order row locked): claim or refresh, or refuse."""
    current = uow.claims.get(order.id)
    new = rules.take(current, actor, order.id, now)
    live = rules.holder(current, now)
    if live is not None and live.account_id != actor.id:  # an admin taking over
        event(order, "claim", actor.username, f"管理员接手了 {live.username} 认领的变更单", now)
    uow.claims.put(new)
    return new


def done(uow: Any, order: ChangeOrder) -> None:
    """The order left first review: nobody holds it any more."""
    uow.claims.drop(order.id)


def _locked(uow: Any, change_id: int) -> ChangeOrder:
    order = uow.changes.get(change_id, for_update=True)
    if order is None:
        raise NotFound("变更单")
    return order


def claim(d: Deps, actor: Account, change_id: int) -> dict[str, Any]:
    _staff(actor)
    now = d.clock.now()
    with d.uow() as uow:
        order = _locked(uow, change_id)
        if order.state not in CLAIMABLE:
            raise DomainError("not_in_review", "该变更单不在初审或退回状态，无需认领。", status=409)
        before = rules.holder(uow.claims.get(order.id), d.clock.now())
        c = touch(uow, order, actor, now)
        if before is None or before.account_id != actor.id:
            event(order, "claim", actor.username, "审核专员认领了变更单", now)
            uow.changes.save(order)
        uow.commit()
    return view(c, now)


def release(d: Deps, actor: Account, change_id: int) -> dict[str, Any]:
    _staff(actor)
    now = d.clock.now()
    with d.uow() as uow:
        order = _locked(uow, change_id)
        current = uow.claims.get(order.id)
        rules.may_release(current, actor, now)
        if rules.holder(current, now) is not None:
            event(order, "release", actor.username, "审核专员释放了变更单", now)
            uow.changes.save(order)
        uow.claims.drop(order.id)
        uow.commit()
    return {"change_id": change_id, "claimed_by": None}


def holders(d: Deps, change_ids: list[int]) -> dict[int, rules.Claim]:
    """Live claims of these orders (stale ones are left out)."""
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        found = uow.claims.of(change_ids)
    return {k: c for k, c in found.items() if c.live(now)}


def view(c: rules.Claim | None, now: datetime) -> dict[str, Any]:
    live = rules.holder(c, now)
    if live is None:
        return {"claimed_by": None}
    return {
        "change_id": live.change_id,
        "claimed_by": live.username,
        "claimed_at": live.claimed_at.isoformat(),
        "stale_at": (live.active_at + rules.STALE_AFTER).isoformat(),
    }
