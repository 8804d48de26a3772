"""The sandbox's order: states, reasons, the MIIT numbers it plays by, and masking.

The sandbox plays the MIIT filing system and the provincial 管局 (api.md §Authority sandbox).
It is never presented as the real authority: every page and SMS says 沙箱.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

#: A callable returning an aware UTC datetime (or an object with ``now()``, see ``as_clock``).
ClockFn = Callable[[], datetime]

#: China Standard Time, for order references and the dates people read (no DST, fixed +8).
CST = timezone(timedelta(hours=8), "CST")


class OrderState(StrEnum):
    """api.md §Authority sandbox: the states an authority order goes through."""

    sms_pending = "sms_pending"
    under_review = "under_review"
    approved = "approved"
    rejected = "rejected"
    returned = "returned"


#: Why an order was returned or rejected (the order's ``reason``).
REASON_SMS_FAILED = "sms_failed"
REASON_SMS_TIMEOUT = "sms_timeout"
REASON_REJECTED = "rejected"

#: MIIT SMS check (product.md §The flow, step 6): 5 wrong entries are allowed; the 6th attempt
#: after them returns the order (``sms_failed``), whatever code it carries. The counter is
#: shared by every mobile of one order and is reset by a resend.
MAX_WRONG_ATTEMPTS = 5
#: MIIT codes are 6 digits.
CODE_DIGITS = 6

LABELS: dict[OrderState, str] = {
    OrderState.sms_pending: "待短信核验",
    OrderState.under_review: "管局审核中",
    OrderState.approved: "审核通过",
    OrderState.rejected: "审核驳回",
    OrderState.returned: "已退回接入商",
}

REASON_MESSAGES: dict[str, str] = {
    REASON_SMS_FAILED: "短信验证码连续输入错误 5 次，订单已退回接入商，"
    "请接入商重新提交以获取新的验证码。",
    REASON_SMS_TIMEOUT: "未在规定时间内完成短信核验，订单已退回接入商，"
    "请接入商重新提交以获取新的验证码。",
    REASON_REJECTED: "管局审核未通过，请按驳回原因修改后重新提交。",
}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class SandboxError(Exception):
    """A refused sandbox request; ``status`` and ``code`` become problem JSON."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def as_clock(clock: ClockFn | Any | None) -> ClockFn:
    """Accept a callable, a ``Clock`` port object (with ``now()``), or None (the real clock)."""
    if clock is None:
        return lambda: datetime.now(UTC)
    now = getattr(clock, "now", None)
    return now if callable(now) else clock


def normalize_mobile(raw: str) -> str:
    """Digits only, a leading +86/86 dropped: how a phone network identifies a subscriber."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def is_mobile(value: str) -> bool:
    return bool(_MOBILE.match(value))


def mask_mobile(value: str) -> str:
    """``139****5678`` (api.md masking)."""
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"


def mask_id(value: str) -> str:
    """``4403**********123X``: first and last four kept (api.md masking)."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def masked(data: Any) -> Any:
    """A deep copy of a payload with every ``id_number`` and ``mobile`` masked."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key == "mobile" and isinstance(value, str):
                out[key] = mask_mobile(value)
            elif key == "id_number" and isinstance(value, str):
                out[key] = mask_id(value)
            else:
                out[key] = masked(value)
        return out
    if isinstance(data, list):
        return [masked(x) for x in data]
    return data


def iso(dt: datetime | None) -> str | None:
    """Stored and shown as ISO 8601 UTC with microseconds: sortable as text in SQLite."""
    return dt.astimezone(UTC).isoformat(timespec="microseconds") if dt else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Order:
    ref: str
    idempotency_key: str
    payload_hash: str
    province: str
    order_type: str
    filing_number: str
    payload: dict[str, Any]  # subject, website, principals: as received
    callback_url: str | None
    state: OrderState
    created_at: datetime
    updated_at: datetime
    codes_due_at: datetime
    round: int = 1
    reason: str | None = None
    reasons: list[str] = field(default_factory=list)
    sms_sent_at: datetime | None = None
    sms_deadline: datetime | None = None
    wrong_attempts: int = 0
    resend_key: str | None = None
    decided_at: datetime | None = None

    @property
    def principals(self) -> list[dict[str, Any]]:
        return list(self.payload.get("principals") or [])

    def mobiles(self) -> list[str]:
        """Each distinct principal mobile once, in order: one SMS per phone, not per role."""
        seen: list[str] = []
        for p in self.principals:
            m = normalize_mobile(str(p.get("mobile") or ""))
            if m and m not in seen:
                seen.append(m)
        return seen

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_WRONG_ATTEMPTS - self.wrong_attempts)

    @property
    def reason_message(self) -> str | None:
        if self.reason == REASON_REJECTED and self.reasons:
            return "管局驳回：" + "；".join(self.reasons)
        return REASON_MESSAGES.get(self.reason or "")


def window_text(window_s: float) -> str:
    """``24小时`` / ``30分钟`` / ``20秒``: the window as the SMS states it."""
    s = max(1, round(window_s))
    if s % 3600 == 0:
        return f"{s // 3600}小时"
    if s % 60 == 0:
        return f"{s // 60}分钟"
    return f"{s}秒"


def sms_text(code: str, window_s: float, verify_url: str) -> str:
    """The SMS, worded like MIIT's but pointing at the sandbox page and saying it is a sandbox."""
    return (
        f"【工信部ICP备案】您的短信核验码为{code}，请于{window_text(window_s)}内登录 "
        f"{verify_url} 完成核验。如非本人操作请忽略。（beiandesk 沙箱短信，非真实工信部短信）"
    )
