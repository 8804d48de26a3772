"""Webhooks for integrators: subscriptions (admin), delivery through the outbox, the delivery log.

Each change-order timeline event of a subscribed kind is queued to the outbox in the event's own
transaction (``adapters.db.webhooks.fan_out``); the worker delivers the row here: the body is
signed with the webhook's secret (``beiandesk.signing``: ``X-Beiandesk-Signature: t=UNIX,v1=HEX``)
and POSTed through the address guard. A 2xx answer is delivered; anything else is retried with
the outbox's back-off (first retry within 30 s) and every attempt is written to the delivery log.
"""

from __future__ import annotations

import logging
from typing import Any

from beiandesk import signing
from beiandesk.domain import webhooks as rules
from beiandesk.domain.errors import DomainError, NotFound
from beiandesk.domain.model import Account
from beiandesk.services import audit, auth
from beiandesk.services.delivery import Channel, Permanent, Transient, register
from beiandesk.services.deps import Deps

log = logging.getLogger(__name__)

#: Give up (发送失败, with an admin retry button) after this many attempts: with the outbox's
#: back-off (5 s, 15 s, 45 s … capped at 15 min) that is about two hours of retries.
MAX_ATTEMPTS = 12
USER_AGENT = "beiandesk-webhooks/1"


def _sender(d: Deps) -> Any:
    if d.webhook_sender is None:
        raise DomainError("webhooks_unavailable", "本服务未配置网络钩子发送组件。", status=503)
    return d.webhook_sender


def create(d: Deps, actor: Account, url: str, secret: str, events: list[str]) -> dict[str, Any]:
    auth.require_admin(actor)
    url = rules.check_url(url)
    secret = rules.check_secret(secret)
    kinds = rules.check_events(events)
    refused = _sender(d).check_url(url)
    if refused:
        raise DomainError("webhook_url_forbidden", refused)
    now = d.clock.now()
    with d.uow() as uow:
        hook = uow.webhooks.add(url, secret, kinds, actor.username, now)
        audit.record(
            uow,
            actor=actor.username,
            action="webhook.create",
            target=f"webhook:{hook.id}",
            detail={"url": url, "events": kinds},
            at=now,
        )
        uow.commit()
    return hook.public()


def list_all(d: Deps, actor: Account) -> list[dict[str, Any]]:
    auth.require_admin(actor)
    with d.uow(readonly=True) as uow:
        return [h.public() for h in uow.webhooks.list()]


def get(d: Deps, actor: Account, webhook_id: int) -> dict[str, Any]:
    auth.require_admin(actor)
    with d.uow(readonly=True) as uow:
        hook = uow.webhooks.get(webhook_id)
    if hook is None:
        raise NotFound("网络钩子")
    return hook.public()


def delete(d: Deps, actor: Account, webhook_id: int) -> None:
    auth.require_admin(actor)
    now = d.clock.now()
    with d.uow() as uow:
        if not uow.webhooks.delete(webhook_id, now):
            raise NotFound("网络钩子")
        audit.record(
            uow,
            actor=actor.username,
            action="webhook.delete",
            target=f"webhook:{webhook_id}",
            at=now,
        )
        uow.commit()


def deliveries(d: Deps, actor: Account, webhook_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """The delivery log, newest first: one entry per attempt (status, time, attempt number)."""
    get(d, actor, webhook_id)
    with d.uow(readonly=True) as uow:
        return uow.webhooks.deliveries(webhook_id, limit)


# -- the outbox channel ----------------------------------------------------------------------
def _send(d: Deps, item: Any) -> dict[str, Any] | None:
    """Deliver one ``webhook`` outbox row (one attempt)."""
    p = item.payload
    with d.uow(readonly=True) as uow:
        hook = uow.webhooks.get(int(p["webhook_id"]), with_secret=True)
    if hook is None:
        raise Permanent("网络钩子已删除，不再投递")
    body = p["body"].encode("utf-8")
    now = d.clock.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.signature_header(
            body, hook.secret.encode("utf-8"), int(now.timestamp())
        ),
        "X-Beiandesk-Event": p.get("kind", ""),
        "X-Beiandesk-Delivery": str(item.id),
    }
    result = _sender(d).post(hook.url, body, headers)
    ok = result.status_code is not None and 200 <= result.status_code < 300
    with d.uow() as uow:
        uow.webhooks.add_delivery(
            webhook_id=hook.id,
            outbox_id=item.id,
            event_id=p["event_id"],
            kind=p.get("kind", ""),
            change_id=item.change_id,
            attempt=item.attempts,
            status_code=result.status_code,
            ok=ok,
            error=None if ok else (result.error or f"HTTP {result.status_code}"),
            duration_ms=result.duration_ms,
            at=d.clock.now(),
        )
        uow.commit()
    answer = {"status_code": result.status_code, "duration_ms": result.duration_ms}
    if ok:
        return answer
    reason = result.error or f"接收方返回 HTTP {result.status_code}"
    log.info(
        "webhook %s attempt %s for %s: %s",
        hook.id,
        item.attempts,
        p["event_id"],
        result.status_code or "no answer",
    )
    raise Transient(reason, answer=answer)


register("webhook", Channel(send=_send, on_dead_claim="retry", max_attempts=MAX_ATTEMPTS))
