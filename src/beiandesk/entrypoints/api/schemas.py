"""Request bodies. Unknown fields are refused (``invalid_request``), lengths are bounded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from beiandesk.domain.text import first_forbidden_char


def clean_text(value: Any) -> Any:
    """Refuse NUL and other control characters (tab and line breaks excepted) and lone
    surrogates in any string, however deep in lists: PostgreSQL cannot store them (a 500 before),
    and no person types them. A 422 ``invalid_request`` at validation, on every database."""
    if isinstance(value, str):
        bad = first_forbidden_char(value)
        if bad is not None:
            raise PydanticCustomError(
                "control_character", "含有不允许的控制字符 U+{cp}", {"cp": f"{ord(bad):04X}"}
            )
    elif isinstance(value, list | tuple):
        for item in value:
            clean_text(item)
    return value


#: A string parameter (form field, query) with the same refusal as every body field.
Text = Annotated[str, AfterValidator(clean_text)]
Short = Annotated[str, Field(max_length=200)]
#: A row id in a path: positive and within a 32-bit INTEGER, so a huge id is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class Strict(BaseModel):
    """Every request body: unknown keys refused, every string field free of control characters."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return clean_text(value)


#: How many unknown keys are reported at most (a body of a million keys is one refusal, not a
#: million validation errors).
MAX_REPORTED_ERRORS = 20


def unknown_keys(
    model: type[BaseModel], data: Any, prefix: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Up to ``MAX_REPORTED_ERRORS`` keys of ``data`` that ``model`` (and its nested ``Strict``
    models) does not know, as validation errors — checked before pydantic builds one error per key."""
    if not isinstance(data, dict):
        return []
    found: list[dict[str, Any]] = []
    for key, value in data.items():
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            found.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("body", *prefix, str(key)[:64]),
                    "msg": "Extra inputs are not permitted",
                    "input": None,
                }
            )
        else:
            nested = field.annotation
            for candidate in getattr(nested, "__args__", (nested,)):
                if isinstance(candidate, type) and issubclass(candidate, Strict):
                    found.extend(unknown_keys(candidate, value, (*prefix, key)))
                    break
        if len(found) >= MAX_REPORTED_ERRORS:
            return found[:MAX_REPORTED_ERRORS]
    return found


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
    domains: Annotated[list[Annotated[str, Field(max_length=253)]], Field(max_length=50)] | None = (
        None
    )
    home_url: Annotated[str, Field(max_length=2048)] | None = None
    content_categories: (
        Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=20)] | None
    ) = None
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
