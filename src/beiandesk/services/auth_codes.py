"""Filing authorization codes (备案授权码): create, list, revoke (rules in domain/auth_codes.py).

A code is issued by one of the account's own servers — a server is the account's when one of
its filed websites is served from it — and points at that server's public IP.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from beiandesk.domain.auth_codes import check_code_creation
from beiandesk.domain.errors import DomainError, NotFound
from beiandesk.domain.model import Account, Resource
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import china_today

_ALPHABET = string.ascii_uppercase + string.digits


def _new_code() -> str:
    return "BA" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def _own_server(uow: Any, actor: Account, instance_id: str) -> Resource:
    for site in uow.websites.list(account_id=actor.id):
        if site.info.resource.instance_id == instance_id:
            return site.info.resource
    raise NotFound("服务器")


def create(d: Deps, actor: Account, instance_id: str, domain: str | None) -> dict[str, Any]:
    now = d.clock.now()
    with d.uow() as uow:
        server = _own_server(uow, actor, instance_id)
        problems = check_code_creation(
            enterprise_verified=actor.enterprise_verified,
            server=server,
            active_codes=uow.auth_codes.active_for_instance(instance_id),
            today=china_today(now),
        )
        errors = [p for p in problems if p.is_error]
        if errors:
            status = 403 if errors[0].code == "auth_code_requires_enterprise" else 422
            raise DomainError(errors[0].code, errors[0].message, problems=errors, status=status)
        code = _new_code()
        code_id = uow.auth_codes.add(code, actor.id, instance_id, server.public_ip, domain, now)
        uow.commit()
    return view(
        {
            "id": code_id,
            "code": code,
            "instance_id": instance_id,
            "public_ip": server.public_ip,
            "domain": domain,
            "created_at": now,
            "revoked_at": None,
        }
    )


def list_codes(d: Deps, actor: Account) -> list[dict[str, Any]]:
    with d.uow(readonly=True) as uow:
        return [view(c) for c in uow.auth_codes.list(None if actor.is_staff else actor.id)]


def revoke(d: Deps, actor: Account, code_id: int) -> dict[str, Any]:
    now = d.clock.now()
    with d.uow() as uow:
        code = uow.auth_codes.get(code_id)
        if code is None or (not actor.is_staff and code["account_id"] != actor.id):
            raise NotFound("授权码")
        if code["revoked_at"] is None:
            uow.auth_codes.revoke(code_id, now)
            code["revoked_at"] = now
        uow.commit()
    return view(code)


def view(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["id"],
        "code": c["code"],
        "instance_id": c["instance_id"],
        "public_ip": c["public_ip"],
        "domain": c.get("domain"),
        "status": "revoked" if c.get("revoked_at") else "active",
        "created_at": c["created_at"].isoformat(),
        "revoked_at": c["revoked_at"].isoformat() if c.get("revoked_at") else None,
    }
