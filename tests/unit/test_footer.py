"""The footer rule on the markups real sites use (domain/footer.py)."""

from __future__ import annotations

import pytest

from beiandesk.domain.footer import (
    check_footer,
    find_filing_numbers,
    normalize_text,
    parse_filing_number,
)

WEBSITE_NO = "粤ICP备20260001号-1"
LINK = '<a href="https://beian.miit.gov.cn/" target="_blank">{}</a>'


def page(footer: str, head: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>明远技术笔记</title>{head}"
            f"</head><body><main><h1>文章</h1><p>正文内容。</p></main>"
            f"<footer class='footer'>{footer}</footer></body></html>")


def codes(html: str, expected: str = WEBSITE_NO) -> list[str]:
    return [p.code for p in check_footer(html, expected)]


# --- clean footers: no problem at all -----------------------------------------------------------

CLEAN = {
    "plain link": LINK.format(WEBSITE_NO),
    "http, no slash": f'<a href="http://beian.miit.gov.cn">{WEBSITE_NO}</a>',
    "uppercase host": f'<a href="HTTPS://BEIAN.MIIT.GOV.CN/">{WEBSITE_NO}</a>',
    "spa path": f'<a href="https://beian.miit.gov.cn/#/Integrated/index">{WEBSITE_NO}</a>',
    "scheme-relative": f'<a href="//beian.miit.gov.cn/">{WEBSITE_NO}</a>',
    "whitespace in href": f'<a href="\n  https://beian.miit.gov.cn/ ">{WEBSITE_NO}</a>',
    "full-width digits and dash": LINK.format("粤ICP备２０２６０００１号－１"),
    "spaces around parts": LINK.format("粤ICP备 20260001号 - 1"),
    "nbsp and ideographic space": LINK.format("粤\u00a0ICP备\u300020260001号&nbsp;-&nbsp;1"),
    "zero-width characters": LINK.format("粤ICP\u200b备2026\u200d0001号\ufeff-1"),
    "lowercase icp": LINK.format("粤icp备20260001号-1"),
    "en dash": LINK.format("粤ICP备20260001号–1"),
    "em dash": LINK.format("粤ICP备20260001号—1"),
    "non-breaking hyphen": LINK.format("粤ICP备20260001号‑1"),
    "split across spans": '<a href="https://beian.miit.gov.cn/"><span>粤ICP备</span>'
                          '<span>20260001号-1</span></a>',
    "split before suffix": '<span>粤ICP备20260001号</span><b>-1</b>'
                           '<a href="https://beian.miit.gov.cn/">工信部备案查询</a>',
    "label prefix": "ICP备案号：" + LINK.format(WEBSITE_NO),
    "number outside link": f"<p>{WEBSITE_NO} | <a href='https://beian.miit.gov.cn'>查询</a></p>",
    "link elsewhere on page": f"<p>© 2026 明远 {WEBSITE_NO}</p><div><a "
                              "href='https://beian.miit.gov.cn/'>备案查询</a></div>",
    "year after number": f"<p>{LINK.format(WEBSITE_NO)} 2026</p>",
    "year glued by inline tags": f"<p><b>{WEBSITE_NO}</b>2024 © <a href='https://beian.miit.gov.cn'>x</a></p>",
    "with public-security number": LINK.format(WEBSITE_NO) + " 粤公网安备44030502000001号",
    "number followed by 号 after suffix": LINK.format("粤ICP备20260001-1号"),
    "entity-encoded": LINK.format("&#31908;ICP&#22791;20260001&#21495;-1"),
    "other site's number too": LINK.format(WEBSITE_NO) + " 友情链接：京ICP备12345678号",
    "area map link": f"<p>{WEBSITE_NO}</p>"
                     "<map><area href='https://beian.miit.gov.cn/' alt='x'></map>",
    "link has port": f'<a href="https://beian.miit.gov.cn:443/">{WEBSITE_NO}</a>',
    # Real footers link the www host too (issue 12 §8), with or without the SPA path.
    "www prefix": f'<a href="https://www.beian.miit.gov.cn/">{WEBSITE_NO}</a>',
    "www, http, no slash": f'<a href="http://www.beian.miit.gov.cn">{WEBSITE_NO}</a>',
    "www with spa path": f'<a href="https://www.beian.miit.gov.cn/#/Integrated/index">{WEBSITE_NO}</a>',
    "www upper case": f'<a href="HTTP://WWW.BEIAN.MIIT.GOV.CN/#/Integrated/index">{WEBSITE_NO}</a>',
    "onclick window.open": f"<a href='javascript:;' onclick=\"window.open('https://beian.miit"
                           f".gov.cn/')\">{WEBSITE_NO}</a>",
    "javascript href": f"<a href=\"javascript:window.open('http://beian.miit.gov.cn')\">"
                       f"{WEBSITE_NO}</a>",
    "span with onclick": f"<span onclick=\"location.href='https://beian.miit.gov.cn/'\">"
                         f"{WEBSITE_NO}</span>",
}


@pytest.mark.parametrize("footer", CLEAN.values(), ids=CLEAN.keys())
def test_clean_footers_have_no_problem(footer: str) -> None:
    assert check_footer(page(footer), WEBSITE_NO) == []


def test_unclosed_head_does_not_hide_the_body() -> None:
    html = f"<html><head><title>x</title><body><p>{LINK.format(WEBSITE_NO)}</p></body></html>"
    assert codes(html) == []


def test_deeply_nested_unclosed_tags_do_not_overflow() -> None:
    html = "<div>" * 5000 + LINK.format(WEBSITE_NO)
    assert codes(html) == []


# --- missing -----------------------------------------------------------------------------------

MISSING = {
    "no number": "<p>版权所有</p><a href='https://beian.miit.gov.cn/'>备案查询</a>",
    "only in title attribute": f'<a href="https://beian.miit.gov.cn/" title="{WEBSITE_NO}">'
                               "备案查询</a>",
    "only in img alt": '<a href="https://beian.miit.gov.cn/">'
                       f'<img src="b.png" alt="{WEBSITE_NO}"></a>',
    "only in script": f"<script>document.write('{WEBSITE_NO}')</script>"
                      "<a href='https://beian.miit.gov.cn/'>查询</a>",
    "only in a comment": f"<!-- {WEBSITE_NO} --><a href='https://beian.miit.gov.cn/'>查询</a>",
    "only in style": f"<style>.x:after{{content:'{WEBSITE_NO}'}}</style>"
                     "<a href='https://beian.miit.gov.cn/'>查询</a>",
    "only in noscript": f"<noscript>{WEBSITE_NO}</noscript><a href='https://beian.miit.gov.cn/'>查询</a>",
    "hidden by display none": f"<div style='display: none'>{WEBSITE_NO}</div>"
                              "<a href='https://beian.miit.gov.cn/'>查询</a>",
    "hidden attribute": f"<div hidden>{WEBSITE_NO}</div><a href='https://beian.miit.gov.cn/'>查询</a>",
    "only in input value": f"<input value='{WEBSITE_NO}'><a href='https://beian.miit.gov.cn/'>查询</a>",
    "licence number only": "京ICP证150476号 <a href='https://beian.miit.gov.cn/'>查询</a>",
}


@pytest.mark.parametrize("footer", MISSING.values(), ids=MISSING.keys())
def test_number_not_visible_is_missing(footer: str) -> None:
    assert codes(page(footer)) == ["footer_filing_number_missing"]


def test_only_in_head_title_is_missing() -> None:
    html = page("<a href='https://beian.miit.gov.cn/'>查询</a>", head="")
    html = html.replace("<title>明远技术笔记</title>", f"<title>{WEBSITE_NO}</title>")
    assert codes(html) == ["footer_filing_number_missing"]


def test_nothing_at_all_gives_both_errors() -> None:
    problems = check_footer(page("© 2026"), WEBSITE_NO)
    assert [(p.code, p.severity) for p in problems] == [
        ("footer_filing_number_missing", "error"), ("footer_link_missing", "error")]
    assert all(p.field == "proposed.home_url" for p in problems)
    assert WEBSITE_NO in problems[0].message and "beian.miit.gov.cn" in problems[1].message


# --- mismatch ----------------------------------------------------------------------------------

MISMATCH = {
    "other digits": "粤ICP备20269999号-1",
    "other website sequence": "粤ICP备20260001号-2",
    "other province": "沪ICP备20260001号-1",
    "extra digit in sequence": "粤ICP备20260001号-11",
    "wrong province abbreviation": "川ICP备20260001号-1",
    "no province": "ICP备20260001号-1",
}


@pytest.mark.parametrize("number", MISMATCH.values(), ids=MISMATCH.keys())
def test_other_number_is_mismatch(number: str) -> None:
    problems = check_footer(page(LINK.format(number)), WEBSITE_NO)
    assert [p.code for p in problems] == ["footer_filing_number_mismatch"]
    assert problems[0].severity == "error"
    assert problems[0].extra["expected"] == WEBSITE_NO


def test_mismatch_lists_what_was_found() -> None:
    (p,) = check_footer(page(LINK.format("粤ICP备20260001号-2")), WEBSITE_NO)
    assert p.extra["found"] == ["粤ICP备20260001号-2"]
    assert "粤ICP备20260001号-2" in p.message and WEBSITE_NO in p.message


# --- subject number ----------------------------------------------------------------------------


def test_subject_number_only_is_a_warning() -> None:
    problems = check_footer(page(LINK.format("粤ICP备20260001号")), WEBSITE_NO)
    assert [(p.code, p.severity) for p in problems] == [
        ("footer_filing_number_subject_only", "warning")]


def test_expected_subject_number_accepts_any_website_number_of_it() -> None:
    assert codes(page(LINK.format("粤ICP备20260001号-3")), "粤ICP备20260001号") == []
    assert codes(page(LINK.format("粤ICP备20260001号")), "粤ICP备20260001号") == []
    assert codes(page(LINK.format("粤ICP备20260002号")), "粤ICP备20260001号") == [
        "footer_filing_number_mismatch"]


# --- the link ----------------------------------------------------------------------------------

NO_LINK = {
    "obsolete miitbeian": f'<a href="http://www.miitbeian.gov.cn/">{WEBSITE_NO}</a>',
    "obsolete miitbeian bare": f'<a href="http://miitbeian.gov.cn">{WEBSITE_NO}</a>',
    "no link": f"<p>{WEBSITE_NO}</p>",
    "lookalike host": f'<a href="https://beian.miit.gov.cn.example.com/">{WEBSITE_NO}</a>',
    "userinfo trick": f'<a href="https://beian.miit.gov.cn@evil.example/">{WEBSITE_NO}</a>',
    "www lookalike": f'<a href="https://www.beian.miit.gov.cn.example.com/">{WEBSITE_NO}</a>',
    "www.www prefix": f'<a href="https://www.www.beian.miit.gov.cn/">{WEBSITE_NO}</a>',
    "host only in text": f"<p>{WEBSITE_NO} beian.miit.gov.cn</p>",
    "javascript href": f'<a href="javascript:void(0)">{WEBSITE_NO}</a>',
    "onclick elsewhere": f"<a href='#' onclick=\"window.open('https://www.miitbeian.gov.cn/')\">"
                         f"{WEBSITE_NO}</a>",
    "hidden link": f"<p>{WEBSITE_NO}</p><a hidden href='https://beian.miit.gov.cn/'>x</a>",
    "link in comment": f"<p>{WEBSITE_NO}</p><!-- <a href='https://beian.miit.gov.cn/'>x</a> -->",
}


@pytest.mark.parametrize("footer", NO_LINK.values(), ids=NO_LINK.keys())
def test_link_must_go_to_beian_miit(footer: str) -> None:
    assert codes(page(footer)) == ["footer_link_missing"]


def test_obsolete_host_is_named_in_the_message() -> None:
    (p,) = check_footer(page(NO_LINK["obsolete miitbeian"]), WEBSITE_NO)
    assert "miitbeian.gov.cn" in p.message and "已停用" in p.message
    (q,) = check_footer(page(NO_LINK["no link"]), WEBSITE_NO)
    assert "已停用" not in q.message


def test_field_is_passed_through() -> None:
    (p,) = check_footer(page(NO_LINK["no link"]), WEBSITE_NO, field="home_url")
    assert p.field == "home_url"


# --- helpers -----------------------------------------------------------------------------------


def test_find_filing_numbers_canonical_and_deduplicated() -> None:
    text = ("粤ICP备20260001号-1；粤ICP备２０２６０００１号－１；京icp备123号；"
            "沪ICP备20260002号 - 02")
    assert find_filing_numbers(text) == [
        "粤ICP备20260001号-1", "京ICP备123号", "沪ICP备20260002号-2"]


def test_normalize_text() -> None:
    assert normalize_text("ＩＣＰ备\u200b１２３－４\u00a0") == "ICP备123-4 "


@pytest.mark.parametrize("value", ["", "粤ICP备", "ICP备20260001号", "粤ICP证20260001号",
                                   "粤ICP备20260001号-1 extra"])
def test_parse_rejects_non_numbers(value: str) -> None:
    assert parse_filing_number(value) is None


def test_invalid_expected_number_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        check_footer(page(LINK.format(WEBSITE_NO)), "not a number")
