"""Request bodies the sandbox accepts (validated by pydantic; problems keep stable codes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PrincipalIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["website", "subject"]
    name: str = Field(min_length=1, max_length=64)
    id_type: str = "resident_id"
    id_number: str = Field(default="", max_length=64)
    mobile: str = Field(max_length=32)


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    province: str = Field(min_length=1, max_length=32)
    order_type: Literal["website_change"] = "website_change"
    filing_number: str = Field(min_length=1, max_length=64)
    subject: dict[str, Any] = Field(default_factory=dict)
    website: dict[str, Any] = Field(default_factory=dict)
    principals: list[PrincipalIn] = Field(min_length=1, max_length=10)
    callback_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://\S+$")


class VerifyIn(BaseModel):
    ref: str = Field(min_length=1, max_length=64)
    mobile: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=16)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reasons: list[str] = Field(default_factory=list, max_length=20)
