from __future__ import annotations

from datetime import date

import pytest

from beiandesk.domain.domain_facts import check_domain_facts, check_domains, normalize_holder
from beiandesk.domain.domains import (
    check_domain_form,
    check_domains_edit,
    check_suffix,
    normalize_domain,
    registrable_domain,
    to_ascii,
)
from beiandesk.domain.model import DomainFacts, Principal, Subject, SubjectKind

TODAY = date(2026, 11, 27)
LIMING = Principal("李明", "resident_id", "44030519900101123X", "13912345678", "liming@example.com")
WANGFANG = Principal("王芳", "resident_id", "310104198503152023", "13812345678", "wf@example.com")


def person(province="广东"):
    return Subject(
        0, 0, SubjectKind.personal, "李明", province, "resident_id", LIMING.id_number, "", LIMING
    )


def company(province="上海", uscc="91310104MA1FL8XQ36", legal_rep="王芳"):
    return Subject(
        0,
        0,
        SubjectKind.enterprise,
        "上海云帆信息科技有限公司",
        province,
        "uscc",
        uscc,
        "",
        WANGFANG,
        legal_rep,
    )


def facts(holder="李明", expires=date(2028, 1, 1), **kw):
    return DomainFacts(
        registrar_domestic=kw.get("domestic", True),
        real_name_verified=kw.get("verified", True),
        holder=holder,
        expires_at=expires,
    )


def codes(problems):
    return [p.code for p in problems]


# --- normalisation, IDN, registrable domain -------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Example.CN", "example.cn"),
        ("example.cn.", "example.cn"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("例子。中国", "xn--fsqu00a.xn--fiqs8s"),  # ideographic full stop from a Chinese IME
        ("  云帆科技.中国 ", "XN--9KQS09AILDFW4A.XN--FIQS8S"),
    ],
)
def test_normalised_forms_are_equal(a, b):
    assert normalize_domain(a) == normalize_domain(b)


@pytest.mark.parametrize(
    ("domain", "registrable"),
    [
        ("www.example.com.cn", "example.com.cn"),
        ("example.gov.cn", "example.gov.cn"),
        ("a.b.example.net.cn", "example.net.cn"),
        ("例子.政务", "xn--fsqu00a.xn--zfr164b"),
        ("www.sh.政务.cn", "sh.xn--zfr164b.cn"),  # 政务.cn is not in the PSL; our list knows it
        ("jijin.公益.cn", "jijin.xn--55qw42g.cn"),
        ("blog.mingyuan-notes.cn", "mingyuan-notes.cn"),
        ("xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
    ],
)
def test_registrable_domain_multi_level_suffixes(domain, registrable):
    assert registrable_domain(domain) == registrable


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "example",
        "http://example.cn",
        "example.cn/path",
        "exa mple.cn",
        "-bad.cn",
        "bad_.cn",
        "192.168.1.1",
        "a" * 64 + ".cn",
        "example.cn:8080",
    ],
)
def test_syntax_errors(bad):
    assert codes(check_domain_form(bad, "f")) == ["domain_invalid"]


def test_only_the_registrable_domain_is_filed():
    problems = check_domain_form("www.example.com.cn", "proposed.domains[0]")
    assert codes(problems) == ["domain_invalid"]
    assert "example.com.cn" in problems[0].message
    assert codes(check_domain_form("com.cn", "f")) == ["domain_invalid"]
    assert check_domain_form("example.com.cn", "f") == []


# --- removal-only edits ----------------------------------------------------------------------


def test_removing_a_domain_is_allowed():
    assert check_domains_edit(["a.cn", "b.com"], ["a.cn"]) == []


def test_respelling_a_filed_domain_is_not_an_addition():
    current = ["例子.中国", "Example.CN"]
    assert check_domains_edit(current, ["XN--FSQU00A.XN--FIQS8S", "example.cn."]) == []


def test_adding_a_domain_is_refused_with_its_index():
    problems = check_domains_edit(["a.cn"], ["a.cn", "new.cn"])
    assert [(p.code, p.field) for p in problems] == [
        ("domain_add_not_allowed", "proposed.domains[1]")
    ]


def test_editing_a_domain_is_an_addition():
    assert codes(check_domains_edit(["a.cn"], ["a.com.cn"])) == ["domain_add_not_allowed"]


def test_at_least_one_domain_must_remain():
    problems = check_domains_edit(["a.cn"], [])
    assert [(p.code, p.field) for p in problems] == [("domain_required", "proposed.domains")]
    assert codes(check_domains_edit(["a.cn"], ["  "])) == ["domain_invalid", "domain_required"]


# --- suffixes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["a.cn", "a.com.cn", "a.中国", "a.公司", "a.top", "a.xyz", "a.gd.cn", "a.公益", "a.公益.cn"],
)
def test_fileable_suffixes(domain):
    assert check_suffix(domain, "f", person()) == []


@pytest.mark.parametrize("domain", ["a.io", "a.me", "a.jp", "a.co.uk", "a.org"])
def test_suffixes_not_on_the_list(domain):
    assert codes(check_suffix(domain, "f", person())) == ["domain_suffix_not_fileable"]


def test_province_exclusion_beijing_refuses_asia():
    assert check_suffix("a.asia", "f", person("广东")) == []
    assert codes(check_suffix("a.asia", "f", person("北京"))) == ["domain_suffix_not_fileable"]


def test_tel_is_only_known_for_beijing():
    assert check_suffix("a.tel", "f", person("北京")) == []
    assert codes(check_suffix("a.tel", "f", person("广东"))) == ["domain_suffix_not_fileable"]


@pytest.mark.parametrize("domain", ["a.gov.cn", "a.政务", "a.政务.cn"])
def test_government_suffixes(domain):
    assert [(p.code, p.severity) for p in check_suffix(domain, "f", person())] == [
        ("domain_suffix_not_fileable", "error")
    ]
    assert [(p.code, p.severity) for p in check_suffix(domain, "f", company())] == [
        ("domain_suffix_not_fileable", "warning")
    ]
    assert check_suffix(domain, "f", company(uscc="11100000000013127D")) == []


# --- registry facts --------------------------------------------------------------------------


def test_clean_facts_pass():
    assert check_domain_facts("example.cn", "f", facts(), person(), TODAY) == []


def test_missing_facts_give_one_warning_never_an_error():
    problems = check_domain_facts("example.cn", "f", None, person(), TODAY)
    assert [(p.code, p.severity) for p in problems] == [("domain_facts_unavailable", "warning")]
    failed = check_domain_facts("example.cn", "f", DomainFacts(error="timeout"), person(), TODAY)
    assert [(p.code, p.severity) for p in failed] == [("domain_facts_unavailable", "warning")]
    partial = check_domain_facts("example.cn", "f", DomainFacts(holder="李明"), person(), TODAY)
    assert [(p.code, p.severity) for p in partial] == [("domain_facts_unavailable", "warning")]


def test_foreign_registrar_unverified_and_holder_mismatch():
    problems = check_domain_facts(
        "example.cn", "f", facts(holder="张三", domestic=False, verified=False), person(), TODAY
    )
    assert sorted(codes(problems)) == [
        "domain_holder_mismatch",
        "domain_not_real_name_verified",
        "domain_registrar_foreign",
    ]
    assert all(p.is_error for p in problems)


def test_holder_comparison_ignores_spaces_and_width_of_parentheses():
    subject = company()
    subject = Subject(
        0,
        0,
        SubjectKind.enterprise,
        "腾讯云计算（北京）有限责任公司",
        "北京",
        "uscc",
        subject.id_number,
        "",
        WANGFANG,
        "王芳",
    )
    assert (
        check_domain_facts(
            "a.cn", "f", facts(holder="腾讯云计算 (北京) 有限责任公司"), subject, TODAY
        )
        == []
    )


def test_legal_rep_as_holder_is_a_warning_except_in_ningxia():
    assert [
        (p.code, p.severity)
        for p in check_domain_facts("a.cn", "f", facts(holder="王芳"), company(), TODAY)
    ] == [("domain_holder_mismatch", "warning")]
    assert [
        (p.code, p.severity)
        for p in check_domain_facts("a.cn", "f", facts(holder="王芳"), company("宁夏"), TODAY)
    ] == [("domain_holder_mismatch", "error")]


@pytest.mark.parametrize(
    ("province", "expires", "expected"),
    [
        ("广东", date(2027, 2, 25), []),  # exactly 90 days left passes
        ("广东", date(2027, 2, 24), ["domain_expiring"]),  # 89
        ("上海", date(2027, 5, 26), []),  # exactly 180
        ("上海", date(2027, 5, 25), ["domain_expiring"]),  # 179
        ("上海", date(2027, 2, 25), ["domain_expiring"]),  # 90 is not enough in Shanghai
        ("广东", TODAY, ["domain_expiring"]),  # expires today: 0 days left
        ("广东", date(2026, 11, 26), ["domain_expired"]),
    ],
)
def test_validity_thresholds_per_province(province, expires, expected):
    subject = person(province)
    problems = check_domain_facts("a.cn", "f", facts(expires=expires), subject, TODAY)
    assert codes(problems) == expected
    assert all(p.is_error for p in problems)


def test_check_domains_looks_facts_up_by_registrable_domain_in_any_spelling():
    fs = {"例子.中国": facts()}
    assert check_domains(["XN--FSQU00A.XN--FIQS8S"], person(), TODAY, fs) == []
    assert codes(check_domains(["a.cn"], person(), TODAY, fs)) == ["domain_facts_unavailable"]
    assert codes(check_domains([], person(), TODAY, fs)) == ["domain_required"]


def test_normalize_holder():
    assert normalize_holder("上海云帆（科技） 有限公司") == normalize_holder(
        "上海云帆(科技)有限公司"
    )
    assert to_ascii("not a domain") is None


def test_province_may_be_given_by_full_name():
    beijing = Subject(
        0, 0, SubjectKind.personal, "李明", "北京市", "resident_id", LIMING.id_number, "", LIMING
    )
    assert codes(check_suffix("a.asia", "f", beijing)) == ["domain_suffix_not_fileable"]
    assert check_suffix("a.tel", "f", beijing) == []
    shanghai = person("上海市")
    assert codes(
        check_domain_facts("a.cn", "f", facts(expires=date(2027, 5, 25)), shanghai, TODAY)
    ) == ["domain_expiring"]


def test_facts_keyed_by_a_subdomain_still_apply_to_the_registrable_domain():
    assert check_domains(["example.com.cn"], person(), TODAY, {"WWW.Example.com.cn": facts()}) == []
