"""The draft file of api.md §Draft file (``check-draft``), parsed into a :class:`PrecheckInput`.

Pure: no I/O (the CLI reads the file) and no clock (``today`` comes from the draft or the
caller). A draft whose shape is wrong raises :class:`DraftError` with a Chinese message; values
a rule can judge are left to :func:`beiandesk.domain.precheck.run_precheck`.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from beiandesk.domain import identity
from beiandesk.domain.model import (
    DomainFacts,
    Principal,
    Resource,
    Subject,
    SubjectKind,
    WebsiteInfo,
)
from beiandesk.domain.precheck import PrecheckInput

# --- the draft file of api.md (check-draft) ---------------------------------------------------


class DraftError(ValueError):
    """A draft whose shape is wrong (not a value a rule can judge). The message is Chinese."""


def draft_to_input(draft: object, today: date | None = None) -> PrecheckInput:
    """Parse the api.md draft JSON. ``today``: the draft's own ``today`` wins, else this argument
    (the CLI passes the local date); without either the draft is refused (rules are pure)."""
    if not isinstance(draft, dict):
        raise DraftError("草稿必须是一个 JSON 对象。")
    subject = _subject(_obj(draft, "subject", required=True))
    current_d = _obj(draft, "current")
    proposed_d = _obj(draft, "proposed", required=True)
    current = _website(current_d, "current", subject.principal) if current_d is not None else None
    proposed = _website(
        proposed_d,
        "proposed",
        (current or _website({}, "", subject.principal)).principal,
        base=current,
    )
    resource_d = _obj(draft, "resource")
    if resource_d is None and isinstance(proposed_d.get("resource"), dict):
        resource_d = proposed_d["resource"]
    resource = (
        _parse("resource", lambda: Resource.from_dict(resource_d))
        if resource_d is not None
        else None
    )
    facts_d = _obj(draft, "domain_facts") or {}
    facts = {str(k): _facts(str(k), v) for k, v in facts_d.items()}
    day = _date_of(draft.get("today"), "today") or today
    if day is None:
        raise DraftError("草稿缺少 today（YYYY-MM-DD）。")
    return PrecheckInput(
        subject=subject,
        proposed=proposed,
        today=day,
        current=current,
        resource=resource,
        domain_facts=MappingProxyType(facts),
        account_enterprise_verified=_opt_bool(draft, "account_enterprise_verified"),
        materials=frozenset(_str_list(draft, "materials"))
        if draft.get("materials") is not None
        else None,
        verification_passed=_opt_bool(draft, "verification_passed"),
        mobiles_of_other_subjects=frozenset(
            identity.normalize_mobile(m) for m in _str_list(draft, "mobiles_of_other_subjects")
        ),
    )


def _obj(d: dict, key: str, *, required: bool = False) -> dict | None:
    v = d.get(key)
    if v is None:
        if required:
            raise DraftError(f"草稿缺少「{key}」对象。")
        return None
    if not isinstance(v, dict):
        raise DraftError(f"「{key}」必须是 JSON 对象。")
    return v


def _parse(where: str, build):  # type: ignore[no-untyped-def]
    try:
        return build()
    except (ValueError, TypeError, AttributeError) as exc:
        # The builders' own words are Python's English ("Invalid isoformat string"): say only
        # where the shape is wrong, unless the message is already ours (Chinese).
        said = str(exc)
        detail = f"：{said}" if any("\u4e00" <= ch <= "\u9fff" for ch in said) else "（字段类型或取值不对，格式见 api.md §Draft file）"
        raise DraftError(f"「{where}」格式不正确{detail}") from exc


def _date_of(v: object, where: str) -> date | None:
    if v is None or v == "":
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError as exc:
        raise DraftError(f"「{where}」不是有效日期（应为 YYYY-MM-DD）：{v}") from exc


def _str_list(d: dict, key: str) -> list[str]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise DraftError(f"「{key}」必须是字符串数组。")
    return v


def _opt_bool(d: dict, key: str) -> bool | None:
    v = d.get(key)
    if v is not None and not isinstance(v, bool):
        raise DraftError(f"「{key}」必须是 true 或 false。")
    return v


def _principal(v: object, where: str) -> Principal:
    if not isinstance(v, dict):
        raise DraftError(f"「{where}」必须是 JSON 对象。")
    for key in ("name", "id_type", "id_number", "mobile", "email"):
        if v.get(key) is not None and not isinstance(v[key], str):
            raise DraftError(f"「{where}.{key}」必须是字符串。")
    return Principal.from_dict(v)


def _subject(d: dict) -> Subject:
    kind = d.get("kind")
    if kind not in (SubjectKind.personal.value, SubjectKind.enterprise.value):
        raise DraftError("「subject.kind」必须是 personal 或 enterprise。")
    for key in ("name", "province", "id_type", "id_number", "legal_rep"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise DraftError(f"「subject.{key}」必须是字符串。")
    principal = _principal(d.get("principal") or {}, "subject.principal")
    default_type = "uscc" if kind == "enterprise" else "resident_id"
    return Subject(
        id=0,
        account_id=0,
        kind=SubjectKind(kind),
        name=d.get("name") or "",
        province=d.get("province") or "",
        id_type=d.get("id_type") or default_type,
        id_number=d.get("id_number") or "",
        filing_number=str(d.get("filing_number") or ""),
        principal=principal,
        legal_rep=d.get("legal_rep") or "",
    )


def _website(
    d: dict, where: str, default_principal: Principal, base: WebsiteInfo | None = None
) -> WebsiteInfo:
    """A website object; a ``proposed`` given with a ``current`` is a patch on it (model.merged)."""
    for key in ("domains", "content_categories"):
        if d.get(key) is not None and (
            not isinstance(d[key], list) or not all(isinstance(x, str) for x in d[key])
        ):
            raise DraftError(f"「{where}.{key}」必须是字符串数组。")
    for key in ("name", "home_url"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise DraftError(f"「{where}.{key}」必须是字符串。")
    if d.get("principal") is not None:
        _principal(d["principal"], f"{where}.principal")
    if base is not None:
        return _parse(where, lambda: base.merged(d))
    info = _parse(where, lambda: WebsiteInfo.from_dict(d))
    if d.get("principal") is None:
        info = WebsiteInfo(
            info.name,
            info.domains,
            info.home_url,
            default_principal,
            info.content_categories,
            info.resource,
        )
    return info


def _facts(domain: str, v: object) -> DomainFacts:
    if not isinstance(v, dict):
        raise DraftError(f"「domain_facts.{domain}」必须是 JSON 对象。")
    for key in ("registrar_domestic", "real_name_verified"):
        if v.get(key) is not None and not isinstance(v[key], bool):
            raise DraftError(f"「domain_facts.{domain}.{key}」必须是 true、false 或 null。")
    for key in ("holder", "registrar", "source", "error"):
        if v.get(key) is not None and not isinstance(v[key], str):
            raise DraftError(f"「domain_facts.{domain}.{key}」必须是字符串。")
    for key in ("expires_at", "registered_at"):
        _date_of(v.get(key), f"domain_facts.{domain}.{key}")
    return _parse(f"domain_facts.{domain}", lambda: DomainFacts.from_dict(v))
