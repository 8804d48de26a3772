from __future__ import annotations

import pytest

from beiandesk.domain.materials import (
    MaterialContext,
    check_materials,
    required_materials,
    website_principal_is_legal_rep,
)
from beiandesk.domain.model import Principal, Subject, SubjectKind
from beiandesk.domain.provinces import material_rules

WANGFANG = Principal("王芳", "resident_id", "310104198503152023", "13812345678", "wf@example.com")
CHENHAO = Principal("陈浩", "resident_id", "310115199207083012", "13687654321", "ch@example.com")
LIMING = Principal("李明", "resident_id", "44030519900101123X", "13912345678", "lm@example.com")
LETTER_PROVINCES = ["天津", "上海", "安徽", "福建", "江西", "湖南", "湖北", "重庆", "四川", "贵州"]


def company(province="上海", legal_rep="王芳"):
    return Subject(
        0,
        0,
        SubjectKind.enterprise,
        "上海云帆信息科技有限公司",
        province,
        "uscc",
        "91310104MA1FL8XQ36",
        "",
        WANGFANG,
        legal_rep,
    )


def person(province="广东"):
    return Subject(
        0, 0, SubjectKind.personal, "李明", province, "resident_id", LIMING.id_number, "", LIMING
    )


def kinds(ctx):
    return [r.kind for r in required_materials(ctx)]


def test_personal_needs_id_card_only():
    assert kinds(MaterialContext(person(), LIMING, ["博客/个人空间"])) == [
        "id_card_front",
        "id_card_back",
    ]


def test_enterprise_with_legal_rep_as_principal():
    assert kinds(MaterialContext(company(), WANGFANG, ["企业官网"])) == [
        "id_card_front",
        "id_card_back",
        "business_license",
    ]


@pytest.mark.parametrize("province", LETTER_PROVINCES)
def test_authorization_letter_where_principal_is_not_legal_rep(province):
    assert "authorization_letter" in kinds(MaterialContext(company(province), CHENHAO))
    assert "authorization_letter" not in kinds(MaterialContext(company(province), WANGFANG))


@pytest.mark.parametrize("province", ["广东", "北京", "浙江", "江苏"])
def test_no_authorization_letter_elsewhere(province):
    assert "authorization_letter" not in kinds(MaterialContext(company(province), CHENHAO))


def test_legal_rep_falls_back_to_subject_principal_when_unrecorded():
    assert website_principal_is_legal_rep(company(legal_rep=""), WANGFANG)
    assert not website_principal_is_legal_rep(company(legal_rep=""), CHENHAO)
    assert website_principal_is_legal_rep(company(legal_rep="陈 浩"), CHENHAO)


def test_preapproval_and_guangdong_finance():
    assert "preapproval" in kinds(MaterialContext(company(), WANGFANG, ["新闻"]))
    assert "commitment_letter" in kinds(MaterialContext(company("广东"), WANGFANG, ["互联网金融"]))
    assert "commitment_letter" not in kinds(
        MaterialContext(company("上海"), WANGFANG, ["互联网金融"])
    )


def test_verification_form_is_data_but_not_required_by_default():
    assert "verification_form" in [r.kind for r in material_rules()]
    assert "verification_form" not in kinds(MaterialContext(company(), CHENHAO, ["新闻"]))


def test_every_material_rule_cites_a_source():
    assert all(r.source for r in material_rules())


def test_missing_materials_are_reported_with_kind():
    ctx = MaterialContext(company(), CHENHAO, ["企业官网"])
    problems = check_materials(ctx, frozenset({"id_card_front", "id_card_back"}))
    assert [(p.code, p.extra["kind"], p.field) for p in problems] == [
        ("material_missing", "business_license", "materials.business_license"),
        ("material_missing", "authorization_letter", "materials.authorization_letter"),
    ]
    assert problems[0].to_dict()["kind"] == "business_license"
    full = frozenset({"id_card_front", "id_card_back", "business_license", "authorization_letter"})
    assert check_materials(ctx, full) == []
