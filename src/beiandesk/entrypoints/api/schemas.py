"""Request bodies. Unknown fields are refused (``invalid_request``), lengths are bounded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool

Short = Annotated[str, Field(max_length=200)]
#: A row id in a path: positive and within a 32-bit INTEGER, so a huge id is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]


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


class SubmitBody(Strict):
    # Consent must be an explicit JSON true: "yes", "on" or 1 are not consent.
    accept_terms: StrictBool = False
    accept_privacy: StrictBool = False


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
