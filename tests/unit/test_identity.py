from __future__ import annotations

from datetime import date

import pytest

from beiandesk.domain.identity import (
    check_email,
    check_id_number,
    check_mobile,
    check_principal,
    check_resident_id,
    check_uscc,
    normalize_mobile,
)
from beiandesk.domain.model import Principal


def codes(problems):
    return [p.code for p in problems]


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the GB 11643 example number
        "11010519491231002x",  # lower-case x is the same check character
        "44030519900101123X",
        "310104198503152023",
        "4403 0519 9001 0112 3X",  # spaces as people paste them
        "510107200806010010",
    ],
)
def test_valid_resident_ids_pass(number):
    assert check_resident_id(number, "f") == []


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check digit
        "44030519900101123",  # 17 characters
        "4403051990010112301",  # 19 characters
        "110105201002290018",  # 2010-02-29 does not exist (check digit right)
        "810000199001010019",  # Hong Kong code: a residence permit, not a resident ID
        "710000199001010015",  # 71 台湾 is never printed on a 居民身份证
        "910100199001010018",  # 9x is the foreigner's permanent residence card
        "44030519900101123Y",
        "",
        "440305900101123",  # first-generation 15-digit number (expired 2013)
    ],
)
def test_invalid_resident_ids_fail(number):
    problems = check_resident_id(number, "subject.id_number")
    assert codes(problems) == ["id_number_invalid"]
    assert problems[0].field == "subject.id_number"
    assert problems[0].is_error


def test_future_birth_date_is_invalid_when_today_is_known():
    assert check_resident_id("440305201206150030", "f") == []
    assert codes(check_resident_id("440305201206150030", "f", today=date(2012, 6, 1))) == [
        "id_number_invalid"
    ]


def test_age_boundary_eighteenth_birthday_passes():
    born_2008_06_01 = "510107200806010010"
    assert check_resident_id(born_2008_06_01, "f", today=date(2026, 6, 1), min_age=18) == []
    day_before = check_resident_id(born_2008_06_01, "f", today=date(2026, 5, 31), min_age=18)
    assert codes(day_before) == ["principal_underage"]
    assert day_before[0].extra["min_age"] == 18


def test_province_minimum_age_is_a_parameter():
    born_2009_06_01 = "37020220090601004X"
    today = date(2026, 11, 27)  # 17 years old
    assert codes(check_resident_id(born_2009_06_01, "f", today=today, min_age=18)) == [
        "principal_underage"
    ]
    assert check_resident_id(born_2009_06_01, "f", today=today, min_age=17) == []
    assert codes(check_resident_id(born_2009_06_01, "f", today=today)) == [
        "principal_underage"
    ]  # default 18


def test_residence_permits_and_other_documents():
    assert check_id_number("hmt_residence_permit", "810000199001010019", "f") == []
    assert check_id_number("hmt_residence_permit", "830000198808080025", "f") == []
    assert codes(check_id_number("hmt_residence_permit", "44030519900101123X", "f")) == [
        "id_number_invalid"
    ]
    assert check_id_number("foreign_permanent_resident", "910100199001010018", "f") == []
    assert check_id_number("passport", "E12345678", "f") == []
    assert codes(check_id_number("passport", "E1", "f")) == ["id_number_invalid"]
    assert codes(check_id_number("passport", "", "f")) == ["id_number_invalid"]


@pytest.mark.parametrize(
    "code", ["91310104MA1FL8XQ36", "914403001922038216", "11100000000013127D", "91310104ma1fl8xq36"]
)
def test_valid_credit_codes(code):
    assert check_uscc(code, "subject.id_number") == []


@pytest.mark.parametrize(
    "code", ["91310104MA1FL8XQ37", "91310104MA1FL8XQ3", "", "ABCDEFGHIJKLMNOPQR"]
)
def test_invalid_credit_codes(code):
    problems = check_uscc(code, "subject.id_number")
    assert codes(problems) == ["uscc_invalid"]
    assert problems[0].field == "subject.id_number"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13912345678", "13912345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("0086-139-1234-5678", "13912345678"),
        ("86 13912345678", "13912345678"),
        ("(139) 1234-5678", "13912345678"),
    ],
)
def test_mobile_spellings_normalise(raw, normal):
    assert normalize_mobile(raw) == normal
    assert check_mobile(raw, "m") == []


@pytest.mark.parametrize(
    "raw", ["12912345678", "1391234567", "139123456789", "021-12345678", "", "+1 139 1234 5678"]
)
def test_invalid_mobiles(raw):
    assert codes(check_mobile(raw, "proposed.principal.mobile")) == ["mobile_invalid"]


@pytest.mark.parametrize(
    "email", ["liming@example.com", "a.b+c@sub.example.com.cn", "user@例子.中国"]
)
def test_valid_emails(email):
    assert check_email(email, "e") == []


@pytest.mark.parametrize(
    "email",
    [
        "",
        "liming",
        "liming@",
        "@example.com",
        "a@b",
        "a@@b.cn",
        "a b@c.cn",
        "a@example.123",
        "a..b@c.cn",
    ],
)
def test_invalid_emails(email):
    assert codes(check_email(email, "e")) == ["email_invalid"]


def test_principal_reports_each_field_under_its_prefix():
    p = Principal(name="", id_number="110105194912310021", mobile="123", email="x")
    problems = check_principal(p, "proposed.principal")
    assert [(x.code, x.field) for x in problems] == [
        ("principal_name_required", "proposed.principal.name"),
        ("id_number_invalid", "proposed.principal.id_number"),
        ("mobile_invalid", "proposed.principal.mobile"),
        ("email_invalid", "proposed.principal.email"),
    ]
    assert all(x.message and x.severity == "error" for x in problems)


def test_clean_principal_passes_with_age_check():
    p = Principal(
        name="王芳",
        id_number="310104198503152023",
        mobile="13812345678",
        email="wangfang@example.com",
    )
    assert check_principal(p, "subject.principal", today=date(2026, 11, 27), min_age=18) == []
