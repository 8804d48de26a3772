"""The admin's outbox: what each row's state means, and resolving failed or 待确认 rows on purpose.

``retry`` puts a 发送失败 or 待确认 row back in the queue (the admin decided the message should
go out again); ``mark_sent`` closes a 待确认 row the admin confirmed went out (e.g. in the
provider's console). Both are audited.
"""

from __future__ import annotations

from typing import Any

from beiandesk.domain.errors import DomainError, NotFound
from beiandesk.domain.model import Account
from beiandesk.domain.outbox_states import LABELS, label
from beiandesk.services import audit
from beiandesk.services.auth import require_admin
from beiandesk.services.deps import Deps

SMS_BACKEND_LABELS = {
    "outbox": "仅保存在通知队列（BEIANDESK_SMS_BACKEND=outbox），不会发出",
    "tencent": "腾讯云短信",
    "aliyun": "阿里云短信",
}


def channels(d: Deps) -> dict[str, str]:
    """How e-mail and SMS leave this server, in words for the admin page."""
    s = d.settings
    email = "未配置 SMTP：邮件只保存在通知队列中（仅保存）"
    if s.smtp_url:
        scheme = s.smtp_url.split("://", 1)[0]
        email = {"smtps": "SMTP（SSL/TLS）", "smtp+starttls": "SMTP（STARTTLS）"}.get(
            scheme, "SMTP"
        )
    return {"email": email, "sms": SMS_BACKEND_LABELS.get(s.sms_backend, s.sms_backend)}


def _not_allowed(status: str, what: str) -> DomainError:
    return DomainError(
        "outbox_state_conflict", f"该通知当前状态为「{label(status)}」，不能{what}。", status=409
    )


def retry(d: Deps, actor: Account, item_id: int) -> dict[str, Any]:
    require_admin(actor)
    now = d.clock.now()
    with d.uow() as uow:
        row = uow.outbox.get(item_id)
        if row is None:
            raise NotFound("通知")
        if not uow.outbox.admin_retry(item_id, now):
            raise _not_allowed(row.status, "重新发送")
        audit.record(
            uow,
            actor=actor.username,
            action="outbox.retry",
            target=f"outbox:{item_id}",
            detail={"from": row.status, "kind": row.kind},
            at=now,
        )
        uow.after_commit(lambda: d.wake([item_id]))
        uow.commit()
    return _reread(d, item_id)


def mark_sent(d: Deps, actor: Account, item_id: int) -> dict[str, Any]:
    require_admin(actor)
    now = d.clock.now()
    with d.uow() as uow:
        row = uow.outbox.get(item_id)
        if row is None:
            raise NotFound("通知")
        if not uow.outbox.admin_mark_sent(item_id, now, f"由 {actor.username} 确认已发送"):
            raise _not_allowed(row.status, "标记为已发送")
        audit.record(
            uow,
            actor=actor.username,
            action="outbox.mark_sent",
            target=f"outbox:{item_id}",
            detail={"kind": row.kind},
            at=now,
        )
        uow.commit()
    return _reread(d, item_id)


def _reread(d: Deps, item_id: int) -> dict[str, Any]:
    with d.uow(readonly=True) as uow:
        row = uow.outbox.get(item_id)
    return row.public() if row else {}


__all__ = ["LABELS", "channels", "mark_sent", "retry"]
