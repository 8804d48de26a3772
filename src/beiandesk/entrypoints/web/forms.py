"""The website-information form: its values, the patch it sends, where each problem shows.

The patch goes through the API's own request schema (``ProposedPatch``), so the console accepts
exactly what the API accepts; the rules then run in the services.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from beiandesk.domain.problems import Problem, error
from beiandesk.entrypoints.api.schemas import ProposedPatch

PRINCIPAL_KEYS = ("name", "id_type", "id_number", "mobile", "email")
RESOURCE_KEYS = (
    "kind",
    "region",
    "public_ip",
    "billing",
    "purchased_at",
    "expires_at",
    "instance_id",
    "auth_code",
)
#: Where problems are shown: one slot per input (problem ``field`` values of the rules), plus a
#: general slot at the top of the form for anything without an input of its own.
SLOTS = (
    ("proposed.name", "proposed.domains", "proposed.home_url", "proposed.content_categories")
    + tuple(f"proposed.principal.{k}" for k in PRINCIPAL_KEYS)
    + ("proposed.principal",)
    + tuple(f"resource.{k}" for k in RESOURCE_KEYS)
    + ("resource", "general")
)
_ALIASES = {"proposed.resource": "resource"}


def slot_id(slot: str) -> str:
    return "p-" + slot.replace(".", "-").replace("_", "-")


def slot_of(field: str | None) -> str:
    """The nearest slot for a problem's field: ``proposed.domains[1]`` → ``proposed.domains``."""
    f = (field or "").split("[")[0]
    for old, new in _ALIASES.items():
        if f == old or f.startswith(old + "."):
            f = new + f[len(old) :]
    while f:
        if f in SLOTS:
            return f
        f = f.rpartition(".")[0]
    return "general"


def grouped(problems: list[Problem]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(slot_of(p.field), []).append(p)
    return out


def values_from_info(info: dict[str, Any]) -> dict[str, Any]:
    """Form values from a (masked) website snapshot of ``views.info``."""
    return {
        "name": info["name"],
        "domains": list(info["domains"]),
        "home_url": info["home_url"],
        "content_categories": list(info["content_categories"]),
        "principal": {k: info["principal"].get(k) or "" for k in PRINCIPAL_KEYS},
        "resource": {k: info["resource"].get(k) or "" for k in RESOURCE_KEYS},
    }


def values_from_form(data: FormData) -> dict[str, Any]:
    """What the person typed, to show it again (and to check it) without saving."""

    def text(key: str, limit: int = 2048) -> str:
        value = data.get(key)
        return value.strip()[:limit] if isinstance(value, str) else ""

    def many(key: str) -> list[str]:
        return [v.strip()[:253] for v in data.getlist(key) if isinstance(v, str) and v.strip()]

    return {
        "name": text("name", 200),
        "domains": many("domains"),
        "home_url": text("home_url"),
        "content_categories": many("content_categories"),
        "principal": {k: text(f"principal_{k}", 254) for k in PRINCIPAL_KEYS},
        "resource": {k: text(f"resource_{k}", 64) for k in RESOURCE_KEYS},
    }


def patch_of(values: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The partial ``proposed`` object for ``update_change``, or the form's own problems."""
    # An empty date means "none"; an empty type choice means "keep the current one".
    resource = {
        k: (v or None) if k in ("purchased_at", "expires_at") else v
        for k, v in values["resource"].items()
        if v or k != "kind"
    }
    raw = {**values, "resource": resource}
    try:
        patch = ProposedPatch.model_validate(raw)
    except ValidationError as exc:
        return {}, [_form_problem(e) for e in exc.errors()[:10]]
    return patch.model_dump(exclude_unset=True, mode="json"), []


def _form_problem(err: Any) -> Problem:
    loc = [str(x) for x in err.get("loc", ()) if not isinstance(x, int)]
    field = ".".join(["resource", *loc[1:]] if loc[:1] == ["resource"] else ["proposed", *loc])
    kind = err.get("type", "")
    if "date" in kind:
        message = "日期格式不正确，请按 年-月-日 填写，例如 2026-01-05。"
    elif "too_long" in kind:
        message = "内容过长，请缩短后再保存。"
    elif kind in ("literal_error", "enum"):
        message = "请从列表中选择。"
    else:
        message = "取值不正确，请检查后重新填写。"
    return error("invalid_request", message, field)
