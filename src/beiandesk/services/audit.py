"""The audit log: every administrative act, who did it, on what, when.

Writers call :func:`record` inside the unit of work of the act itself, so the entry commits (or
rolls back) with it: an audit entry is never written for an act that did not happen, and no act
commits without its entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beiandesk.services.deps import Deps

#: The actor of acts done from the command line (no logged-in account).
CLI_ACTOR = "cli"


def record(
    uow: Any,
    *,
    actor: str,
    action: str,
    target: str,
    detail: dict | str | None = None,
    at: datetime | None = None,
) -> None:
    """Add one entry in ``uow``'s transaction (the caller commits). ``at`` defaults to now (UTC).

    ``detail`` is stored as JSON: a dict as is, a string as ``{"note": text}``. Never put
    unmasked personal data in it.
    """
    if at is None:
        at = datetime.now(UTC)
    if isinstance(detail, str):
        detail = {"note": detail}
    uow.audit.add(
        at=at, actor=actor or CLI_ACTOR, action=action, target=target or "", detail=detail
    )


def list_entries(
    d: Deps,
    limit: int = 100,
    *,
    before_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
) -> list[dict[str, Any]]:
    """The newest entries first: ``[{id, at, actor, action, target, detail}]``."""
    limit = max(1, min(int(limit), 1000))
    with d.uow(readonly=True) as uow:
        return uow.audit.list(
            limit=limit, before_id=before_id, action=action, actor=actor, target=target
        )
