"""Reveal a principal's full ID number to a reviewer comparing it with the uploaded ID card.

ID numbers are masked everywhere else (responses, logs, exports); each look is written to the
audit log (who, which order, which fields) and to the order's timeline, never the number itself.
"""

from __future__ import annotations

from typing import Any

from beiandesk.domain import claims as claim_rules
from beiandesk.domain.change import event
from beiandesk.domain.errors import DomainError, Forbidden, NotFound
from beiandesk.domain.model import Account, Role
from beiandesk.services import audit
from beiandesk.services.deps import Deps


def reveal_identity(d: Deps, actor: Account, change_id: int) -> dict[str, Any]:
    if not actor.is_staff:
        raise Forbidden("只有审核专员和管理员可以查看完整证件号码。")
    now = d.clock.now()
    with d.uow() as uow:
        order = uow.changes.get(change_id, for_update=True)
        if order is None:
            raise NotFound("变更单")
        subject = uow.subjects.get(order.subject_id)
        if subject is None:
            raise NotFound("主体")
        # Only while staff work on the order (first review, or returned by the authority): a
        # draft, a closed or an approved order has nothing to compare.
        from beiandesk.services.claims import CLAIMABLE
        if order.state not in CLAIMABLE:
            raise DomainError("not_in_review", "只有在初审中或被管局退回的变更单才能查看完整证件号码。", status=409)
        # A look is part of working on the order: it follows the claim like a call or a decision.
        live = claim_rules.holder(uow.claims.get(order.id), now)
        if live is not None and live.account_id != actor.id and actor.role != Role.admin:
            raise claim_rules.ClaimedByOther(live)
        p = order.proposed.principal
        event(
            order,
            "identity_viewed",
            actor.username,
            "审核专员查看了完整证件号码（用于与证件照片核对）",
            now,
        )
        uow.changes.save(order)
        audit.record(
            uow,
            actor=actor.username,
            action="personal_data.reveal",
            target=f"change:{change_id}",
            detail={
                "fields": [
                    "subject.id_number",
                    "subject.principal.id_number",
                    "website.principal.id_number",
                ],
                "purpose": "与证件照片核对",
            },
            at=now,
        )
        uow.commit()
    return {
        "subject": {
            "name": subject.name,
            "id_type": subject.id_type,
            "id_number": subject.id_number,
        },
        "subject_principal": {
            "name": subject.principal.name,
            "id_type": subject.principal.id_type,
            "id_number": subject.principal.id_number,
        },
        "website_principal": {"name": p.name, "id_type": p.id_type, "id_number": p.id_number},
    }
