"""Ask the provider's resource inventory about the applicant's resource (pre-check).

The inventory (``ports.ResourceInventory``; ``INVENTORY_URL``, the sandbox in demo mode) knows
an instance's region, public IP, billing and dates; ``domain.inventory.reconcile`` compares them
with what the applicant typed. Without an inventory the applicant's facts stand, as before.
"""

from __future__ import annotations

import logging
from datetime import date

from beiandesk.domain import inventory as rules
from beiandesk.domain.model import Resource
from beiandesk.domain.problems import Problem
from beiandesk.services.deps import Deps
from beiandesk.services.ports import InstanceFacts, InventoryUnavailable

log = logging.getLogger(__name__)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def as_resource(facts: InstanceFacts) -> Resource:
    return Resource(
        kind=facts.kind,
        region=facts.region,
        public_ip=facts.public_ip,
        billing=facts.billing,
        purchased_at=_date(facts.purchased_at),
        expires_at=_date(facts.expires_at),
        instance_id=facts.instance_id,
    )


def reconcile(d: Deps, resource: Resource | None) -> tuple[Resource | None, list[Problem]]:
    """The resource the pre-check should judge (the inventory's when it answered) and what differs."""
    asked = rules.lookup_key(resource) if d.inventory is not None else None
    if asked is None:
        return resource, []
    by, key = asked
    try:
        facts = (
            d.inventory.by_instance_id(key)
            if by == "instance_id"
            else d.inventory.by_public_ip(key)
        )
    except InventoryUnavailable as exc:
        log.warning("resource inventory unavailable: %s", exc)
        return rules.reconcile(resource, None, asked, unavailable=True)
    return rules.reconcile(resource, as_resource(facts) if facts else None, asked)
