"""Outbox row states and the words admins read for them — the one place that maps them.

A row is ``pending`` (待发送) until a worker claims it (``sending``, 发送中). It ends ``sent``
(已发送: the provider or SMTP server accepted it), ``kept`` (仅保存: stored only — SMS backend
``outbox`` or no SMTP configured; nothing left the server), ``failed`` (发送失败, with the reason)
or ``uncertain`` (待确认: the process died during the provider call, so nobody knows whether
the SMS went out; an admin resolves it on purpose: resend or mark sent).
"""

from __future__ import annotations

STATUSES = ("pending", "sending", "sent", "kept", "failed", "uncertain")

LABELS = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "kept": "仅保存",
    "failed": "发送失败",
    "uncertain": "待确认",
}

#: What an admin may do with a row in each state (buttons in the console, POSTs in the API).
RETRYABLE = frozenset({"failed", "uncertain"})
MARKABLE_SENT = frozenset({"uncertain"})


def label(status: str) -> str:
    return LABELS.get(status, status)


class DeliveryFailed(Exception):
    """A delivery attempt failed; ``answer`` (request id, code, message…) is kept on the row."""

    def __init__(self, reason: str, answer: dict | None = None) -> None:
        super().__init__(reason)
        self.reason, self.answer = reason, answer


class TransientFailure(DeliveryFailed):
    """Worth trying again later: the provider's internal error, a time-out, HTTP 5xx, a refused connection."""


class PermanentFailure(DeliveryFailed):
    """Trying again changes nothing (bad number, template not approved, daily limit…): mark failed."""
