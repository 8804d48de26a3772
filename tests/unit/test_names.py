from __future__ import annotations

import pytest

from beiandesk.domain.model import Principal, Subject, SubjectKind
from beiandesk.domain.names import check_content_categories, check_website_name

LIMING = Principal("李明", "resident_id", "44030519900101123X", "13912345678", "liming@example.com")
PERSON = Subject(
    0, 0, SubjectKind.personal, "李明", "广东", "resident_id", LIMING.id_number, "", LIMING
)
COMPANY = Subject(
    0,
    0,
    SubjectKind.enterprise,
    "上海云帆信息科技有限公司",
    "上海",
    "uscc",
    "91310104MA1FL8XQ36",
    "",
    LIMING,
    "李明",
)
STATE_BODY = Subject(
    0,
    0,
    SubjectKind.enterprise,
    "某市人民政府办公室",
    "广东",
    "uscc",
    "11100000000013127D",
    "",
    LIMING,
)
PINGAN = Subject(
    0,
    0,
    SubjectKind.enterprise,
    "中国平安保险（集团）股份有限公司",
    "广东",
    "uscc",
    "914403001922038216",
    "",
    LIMING,
)


def errors(problems):
    return [p.code for p in problems if p.is_error]


def warnings(problems):
    return [p.code for p in problems if not p.is_error]


@pytest.mark.parametrize(
    "name",
    ["明远技术笔记", "我的摄影小站", "美食分享记", "PHP开发笔记", "ABC的研发日志", "时光 旅行日记"],
)
def test_normal_personal_names_pass_without_any_problem(name):
    assert check_website_name(name, PERSON) == []


@pytest.mark.parametrize("name", ["云帆科技官网", "云帆开发者文档中心", "云帆在线商城"])
def test_normal_organisation_names_pass(name):
    assert check_website_name(name, COMPANY) == []


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "name_too_short"),
        ("笔记", "name_too_short"),
        ("12345", "name_only_digits_or_latin"),
        ("MyBlog", "name_only_digits_or_latin"),
        ("abc 123", "name_only_digits_or_latin"),
        ("example.cn", "name_is_domain"),
        ("www.mingyuan-notes.cn", "name_is_domain"),
        ("明远笔记.中国", "name_is_domain"),
        ("明远!技术笔记", "name_special_symbol"),
        ("《明远》笔记", "name_special_symbol"),
        ("明远-技术笔记", "name_special_symbol"),
        ("中国技术笔记", "name_reserved_word"),
        ("国家地理爱好者", "name_reserved_word"),
        ("人民美食汇", "name_reserved_word"),
        ("广东省", "name_reserved_word"),
        ("彩票分析站", "name_reserved_word"),
    ],
)
def test_name_rules_for_everyone(name, code):
    assert code in errors(check_website_name(name, PERSON))
    assert code in errors(check_website_name(name, COMPANY))


def test_problems_carry_field_and_chinese_message():
    [p] = check_website_name("MyBlog", PERSON, field="proposed.name")
    assert p.field == "proposed.name" and "名称" in p.message


def test_state_words_allowed_for_state_bodies_and_in_own_registered_name():
    assert check_website_name("中国政务服务网", STATE_BODY) == []
    assert check_website_name("中国平安官网", PINGAN) == []
    assert "name_reserved_word" in errors(check_website_name("中华平安官网", PINGAN))


@pytest.mark.parametrize(
    "name", ["明远科技有限公司", "明远集团官网", "技术交流论坛", "明远企业之家"]
)
def test_personal_site_may_not_look_like_an_organisation(name):
    assert "name_personal_forbidden_word" in errors(check_website_name(name, PERSON))
    assert "name_personal_forbidden_word" not in errors(check_website_name(name, COMPANY))


def test_personal_site_named_after_the_person_is_refused():
    problems = check_website_name("李 明", PERSON)
    assert "name_personal_forbidden_word" in errors(problems)


def test_name_that_merely_looks_like_a_person_is_only_a_warning():
    problems = check_website_name("王小明", PERSON)
    assert errors(problems) == []
    assert warnings(problems) == ["name_personal_forbidden_word"]


def test_words_to_avoid_are_warnings():
    problems = check_website_name("明远技术社区", PERSON)
    assert errors(problems) == [] and warnings(problems) == ["name_personal_forbidden_word"]


@pytest.mark.parametrize(
    "category",
    [
        "新闻",
        "出版",
        "教育",
        "医疗保健",
        "药品和医疗器械",
        "文化",
        "广播电影电视节目",
        "电子公告",
        "网络游戏",
        "在线教育",
    ],
)
def test_preapproval_categories(category):
    problems = check_content_categories(["企业官网", category], COMPANY)
    assert [(p.code, p.field) for p in problems] == [
        ("preapproval_required", "proposed.content_categories[1]")
    ]
    assert check_content_categories([category], COMPANY, preapproval_uploaded=True) == []
    # a person cannot obtain a 前置审批 at all
    assert errors(check_content_categories([category], PERSON, preapproval_uploaded=True)) == [
        "preapproval_required"
    ]


@pytest.mark.parametrize("category", ["企业官网", "博客/个人空间", "综合门户", "网上购物"])
def test_categories_without_preapproval(category):
    assert check_content_categories([category], COMPANY) == []
    assert check_content_categories([category], PERSON) == []
