"""The pre-check: every offline rule on a subject + website draft, in one pure call.

The service builds a :class:`PrecheckInput` from the database (registry facts from the WHOIS
adapter, site problems from the probe); ``check-draft`` builds one from the draft JSON of
api.md §Draft file with ``draft_to_input`` (:mod:`beiandesk.domain.precheck_draft`). Sources
are cited on each rule it calls: identity, domains, domain_facts, names, resources, auth_codes,
materials; province data in ``data/province_rules.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from beiandesk.domain import auth_codes, identity
from beiandesk.domain.domain_facts import check_domains
from beiandesk.domain.domains import check_domains_edit
from beiandesk.domain.home_url import check_home_url
from beiandesk.domain.materials import MaterialContext, check_materials
from beiandesk.domain.model import (
    DomainFacts,
    Principal,
    Resource,
    Subject,
    SubjectKind,
    WebsiteInfo,
)
from beiandesk.domain.names import check_content_categories, check_website_name
from beiandesk.domain.problems import Problem, error, warning
from beiandesk.domain.provinces import find_province, min_principal_age
from beiandesk.domain.resources import check_resource

_EMPTY: Mapping[str, DomainFacts] = MappingProxyType({})


@dataclass(frozen=True)
class AuthCodeContext:
    """What the service knows of the code in ``resource.auth_code``: its record (None when no
    such code exists) and the website being changed (a code may already be this website's)."""

    code: auth_codes.AuthCode | None
    website_id: int | None = None


@dataclass(frozen=True)
class PrecheckInput:
    subject: Subject
    proposed: WebsiteInfo
    today: date
    current: WebsiteInfo | None = None
    resource: Resource | None = None
    domain_facts: Mapping[str, DomainFacts] = field(default_factory=lambda: _EMPTY)
    account_enterprise_verified: bool | None = None
    materials: frozenset[str] | None = None
    verification_passed: bool | None = None
    mobiles_of_other_subjects: frozenset[str] = frozenset()
    auth_code_context: AuthCodeContext | None = None
    site_problems: Sequence[Problem] = ()
    #: A change order must name its home page (the footer is checked there); a draft file for
    #: ``check-draft`` may leave it out, since the footer cannot be fetched offline anyway.
    home_url_required: bool = False


def run_precheck(inp: PrecheckInput) -> list[Problem]:
    """All problems of ``inp``: errors block submission, warnings inform. Identical problems
    (same code, field, severity and message) are reported once."""
    problems: list[Problem] = []
    problems += check_subject(inp)
    problems += check_website_principal(inp)
    problems += _domains(inp)
    problems += check_website_name(inp.proposed.name, inp.subject)
    if inp.home_url_required or inp.proposed.home_url.strip():
        problems += check_home_url(inp.proposed.home_url, inp.proposed.domains)
    problems += check_content_categories(
        inp.proposed.content_categories,
        inp.subject,
        preapproval_uploaded=inp.materials is not None and "preapproval" in inp.materials,
    )
    problems += check_resource(inp.resource, inp.today)
    problems += _auth_code(inp)
    if inp.materials is not None:
        ctx = MaterialContext(inp.subject, inp.proposed.principal, inp.proposed.content_categories)
        problems += check_materials(ctx, inp.materials)
    if inp.verification_passed is False:
        problems.append(
            error(
                "verification_missing",
                "网站负责人尚未通过核验：请上传符合要求的核验照片或视频。",
                "verification",
            )
        )
    problems += inp.site_problems
    return _dedupe(problems)


def check_subject(inp: PrecheckInput) -> list[Problem]:
    """The subject: a known province, a valid certificate number by kind, its principal."""
    s = inp.subject
    out: list[Problem] = []
    if find_province(s.province) is None:
        out.append(
            error(
                "province_invalid",
                f"省份「{s.province}」无法识别：请填写中国大陆省级行政区名称，如「广东」。",
                "subject.province",
            )
        )
    if not s.name.strip():
        out.append(
            error(
                "subject_name_required",
                "请填写主体名称（个人为姓名，单位为证件上的全称）。",
                "subject.name",
            )
        )
    if s.kind == SubjectKind.enterprise and s.id_type in ("uscc", ""):
        out += identity.check_uscc(s.id_number, "subject.id_number")
    else:
        out += identity.check_id_number(s.id_type, s.id_number, "subject.id_number")
    out += identity.check_principal(
        s.principal, "subject.principal", today=inp.today, min_age=min_principal_age(s.province)
    )
    out += _mobile_owner(s.principal, "subject.principal", inp.mobiles_of_other_subjects)
    return out


def personal_principal_rule(subject: Subject, principal: Principal) -> list[Problem]:
    """A personal subject's website principal is the subject principal; a website change cannot
    change who it is (product.md §Scenario rules: that needs a full 变更备案). Contact details of
    the same person may change."""
    if subject.kind == SubjectKind.personal and not _same_person(principal, subject.principal):
        return [
            error(
                "principal_change_requires_filing_change",
                "个人主体的网站负责人必须是主体负责人本人：网站变更不能更换负责人，如需更换请办理变更备案。",
                "proposed.principal",
            )
        ]
    return []


def check_website_principal(inp: PrecheckInput) -> list[Problem]:
    """The website principal: identity checks, and the personal-subject rule above."""
    s, p = inp.subject, inp.proposed.principal
    out = personal_principal_rule(s, p)
    if _same_record(p, s.principal):
        return out  # same person and contacts: already reported under subject.principal
    out += identity.check_principal(
        p, "proposed.principal", today=inp.today, min_age=min_principal_age(s.province)
    )
    out += _mobile_owner(p, "proposed.principal", inp.mobiles_of_other_subjects)
    return out


def _same_person(a: Principal, b: Principal) -> bool:
    return a.same_person(b) and a.name.strip() == b.name.strip()


def _same_record(a: Principal, b: Principal) -> bool:
    return (
        _same_person(a, b)
        and identity.normalize_mobile(a.mobile) == identity.normalize_mobile(b.mobile)
        and a.email.strip().lower() == b.email.strip().lower()
    )


def _mobile_owner(p: Principal, prefix: str, others: Iterable[str]) -> list[Problem]:
    """A mobile belongs to one subject only (research §(b) 4 [S5])."""
    if p.mobile and identity.normalize_mobile(p.mobile) in others:
        return [
            error(
                "mobile_used_by_other_subject",
                "该手机号码已被其他备案主体使用，一个手机号只能用于一个主体：请更换为本人的其他手机号码。",
                f"{prefix}.mobile",
            )
        ]
    return []


def _domains(inp: PrecheckInput) -> list[Problem]:
    out: list[Problem] = []
    skip: set[int] = set()
    if inp.current is not None:
        edit = check_domains_edit(inp.current.domains, inp.proposed.domains)
        out += edit
        skip = {
            i
            for i, d in enumerate(inp.proposed.domains)
            if f"proposed.domains[{i}]" in {p.field for p in edit}
        }
    rest = check_domains(inp.proposed.domains, inp.subject, inp.today, inp.domain_facts, skip=skip)
    if inp.current is not None:  # the change rule already said "keep at least one"
        rest = [p for p in rest if p.code != "domain_required"]
    return out + rest


def _auth_code(inp: PrecheckInput) -> list[Problem]:
    """Authorisation code on the resource (research §(b) 14 [S12]); see ``auth_codes``."""
    value = (inp.resource.auth_code if inp.resource else "").strip()
    if not value:
        return []
    out: list[Problem] = []
    if inp.account_enterprise_verified is False:
        out.append(
            error(
                "auth_code_requires_enterprise",
                "备案授权码只能由完成企业实名认证的账号生成和使用：请先完成企业认证。",
                "resource.auth_code",
            )
        )
    if inp.auth_code_context is None:
        out.append(
            warning(
                "auth_code_invalid",
                "暂未能核验备案授权码：提交时将核对授权码是否有效、未被其他网站使用。",
                "resource.auth_code",
            )
        )
        if len([d for d in inp.proposed.domains if d.strip()]) > 1:
            out.append(
                error(
                    "auth_code_invalid",
                    "使用备案授权码的网站只能有一个域名：请只保留一个域名。",
                    "resource.auth_code",
                )
            )
        return out
    ctx = inp.auth_code_context
    return out + auth_codes.check_code_use(
        value,
        ctx.code,
        website_id=ctx.website_id,
        domains=inp.proposed.domains,
        today=inp.today,
    )


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[tuple[str, str | None, str, str]] = set()
    out = []
    for p in problems:
        key = (p.code, p.field, p.severity, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
