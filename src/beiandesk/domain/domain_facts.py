"""Domain registry-facts rules (pure): expiry/validity, domestic registrar, real name, holder.

Sources: product.md §Rules ("Domain rules"); filing-rules-research.md §(b) rule 16. The facts come
from WHOIS/RDAP (the adapter) or a draft's ``domain_facts``; the minimum days left is province
data (``domain_min_days_left``). :func:`check_domains` combines these with the syntax, registrable
domain and suffix rules of :mod:`beiandesk.domain.domains`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date

from beiandesk.domain.domains import (
    check_domain_form,
    check_suffix,
    normalize_domain,
    registrable_domain,
    to_ascii,
    to_unicode,
)
from beiandesk.domain.model import DomainFacts, Subject, SubjectKind
from beiandesk.domain.problems import Problem, error, warning
from beiandesk.domain.provinces import domain_min_days_left, rule_value

# --- registry facts (WHOIS/RDAP, or a draft's domain_facts) ----------------------------------


def normalize_holder(name: str | None) -> str:
    """Compare holder names as people type them: NFKC (full-width parentheses and letters become
    half-width), no spaces, case-folded. ``上海云帆（科技）`` == ``上海云帆 (科技)``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or "")).casefold()


def _unverified(domain: str, field: str, what: str) -> Problem:
    return warning(
        "domain_facts_unavailable",
        f"暂未能核实域名「{domain}」的{what}：提交前请确认域名在境内注册商注册、已完成实名认证、"
        "持有者与备案主体一致且有效期充足。",
        field,
    )


def check_domain_facts(
    domain: str, field: str, facts: DomainFacts | None, subject: Subject, today: date
) -> list[Problem]:
    """Registry facts of a registrable domain (product.md §Domain rules; research §(b) 16).

    Domestic registrar, real-name verified, holder = subject, and registration valid with at
    least ``domain_min_days_left`` days left (province data: default 90, 上海 180 [S18]; the
    boundary passes). Expired is ``domain_expired``. Facts that are unknown (no look-up, a failed
    look-up, a ``None`` field) give one ``domain_facts_unavailable`` warning: never an error,
    never a silent pass.
    """
    shown = to_unicode(domain)
    if facts is None:
        return [_unverified(shown, field, "注册信息（未查询到 WHOIS/RDAP 结果）")]
    if facts.error:
        return [_unverified(shown, field, f"注册信息（查询失败：{facts.error}）")]
    out: list[Problem] = []
    unknown: list[str] = []
    out += _expiry(shown, field, facts.expires_at, subject.province, today, unknown)
    if facts.registrar_domestic is False:
        out.append(
            error(
                "domain_registrar_foreign",
                f"域名「{shown}」的注册商不是工信部许可的境内注册商：请先将域名转入境内注册商再备案。",
                field,
            )
        )
    elif facts.registrar_domestic is None:
        unknown.append("注册商")
    if facts.real_name_verified is False:
        out.append(
            error(
                "domain_not_real_name_verified",
                f"域名「{shown}」尚未完成实名认证：请在注册商处完成实名认证（约 3 个工作日同步到工信部）后再提交。",
                field,
            )
        )
    elif facts.real_name_verified is None:
        unknown.append("实名认证状态")
    if facts.holder:
        out += _holder(shown, field, facts.holder, subject)
    else:
        unknown.append("持有者")
    if unknown:
        out.append(_unverified(shown, field, "、".join(unknown)))
    return out


def _expiry(
    shown: str, field: str, expires_at: date | None, province: str, today: date, unknown: list[str]
) -> list[Problem]:
    if expires_at is None:
        unknown.append("到期日")
        return []
    if expires_at < today:
        return [
            error(
                "domain_expired",
                f"域名「{shown}」已于 {expires_at.isoformat()} 过期：请先续费。",
                field,
            )
        ]
    minimum = domain_min_days_left(province)
    left = (expires_at - today).days
    if left < minimum:
        return [
            error(
                "domain_expiring",
                f"域名「{shown}」剩余有效期 {left} 天，{province or '本省'}要求至少 {minimum} 天：请续费后再提交。",
                field,
                days_left=left,
                min_days=minimum,
            )
        ]
    return []


def _holder(shown: str, field: str, holder: str, subject: Subject) -> list[Problem]:
    """Holder = subject; for an organisation the legal rep may hold it with a proof form in
    some provinces (since 2018-01-01 [S17]) but not in 宁夏 (province_rules.json)."""
    if normalize_holder(holder) == normalize_holder(subject.name):
        return []
    officers = {normalize_holder(subject.legal_rep), normalize_holder(subject.principal.name)} - {
        ""
    }
    if (
        subject.kind == SubjectKind.enterprise
        and normalize_holder(holder) in officers
        and not rule_value(subject.province, "holder_must_be_organisation", False)
    ):
        return [
            warning(
                "domain_holder_mismatch",
                f"域名「{shown}」的持有者「{holder}」是单位负责人而非单位本身：部分省份需上传域名持有者证明，"
                "建议将域名持有者变更为「" + subject.name + "」。",
                field,
            )
        ]
    return [
        error(
            "domain_holder_mismatch",
            f"域名「{shown}」的持有者「{holder}」与备案主体「{subject.name}」不一致：请在注册商处将持有者变更为备案主体"
            "（并重新实名认证）后再提交。",
            field,
        )
    ]


def check_domains(
    domains: Sequence[str],
    subject: Subject,
    today: date,
    facts: Mapping[str, DomainFacts],
    field: str = "proposed.domains",
    *,
    skip: AbstractSet[int] = frozenset(),
) -> list[Problem]:
    """Every domain rule on a website's domain list (the change-only rule is separate).
    Indexes in ``skip`` (already refused, e.g. an addition in a change) are not checked again."""
    out: list[Problem] = []
    if not [d for d in domains if (d or "").strip()]:
        return [error("domain_required", "网站至少需要一个域名。", field)]
    # Facts are keyed by registrable domain; accept any spelling (Unicode, case, www.).
    by_ascii = {(registrable_domain(k) or normalize_domain(k)): v for k, v in facts.items()}
    for i, domain in enumerate(domains):
        if i in skip:
            continue
        f = f"{field}[{i}]"
        form = check_domain_form(domain, f)
        out += form
        if any(p.is_error for p in form) and to_ascii(domain) is None:
            continue
        reg = registrable_domain(domain)
        if reg is None:
            continue
        out += check_suffix(domain, f, subject)
        out += check_domain_facts(reg, f, by_ascii.get(reg), subject, today)
    return out
