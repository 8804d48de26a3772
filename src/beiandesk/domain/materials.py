"""Materials required by subject kind, province and content (pure, data-driven).

Sources: filing-rules-research.md §(e) (materials by subject type [S27][S32]), §(b) 23
(前置审批; 广东 internet finance 承诺书 [S19b]) and §(b) 25 (网站负责人授权书 where the website
principal is not the legal representative, in 天津, 上海, 安徽, 福建, 江西, 湖南, 湖北, 重庆,
四川, 贵州 [S5]). Which kind is needed where lives in ``data/province_rules.json``
(``materials``); this module only evaluates the ``when`` conditions:

- ``always``; ``never`` (kept as data, e.g. the 核验单, which is electronic now);
- ``website_principal_not_legal_rep``; ``preapproval_category``; ``finance_category``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from beiandesk.domain.domain_facts import normalize_holder
from beiandesk.domain.model import Principal, Subject, SubjectKind
from beiandesk.domain.names import finance_categories, preapproval_categories
from beiandesk.domain.problems import Problem, error
from beiandesk.domain.provinces import MaterialRule, find_province, material_rules


@dataclass(frozen=True)
class MaterialContext:
    subject: Subject
    website_principal: Principal
    content_categories: Sequence[str] = ()


def website_principal_is_legal_rep(subject: Subject, principal: Principal) -> bool:
    """Is the website principal the legal representative? By name against ``legal_rep`` when
    the subject records one; otherwise the subject principal stands in for the legal rep (most
    provinces require the enterprise subject principal to be the legal rep, research §(c))."""
    if subject.legal_rep.strip():
        return normalize_holder(subject.legal_rep) == normalize_holder(principal.name)
    return principal.same_person(subject.principal)


_CONDITIONS: dict[str, Callable[[MaterialContext], bool]] = {
    "always": lambda c: True,
    "never": lambda c: False,
    "website_principal_not_legal_rep": lambda c: (
        not website_principal_is_legal_rep(c.subject, c.website_principal)
    ),
    "preapproval_category": lambda c: bool(preapproval_categories(c.content_categories)),
    "finance_category": lambda c: bool(finance_categories(c.content_categories)),
}


def _applies(rule: MaterialRule, ctx: MaterialContext) -> bool:
    kind = SubjectKind(ctx.subject.kind).value
    if kind not in rule.subject_kinds:
        return False
    if rule.provinces is not None:
        province = find_province(ctx.subject.province)
        if province is None or province.name not in rule.provinces:
            return False
    condition = _CONDITIONS.get(rule.when)
    if condition is None:  # an unknown condition in the data: require nothing rather than guess
        return False
    return condition(ctx)


def required_materials(ctx: MaterialContext) -> list[MaterialRule]:
    """The material kinds this subject, province and website need, in data order."""
    return [r for r in material_rules() if _applies(r, ctx)]


def check_materials(
    ctx: MaterialContext, uploaded: frozenset[str], field: str = "materials"
) -> list[Problem]:
    """``material_missing`` (with ``kind``) for each required kind not uploaded."""
    return [
        error(
            "material_missing",
            f"缺少材料：{r.label}。请上传后再提交。",
            f"{field}.{r.kind}",
            kind=r.kind,
        )
        for r in required_materials(ctx)
        if r.kind not in uploaded
    ]
