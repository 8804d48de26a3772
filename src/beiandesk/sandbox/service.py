"""The sandbox's state machine: receive, send the codes, check them, return, decide, resend.

It is clock-driven: the codes go out once ``now >= received + delay``; the window runs from that
moment; due transitions are applied lazily on every read and write and by the ticker
(``runtime.Sandbox``), so callbacks fire even when nobody polls. Every state change (and the
sending of the codes, which starts the window) queues a signed callback when the order has a
``callback_url``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from beiandesk.sandbox.model import (
    CODE_DIGITS,
    CST,
    LABELS,
    MAX_WRONG_ATTEMPTS,
    REASON_REJECTED,
    REASON_SMS_FAILED,
    REASON_SMS_TIMEOUT,
    ClockFn,
    Order,
    OrderState,
    SandboxError,
    is_mobile,
    iso,
    normalize_mobile,
    sms_text,
)
from beiandesk.sandbox.store import SandboxStore
from beiandesk.sandbox.views import order_view

log = logging.getLogger("beiandesk.sandbox")

#: Characters of a reference's random tail: no 0/O/1/I to misread on the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class SmsTiming:
    """``SANDBOX_SMS_DELAY_S`` and ``SANDBOX_SMS_WINDOW_S`` (MIIT: 24 h = 86400 s)."""

    delay_s: float = 0.0
    window_s: float = 86400.0


def payload_hash(body: dict[str, Any]) -> str:
    """What an idempotent replay must repeat: everything but the key and the callback URL."""
    core = {k: v for k, v in body.items() if k not in ("idempotency_key", "callback_url")}
    return hashlib.sha256(json.dumps(core, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _new_code(previous: str | None) -> str:
    # A resend never repeats the previous code, so "the old code no longer works" is observable.
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if code != previous:
            return code


class SandboxService:
    def __init__(
        self,
        store: SandboxStore,
        *,
        timing: SmsTiming,
        clock: ClockFn,
        public_url: str,
        on_callback: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.timing = timing
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self.on_callback = on_callback or (lambda: None)

    # -- commands ---------------------------------------------------------------------------
    def submit(self, body: dict[str, Any]) -> tuple[Order, bool]:
        """Receive an order; ``(order, created)``. A replayed key returns the same order."""
        key = str(body["idempotency_key"])
        digest = payload_hash(body)
        _check_principals(body.get("principals") or [])
        now = self.clock()
        with self.store.transaction():
            existing = self.store.find_by_key(key)
            if existing is not None:
                if existing.payload_hash != digest:
                    raise SandboxError(
                        409,
                        "idempotency_key_reused",
                        "该幂等键已用于另一份不同的订单，请为新订单使用新的幂等键。",
                    )
                return self._advance(existing, now), False
            order = Order(
                ref=self._new_ref(now),
                idempotency_key=key,
                payload_hash=digest,
                province=str(body["province"]),
                order_type=str(body["order_type"]),
                filing_number=str(body["filing_number"]),
                payload={k: body.get(k) for k in ("subject", "website", "principals")},
                callback_url=body.get("callback_url") or None,
                state=OrderState.sms_pending,
                created_at=now,
                updated_at=now,
                codes_due_at=now + timedelta(seconds=self.timing.delay_s),
            )
            self.store.insert_order(order)
            log.info("sandbox order %s received (%s)", order.ref, order.province)
            return self._advance(order, now), True

    def verify(self, ref: str, mobile: str, code: str) -> dict[str, Any]:
        """The MIIT check of one principal's code (rule: ``model.MAX_WRONG_ATTEMPTS``)."""
        now = self.clock()
        phone = normalize_mobile(mobile)
        with self.store.transaction():
            order = self._load(ref, now)
            if phone not in order.mobiles():
                raise SandboxError(
                    422,
                    "mobile_not_in_order",
                    "该手机号码不是此备案订单的负责人手机号码。",
                    field="mobile",
                )
            entry = self.store.codes(order.ref, order.round).get(phone)
            matches = entry is not None and hmac.compare_digest(
                code.strip().encode("utf-8"), entry["code"].encode("utf-8")
            )
            if order.state != OrderState.sms_pending:
                # Re-entering a code that already passed is harmless; anything else is refused.
                done = (
                    matches
                    and entry is not None
                    and bool(entry["verified_at"])
                    and order.state != OrderState.returned
                )
                if done:
                    return self._result(order, True, "该手机号码已完成核验。")
                return self._result(
                    order, False, order.reason_message or "该订单当前不在短信核验阶段。"
                )
            if entry is None:
                raise SandboxError(409, "sms_not_sent", "验证码尚未发送，请稍后再试。")
            if order.wrong_attempts >= MAX_WRONG_ATTEMPTS:
                self._change(order, now, OrderState.returned, "returned", REASON_SMS_FAILED)
                return self._result(order, False, order.reason_message or "")
            if matches:
                return self._accept(order, phone, now, already=bool(entry["verified_at"]))
            order.wrong_attempts += 1
            order.updated_at = now
            self.store.save_order(order)
            left = order.attempts_left
            return self._result(
                order,
                False,
                f"验证码错误，还可尝试 {left} 次。"
                if left
                else "验证码已连续错误 5 次，再次提交将使订单退回接入商。",
            )

    def decide(self, ref: str, decision: str, reasons: list[str]) -> Order:
        """The 管局's decision; only on an order under review."""
        now = self.clock()
        reasons = [r.strip() for r in reasons if r and r.strip()]
        with self.store.transaction():
            order = self._load(ref, now)
            if order.state != OrderState.under_review:
                raise SandboxError(
                    409,
                    "order_not_under_review",
                    f"订单当前状态为「{LABELS[order.state]}」，只有管局审核中的订单可以审核。",
                    state=str(order.state),
                )
            if decision == "reject" and not reasons:
                raise SandboxError(
                    422, "reasons_required", "驳回时请填写至少一条驳回原因。", field="reasons"
                )
            order.reasons = reasons
            order.decided_at = now
            if decision == "approve":
                self._change(order, now, OrderState.approved, "approved", None)
            else:
                self._change(order, now, OrderState.rejected, "rejected", REASON_REJECTED)
            return order

    def resend(self, ref: str, idempotency_key: str | None = None) -> Order:
        """Re-send a returned order: new round, new codes (after the delay), new window."""
        now = self.clock()
        with self.store.transaction():
            order = self._load(ref, now)
            if idempotency_key and order.resend_key == idempotency_key:
                return order  # a retried request that already took effect
            if order.state != OrderState.returned:
                raise SandboxError(
                    409,
                    "order_not_returned",
                    f"订单当前状态为「{LABELS[order.state]}」，只有已退回的订单可以重新提交。",
                    state=str(order.state),
                )
            order.round += 1
            order.wrong_attempts = 0
            order.sms_sent_at = order.sms_deadline = None
            order.codes_due_at = now + timedelta(seconds=self.timing.delay_s)
            order.resend_key = idempotency_key
            order.reasons = []
            self._change(order, now, OrderState.sms_pending, "resent", None)
            return self._advance(order, now)

    def tick(self) -> int:
        """Apply every due transition (codes due, windows run out); how many orders moved."""
        now = self.clock()
        refs = self.store.due_refs(now)
        for ref in refs:
            with self.store.transaction():
                order = self.store.get_order(ref)
                if order is not None:
                    self._advance(order, now)
        return len(refs)

    # -- queries ----------------------------------------------------------------------------
    def get(self, ref: str) -> Order:
        now = self.clock()
        with self.store.transaction():
            return self._load(ref, now)

    def list(self, state: str | None = None, limit: int = 200) -> list[Order]:
        self.tick()
        return self.store.list_orders(state, limit)

    def view(self, order: Order) -> dict[str, Any]:
        """The order as the API shows it: ID numbers and mobiles masked."""
        return order_view(order, self.store.codes(order.ref, order.round))

    def verify_url(self, ref: str) -> str:
        return f"{self.public_url}/miit/verify?ref={quote(ref)}"

    # -- internals --------------------------------------------------------------------------
    def _load(self, ref: str, now: datetime) -> Order:
        order = self.store.get_order(ref)
        if order is None:
            raise SandboxError(404, "order_not_found", f"备案订单 {ref} 不存在。", field="ref")
        return self._advance(order, now)

    def _advance(self, order: Order, now: datetime) -> Order:
        if order.state != OrderState.sms_pending:
            return order
        if order.sms_sent_at is None:
            if now < order.codes_due_at:
                return order
            self._send_codes(order, now)
        if order.sms_deadline is not None and now >= order.sms_deadline:
            self._change(order, now, OrderState.returned, "returned", REASON_SMS_TIMEOUT)
        return order

    def _send_codes(self, order: Order, now: datetime) -> None:
        previous = self.store.codes(order.ref, order.round - 1) if order.round > 1 else {}
        for phone in order.mobiles():
            code = _new_code(previous.get(phone, {}).get("code"))
            self.store.insert_code(order.ref, order.round, phone, code, now)
            text = sms_text(code, self.timing.window_s, self.verify_url(order.ref))
            self.store.insert_message(order.ref, order.round, phone, text, code, now)
        order.sms_sent_at = now
        order.sms_deadline = now + timedelta(seconds=self.timing.window_s)
        order.updated_at = now
        self.store.save_order(order)
        log.info("sandbox order %s: %d code(s) sent", order.ref, len(order.mobiles()))
        self._queue_callback(order, "sms_sent", now)

    def _accept(self, order: Order, phone: str, now: datetime, *, already: bool) -> dict[str, Any]:
        if not already:
            self.store.mark_verified(order.ref, order.round, phone, now)
        codes = self.store.codes(order.ref, order.round)
        if all(codes.get(m, {}).get("verified_at") for m in order.mobiles()):
            self._change(order, now, OrderState.under_review, "under_review", None)
            return self._result(order, True, "核验成功，全部负责人已完成核验，订单已提交管局审核。")
        order.updated_at = now
        self.store.save_order(order)
        return self._result(order, True, "核验成功，请等待其他负责人完成核验。")

    def _change(
        self, order: Order, now: datetime, state: OrderState, event: str, reason: str | None
    ) -> None:
        order.state, order.reason, order.updated_at = state, reason, now
        self.store.save_order(order)
        log.info("sandbox order %s → %s%s", order.ref, state, f" ({reason})" if reason else "")
        self._queue_callback(order, event, now)

    def _queue_callback(self, order: Order, event: str, now: datetime) -> None:
        if not order.callback_url:
            return
        body = {
            "ref": order.ref,
            "state": str(order.state),
            "reason": order.reason,
            "reasons": order.reasons,
            "event": event,
            "round": order.round,
            "at": iso(now),
            "sms_deadline": iso(order.sms_deadline),
            "attempts_left": order.attempts_left,
        }
        # Scheduled on the wall clock: delivery is transport, not the (injectable) order clock.
        self.store.enqueue_callback(order.ref, order.callback_url, body, datetime.now(UTC))
        self.on_callback()

    def _result(self, order: Order, ok: bool, message: str) -> dict[str, Any]:
        return {
            "ok": ok,
            "attempts_left": order.attempts_left,
            "ref": order.ref,
            "state": str(order.state),
            "reason": order.reason,
            "message": message,
        }

    def _new_ref(self, now: datetime) -> str:
        # SBX-<CST date>-<daily sequence>-<random tail>: readable like an authority number;
        # the tail keeps refs unique if the sandbox file is reset while beiandesk keeps its own.
        prefix = f"SBX-{now.astimezone(CST):%Y%m%d}-"
        seq = self.store.count_refs_with_prefix(prefix) + 1
        tail = "".join(secrets.choice(_REF_ALPHABET) for _ in range(3))
        return f"{prefix}{seq:04d}-{tail}"


def _check_principals(principals: list[dict[str, Any]]) -> None:
    if not principals:
        raise SandboxError(
            422, "principal_required", "订单至少需要一位负责人。", field="principals"
        )
    for i, p in enumerate(principals):
        if not is_mobile(normalize_mobile(str(p.get("mobile") or ""))):
            raise SandboxError(
                422,
                "mobile_invalid",
                "负责人手机号码格式不正确，应为 11 位中国大陆手机号码。",
                field=f"principals[{i}].mobile",
            )
