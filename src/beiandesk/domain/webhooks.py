"""Webhooks for integrators: which events, what is sent, which URLs are acceptable (pure rules).

Each change-order timeline event (``Event.kind``) of a subscribed kind becomes one JSON body
``{id, kind, change_id, state, at}`` (api.md §Outside parties); ``id`` is the event's own id, so a
receiver that gets a repeat (a retry after a lost answer) can drop it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from beiandesk.domain.errors import DomainError

#: The timeline's event kinds (the ``kind`` of ``domain.change.event``/``transition``).
EVENT_KINDS: frozenset[str] = frozenset(
    {
        "created",
        "edited",
        "material_uploaded",
        "material_deleted",
        "verification",
        "submitted",
        "withdrawn",
        "call",
        "call_reminder",
        "overdue",
        "contact_viewed",
        "provider_approved",
        "provider_rejected",
        "resend_requested",
        "authority_retry",
        "authority_submitted",
        "sms_reminder",
        "authority_review",
        "authority_returned",
        "authority_rejected",
        "approved",
        "state_changed",
        "claim",
        "release",
        "identity_viewed",
        "expiry_warned",
        "expired",
        "desk_sms_expired",
    }
)
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: Subscribe to every kind (also the ones added later).
ALL = "*"
#: The secret is the integrator's (like GitHub's, any non-blank string); 16+ random characters
#: are what the console recommends.
MAX_URL, MIN_SECRET, MAX_SECRET, RECOMMENDED_SECRET = 2000, 1, 256, 16


def check_events(events: Sequence[str]) -> list[str]:
    """The subscribed kinds, de-duplicated in the given order.

    Any well-formed kind is accepted (the timeline gains kinds as beiandesk grows, and a
    subscription may name one before it first occurs); ``EVENT_KINDS`` lists today's for hints.
    """
    kinds = list(dict.fromkeys(e.strip() for e in events if e and e.strip()))
    if not kinds:
        raise DomainError("webhook_events_invalid", "请至少订阅一种事件（events，* 表示全部）。")
    bad = [k for k in kinds if k != ALL and not _KIND.match(k)]
    if bad:
        raise DomainError(
            "webhook_events_invalid",
            f"事件类型格式不正确：{'、'.join(bad)}。事件类型为办理记录的 kind（小写字母、数字和下划线），"
            f"例如 {'、'.join(sorted(EVENT_KINDS)[:4])}；* 表示全部。",
        )
    return [ALL] if ALL in kinds else kinds


def check_secret(secret: str) -> str:
    if not (secret or "").strip() or len(secret) > MAX_SECRET:
        raise DomainError(
            "webhook_secret_invalid",
            f"签名密钥（secret）不能为空，最长 {MAX_SECRET} 个字符；"
            f"建议使用至少 {RECOMMENDED_SECRET} 个字符的随机字符串。",
        )
    return secret


def check_url(url: str) -> str:
    """Syntax only (http/https, a host, no credentials); the address guard is the adapter's."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or len(url) > MAX_URL
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.fragment
    ):
        raise DomainError(
            "webhook_url_invalid",
            "网络钩子地址须为 http:// 或 https:// 开头的完整地址（不含用户名密码和 #）。",
        )
    del port
    return url


def subscribed(events: Iterable[str], kind: str) -> bool:
    kinds = set(events)
    return ALL in kinds or kind in kinds


def event_id(db_id: int) -> str:
    return f"evt_{db_id}"


def body(event_db_id: int, kind: str, change_id: int, state: str, at: datetime) -> bytes:
    """The exact bytes that are signed and POSTed."""
    data: dict[str, Any] = {
        "id": event_id(event_db_id),
        "kind": kind,
        "change_id": change_id,
        "state": state,
        "at": at.isoformat(),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
