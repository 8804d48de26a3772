"""Who works on an order: reviewer claims (api.md "Flow rules made precise").

Two reviewers must not phone the same applicant: the reviewer who claims an order (or acts on
an unclaimed one — call, approve, reject) holds it; another reviewer's claim or action is
refused with ``claimed_by_other`` until the holder releases it or it goes stale
(``STALE_AFTER``: 30 minutes without action). Admins may act anyway; the claim passes to them.
Pure: the service passes the claim it read and ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from beiandesk.domain.errors import DomainError
from beiandesk.domain.model import Account, Role

STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Claim:
    change_id: int
    account_id: int
    username: str
    claimed_at: datetime
    active_at: datetime

    def live(self, now: datetime) -> bool:
        return now - self.active_at < STALE_AFTER


class ClaimedByOther(DomainError):
    status = 409

    def __init__(self, claim: Claim) -> None:
        super().__init__(
            "claimed_by_other",
            f"该变更单正由审核专员 {claim.username} 处理，请选择其他变更单；"
            f"对方释放或 30 分钟无操作后可认领。",
        )
        self.extra = {"claimed_by": claim.username}


def holder(claim: Claim | None, now: datetime) -> Claim | None:
    """The live claim, if any (a stale one counts as none)."""
    return claim if claim is not None and claim.live(now) else None


def take(claim: Claim | None, actor: Account, change_id: int, now: datetime) -> Claim:
    """The claim after ``actor`` claims or acts on the order; raises when another holds it."""
    live = holder(claim, now)
    if live is not None and live.account_id != actor.id and actor.role != Role.admin:
        raise ClaimedByOther(live)
    if live is not None and live.account_id == actor.id:
        return Claim(change_id, actor.id, actor.username, live.claimed_at, now)
    return Claim(change_id, actor.id, actor.username, now, now)


def may_release(claim: Claim | None, actor: Account, now: datetime) -> bool:
    live = holder(claim, now)
    if live is None:
        return True
    if live.account_id != actor.id and actor.role != Role.admin:
        raise ClaimedByOther(live)
    return True
