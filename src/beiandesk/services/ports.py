"""The ports the use cases need. Adapters implement them; tests pass the fakes in tests/fakes.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from collections.abc import Iterator
from typing import Any, Protocol

from beiandesk.domain.model import DomainFacts
from beiandesk.domain.problems import Problem


class WriteWouldWait(Exception):
    """A unit of work opened inside ``Deps.write_attempt()`` found the database's write lock
    taken and did not wait: nothing was written; run the use case again where it may wait (the
    threadpool). Raised only before the attempt's first commit."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class FileStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data``; return its content key (hash). Idempotent."""

    def get(self, key: str) -> bytes: ...

    def put_stream(self, source: Any) -> str:
        """Store a binary file object or an iterable of chunks, in bounded memory; its key."""

    def open_read(self, key: str) -> Iterator[bytes]:
        """The content of ``key`` as chunks (``FileNotFoundError`` at once when missing)."""

    def exists(self, key: str) -> bool: ...

    def iter_keys(self) -> Iterator[str]: ...

    def ping(self) -> None:
        """Raise when the store does not answer."""


class DomainFactsLookup(Protocol):
    def lookup(self, domain: str) -> DomainFacts:
        """Registry facts of a registrable domain; failures come back as ``DomainFacts(error=…)``."""


class SiteProbe(Protocol):
    def probe(self, url: str, filing_number: str) -> list[Problem]: ...


@dataclass
class VerificationResult:
    passed: bool
    problems: list[Problem]
    media: str = "photo"  # "photo" | "video"
    measurements: dict[str, Any] = field(default_factory=dict)


class PhotoInspector(Protocol):
    def inspect(self, data: bytes, filename: str | None = None) -> VerificationResult: ...


class FormRenderer(Protocol):
    def render(self, form: Any) -> bytes:
        """A printable PDF of a ``domain.verification_form.VerificationForm``."""


class Mailer(Protocol):
    def send(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        *,
        message_id: str | None = None,
    ) -> dict[str, Any] | None:
        """``message_id``: the row's stable Message-ID, so a repeat after a crash is recognisable.
        ``keeps_only = True`` on a mailer that stores only (no SMTP)."""


class SmsSender(Protocol):
    def send(
        self,
        to: str,
        text: str,
        *,
        kind: str = "",
        params: dict[str, str] | None = None,
        ref: str = "",
    ) -> dict[str, Any] | None:
        """Send one SMS (``kind``'s template with named ``params``; ``ref`` our row's id).
        Return the provider's answer (kept on the row); raise ``TransientFailure`` /
        ``PermanentFailure`` (domain.outbox_states). A backend that only stores says so with
        ``keeps_only = True``."""


class AuthorityGateway(Protocol):
    def submit(self, payload: dict[str, Any], idempotency_key: str) -> str:
        """Hand an order to the authority; return its reference. Same key → same reference."""

    def status(self, ref: str) -> dict[str, Any]:
        """``{ref, state, reason, ...}`` with the sandbox/authority state names of api.md."""

    def resend(self, ref: str, idempotency_key: str | None = None) -> dict[str, Any]:
        """Re-send a returned order (new SMS codes). Same key → the same resend, not a second."""


@dataclass(frozen=True)
class PostResult:
    """What one webhook POST gave: the HTTP status (None when no answer came) and why not 2xx."""

    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookSender(Protocol):
    def check_url(self, url: str) -> str | None:
        """None when beiandesk may call ``url``; else why not (Chinese), e.g. a private address."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        """POST ``body`` to ``url`` through the address guard; never raises for network errors."""


@dataclass(frozen=True)
class InstanceFacts:
    """A cloud instance as the provider's resource inventory knows it (the draft's ``resource``)."""

    instance_id: str
    kind: str  # ecs / lighthouse / …
    region: str
    public_ip: str
    billing: str  # prepaid / postpaid
    purchased_at: str | None  # ISO date
    expires_at: str | None  # ISO date (None for pay-as-you-go)
    owner: str | None = None  # the provider's account id / name, when it tells


class InventoryUnavailable(Exception):
    """The inventory could not be asked (down, time-out, garbled answer): the pre-check says so."""


class ResourceInventory(Protocol):
    def by_instance_id(self, instance_id: str) -> InstanceFacts | None:
        """The instance, or None when the provider has no such instance."""

    def by_public_ip(self, public_ip: str) -> InstanceFacts | None:
        """The instance holding this public IP, or None."""


class AsyncPointReads(Protocol):
    """The point reads every request makes, awaited instead of run on the event loop with a
    sync driver (PostgreSQL: ``adapters/db/async_reads.py``). The same rows the units of work's
    repositories give (``sessions.check``, ``websites.get_with_owner``, ``subjects.get``)."""

    async def session(self, jti: str) -> tuple[Any, Any] | None:
        """``(row with account_id, expires_at, revoked_at; the Account)``, or None."""

    async def session_and_website(self, jti: str, website_id: int) -> tuple[Any, Any]:
        """``(session(jti), (Website, the account id owning its subject) or None)`` in one
        round trip."""

    async def session_and_subject(self, jti: str, subject_id: int) -> tuple[Any, Any]:
        """``(session(jti), the Subject or None)`` in one round trip."""
