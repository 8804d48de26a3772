"""Request bodies. Unknown fields are refused (``invalid_request``), lengths are bounded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Short = Annotated[str, Field(max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PrincipalPatch(Strict):
    name: Short | None = None
    id_type: Annotated[str, Field(max_length=32)] | None = None
    id_number: Annotated[str, Field(max_length=64)] | None = None
    mobile: Annotated[str, Field(max_length=32)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None


class ResourcePatch(Strict):
    kind: Literal["cvm", "lighthouse", "serverless", "cloudbase"] | None = None
    region: Annotated[str, Field(max_length=64)] | None = None
    public_ip: Annotated[str, Field(max_length=64)] | None = None
    billing: Annotated[str, Field(max_length=32)] | None = None
    purchased_at: date | None = None
    expires_at: date | None = None
    instance_id: Annotated[str, Field(max_length=64)] | None = None
    auth_code: Annotated[str, Field(max_length=64)] | None = None


class ProposedPatch(Strict):
    name: Short | None = None
    domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(max_length=50)] | None = None
    home_url: Annotated[str, Field(max_length=2048)] | None = None
    content_categories: Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=20)] | None = None
    principal: PrincipalPatch | None = None
    resource: ResourcePatch | None = None

    def as_patch(self) -> dict:
        out = self.model_dump(exclude_unset=True, mode="json")
        return {k: ({kk: vv for kk, vv in v.items()} if isinstance(v, dict) else v)
                for k, v in out.items() if v is not None or k in ("principal", "resource")}


class ChangePatch(Strict):
    """``{"proposed": {...}}``; a bare proposed object is accepted too."""

    proposed: ProposedPatch


class SubmitBody(Strict):
    accept_terms: bool = False
    accept_privacy: bool = False


class CallBody(Strict):
    outcome: Literal["reached", "unreachable"]
    note: Annotated[str, Field(max_length=2000)] = ""


class ApproveBody(Strict):
    note: Annotated[str, Field(max_length=2000)] = ""


class ReasonBody(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    message: Annotated[str, Field(min_length=1, max_length=2000)]


class RejectBody(Strict):
    reasons: Annotated[list[ReasonBody], Field(min_length=1, max_length=20)]


class AuthCodeBody(Strict):
    instance_id: Annotated[str, Field(min_length=1, max_length=64)]
    domain: Annotated[str, Field(max_length=253)] | None = None
