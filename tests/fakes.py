"""One fake per port (style.md habit 4); each records what it was asked."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from beiandesk.domain.model import DomainFacts
from beiandesk.domain.problems import Problem
from beiandesk.services.ports import VerificationResult


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        # A Wednesday morning in Beijing (UTC+8), well inside chinesecalendar's data.
        self.current = start or datetime(2026, 11, 25, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kw: float) -> datetime:
        self.current = self.current + timedelta(**kw)
        return self.current


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = False

    def send(self, to: str, subject: str, text: str, html: str | None = None, *,
             message_id: str | None = None) -> None:
        if self.fail:
            raise ConnectionRefusedError("smtp down")
        self.sent.append({"to": to, "subject": subject, "text": text, "html": html, "message_id": message_id})


class FakeSms:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def send(self, to: str, text: str, *, kind: str = "", params: dict | None = None, ref: str = "") -> None:
        self.sent.append({"to": to, "text": text, "kind": kind, "params": params or {}, "ref": ref})


class FakeGateway:
    """Plays the authority: remembers submissions by idempotency key; states set by tests."""

    def __init__(self) -> None:
        self.submitted: list[dict[str, Any]] = []
        self.resent: list[str] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, str] = {}
        self._seq = itertools.count(1)
        self.down = False

    def submit(self, payload: dict[str, Any], idempotency_key: str) -> str:
        if self.down:
            raise ConnectionError("gateway down")
        if idempotency_key in self._keys:
            return self._keys[idempotency_key]
        ref = f"FAKE-{next(self._seq):04d}"
        self._keys[idempotency_key] = ref
        self.submitted.append({"payload": payload, "key": idempotency_key, "ref": ref})
        self.orders[ref] = {"ref": ref, "state": "sms_pending", "reason": None, "reasons": []}
        return ref

    def status(self, ref: str) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("gateway down")
        return dict(self.orders[ref])

    def resend(self, ref: str, idempotency_key: str | None = None) -> dict[str, Any]:
        if self.down:
            raise ConnectionError("gateway down")
        if idempotency_key is not None and idempotency_key in self._keys:
            return dict(self.orders[ref])
        if idempotency_key is not None:
            self._keys[idempotency_key] = ref
        self.resent.append(ref)
        self.orders[ref].update(state="sms_pending", reason=None)
        return dict(self.orders[ref])

    def set(self, ref: str, state: str, reason: str | None = None, reasons: list[str] | None = None) -> None:
        self.orders[ref].update(state=state, reason=reason, reasons=reasons or [])


class FakeDomainLookup:
    def __init__(self, facts: dict[str, DomainFacts] | None = None) -> None:
        self.facts = facts or {}
        self.asked: list[str] = []

    def lookup(self, domain: str) -> DomainFacts:
        self.asked.append(domain)
        return self.facts.get(domain, DomainFacts(error="查询失败（测试）", source="fake"))


class FakeSiteProbe:
    def __init__(self, problems: list[Problem] | None = None) -> None:
        self.problems = problems or []
        self.asked: list[tuple[str, str]] = []

    def probe(self, url: str, filing_number: str) -> list[Problem]:
        self.asked.append((url, filing_number))
        return list(self.problems)


class FakePhoto:
    def __init__(self, passed: bool = True, problems: list[Problem] | None = None) -> None:
        self.passed, self.problems = passed, problems or []
        self.asked: list[int] = []

    def inspect(self, data: bytes, filename: str | None = None) -> VerificationResult:
        self.asked.append(len(data))
        return VerificationResult(passed=self.passed, problems=list(self.problems), media="photo")
