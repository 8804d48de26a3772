"""Filed records and the change-order aggregate (pure: no I/O, no clock, no ORM).

Shapes follow api.md: a website's ``current``/``proposed`` snapshots share the website shape;
a change order records each state change as an event the service persists with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from beiandesk.domain.states import ChangeState


class Role(StrEnum):
    applicant = "applicant"
    reviewer = "reviewer"
    admin = "admin"


class SubjectKind(StrEnum):
    personal = "personal"
    enterprise = "enterprise"


class WebsiteStatus(StrEnum):
    open = "open"
    closed = "closed"


class ResourceKind(StrEnum):
    cvm = "cvm"
    lighthouse = "lighthouse"
    serverless = "serverless"
    cloudbase = "cloudbase"


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    role: Role
    display_name: str = ""
    email: str = ""
    enterprise_verified: bool = False
    disabled: bool = False
    password_change_required: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.reviewer, Role.admin)


@dataclass(frozen=True)
class Principal:
    """A responsible person (负责人): the subject's or a website's."""

    name: str
    id_type: str = "resident_id"
    id_number: str = ""
    mobile: str = ""
    email: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "mobile": self.mobile,
            "email": self.email,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Principal:
        d = d or {}
        return cls(
            name=str(d.get("name") or ""),
            id_type=str(d.get("id_type") or "resident_id"),
            id_number=str(d.get("id_number") or ""),
            mobile=str(d.get("mobile") or ""),
            email=str(d.get("email") or ""),
        )

    def same_person(self, other: Principal) -> bool:
        return (self.id_type, self.id_number.upper()) == (other.id_type, other.id_number.upper())


@dataclass(frozen=True)
class Resource:
    """The provider resource a website is served from (CVM, lightweight, serverless, cloudbase)."""

    kind: str = ResourceKind.cvm
    region: str = ""
    public_ip: str = ""
    billing: str = "prepaid"
    purchased_at: date | None = None
    expires_at: date | None = None
    instance_id: str = ""
    auth_code: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "region": self.region,
            "public_ip": self.public_ip,
            "billing": self.billing,
            "purchased_at": self.purchased_at.isoformat() if self.purchased_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "instance_id": self.instance_id,
            "auth_code": self.auth_code,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Resource:
        d = d or {}
        return cls(
            kind=str(d.get("kind") or "cvm"),
            region=str(d.get("region") or ""),
            public_ip=str(d.get("public_ip") or ""),
            billing=str(d.get("billing") or "prepaid"),
            purchased_at=_date(d.get("purchased_at")),
            expires_at=_date(d.get("expires_at")),
            instance_id=str(d.get("instance_id") or ""),
            auth_code=str(d.get("auth_code") or ""),
        )


def _date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


@dataclass(frozen=True)
class Subject:
    """A filed subject (主体): a person or an organisation, with its subject filing number."""

    id: int
    account_id: int
    kind: SubjectKind
    name: str
    province: str
    id_type: str
    id_number: str
    filing_number: str
    principal: Principal
    legal_rep: str = ""


@dataclass(frozen=True)
class WebsiteInfo:
    """The editable part of a website: what a change order's ``current``/``proposed`` hold."""

    name: str
    domains: tuple[str, ...]
    home_url: str
    principal: Principal
    content_categories: tuple[str, ...] = ()
    resource: Resource = field(default_factory=Resource)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domains": list(self.domains),
            "home_url": self.home_url,
            "content_categories": list(self.content_categories),
            "principal": self.principal.to_dict(),
            "resource": self.resource.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WebsiteInfo:
        return cls(
            name=str(d.get("name") or ""),
            domains=tuple(str(x) for x in d.get("domains") or ()),
            home_url=str(d.get("home_url") or ""),
            principal=Principal.from_dict(d.get("principal")),
            content_categories=tuple(str(x) for x in d.get("content_categories") or ()),
            resource=Resource.from_dict(d.get("resource")),
        )

    def merged(self, patch: dict[str, Any]) -> WebsiteInfo:
        """A copy with the fields of a partial ``proposed`` object applied (principal merged)."""
        base = self.to_dict()
        for key, value in patch.items():
            if key in ("principal", "resource") and isinstance(value, dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
        return WebsiteInfo.from_dict(base)


@dataclass(frozen=True)
class Website:
    id: int
    subject_id: int
    filing_number: str
    status: WebsiteStatus
    info: WebsiteInfo
    version: int = 1

    def with_info(self, info: WebsiteInfo) -> Website:
        return replace(self, info=info, version=self.version + 1)


@dataclass(frozen=True)
class Event:
    """One line of a change order's timeline."""

    at: datetime
    kind: str
    state: str
    actor: str
    message: str
    from_state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    at: datetime
    outcome: str  # "reached" | "unreachable"
    note: str  # internal: reviewers see it, the applicant never does
    reviewer: str
    #: The submission round the call belongs to (``ChangeOrder.round``); a resubmission starts
    #: a fresh round, so an earlier round's calls never count again.
    round: int = 0


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class ChangeOrder:
    """A website change order (网站变更单). Mutations go through ``services`` via domain rules."""

    id: int | None
    website_id: int
    subject_id: int
    account_id: int
    state: ChangeState
    current: WebsiteInfo
    proposed: WebsiteInfo
    created_at: datetime
    updated_at: datetime
    version: int = 1
    submitted_at: datetime | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    due_at: datetime | None = None
    next_call_at: datetime | None = None
    calls: list[Call] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    authority_ref: str | None = None
    authority_reason: str | None = None
    sms_deadline: datetime | None = None
    review_passed_at: datetime | None = None
    #: How many times the order was submitted; ``calls`` holds the current round's calls only.
    round: int = 0
    new_events: list[Event] = field(default_factory=list)

    def changed_fields(self) -> list[str]:
        cur, new = self.current.to_dict(), self.proposed.to_dict()
        out = []
        for key in ("name", "domains", "home_url", "content_categories", "principal", "resource"):
            if cur[key] != new[key]:
                out.append(key)
        return out


@dataclass(frozen=True)
class DomainFacts:
    """What a registry (WHOIS/RDAP) or a draft file says of a registrable domain.

    ``None`` means unknown. ``error`` is set when the look-up failed: the rules then give a
    warning, never a false pass and never a crash.
    """

    registrar: str = ""
    registrar_domestic: bool | None = None
    real_name_verified: bool | None = None
    holder: str | None = None
    expires_at: date | None = None
    registered_at: date | None = None
    status: tuple[str, ...] = ()
    source: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "registrar": self.registrar,
            "registrar_domestic": self.registrar_domestic,
            "real_name_verified": self.real_name_verified,
            "holder": self.holder,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "registered_at": self.registered_at.isoformat() if self.registered_at else None,
            "status": list(self.status),
            "source": self.source,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DomainFacts:
        return cls(
            registrar=str(d.get("registrar") or ""),
            registrar_domestic=d.get("registrar_domestic"),
            real_name_verified=d.get("real_name_verified"),
            holder=d.get("holder"),
            expires_at=_date(d.get("expires_at")),
            registered_at=_date(d.get("registered_at")),
            status=tuple(d.get("status") or ()),
            source=str(d.get("source") or ""),
            error=d.get("error"),
        )
