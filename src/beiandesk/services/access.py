"""Who may see and change an order: the loaders every use case on a change order starts with.

Its own module so that ``changes`` (which runs the pre-check on submit) and ``precheck``
(which loads the order it checks) both depend on it rather than on each other.
"""

from __future__ import annotations

from typing import Any

from beiandesk.domain.errors import Forbidden, NotFound
from beiandesk.domain.model import Account, ChangeOrder


def load_visible(uow: Any, actor: Account, change_id: int) -> ChangeOrder:
    """An applicant sees only its own orders (others' are 404); staff see all."""
    order = uow.changes.get(change_id)
    if order is None or (not actor.is_staff and order.account_id != actor.id):
        raise NotFound("变更单")
    return order


def load_own(uow: Any, actor: Account, change_id: int) -> ChangeOrder:
    order = load_visible(uow, actor, change_id)
    if order.account_id != actor.id:
        raise Forbidden("只有提交该变更单的申请人可以修改它。")
    return order
