"""How an order is shown over the API: personal data masked (api.md masking examples)."""

from __future__ import annotations

from typing import Any

from beiandesk.sandbox.model import Order, iso, mask_mobile, masked


def order_view(order: Order, codes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``codes`` are the current round's, by mobile (``SandboxStore.codes``)."""
    return {
        "ref": order.ref,
        "state": str(order.state),
        "reason": order.reason,
        "reason_message": order.reason_message,
        "reasons": order.reasons,
        "order_type": order.order_type,
        "province": order.province,
        "filing_number": order.filing_number,
        "round": order.round,
        "subject": masked(order.payload.get("subject") or {}),
        "website": masked(order.payload.get("website") or {}),
        "principals": masked(order.principals),
        "verifications": [
            {
                "mobile": mask_mobile(m),
                "sent": m in codes,
                "verified": bool(codes.get(m, {}).get("verified_at")),
                "verified_at": iso(codes.get(m, {}).get("verified_at")),
            }
            for m in order.mobiles()
        ],
        "sms_sent_at": iso(order.sms_sent_at),
        "sms_deadline": iso(order.sms_deadline),
        "attempts_left": order.attempts_left,
        "callback_url": order.callback_url,
        "decided_at": iso(order.decided_at),
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }
