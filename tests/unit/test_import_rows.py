"""The row checks of an existing-records file (domain/import_rows.py): pure, no database."""

from __future__ import annotations

from datetime import date

import pytest

from beiandesk.domain import import_rows as ir
from tests.import_support import record

TODAY = date(2026, 12, 1)


def _codes(row: dict, ctx: ir.RowContext | None = None) -> list[tuple[str, str | None]]:
    rec, problems = ir.parse_row(row, 2)
    if rec is None:
        return [(p.code, p.field) for p in problems]
    return [(p.code, p.field) for p in ir.check_record(rec, ctx or ir.RowContext(), TODAY)]


@pytest.mark.parametrize("i", range(6))
def test_generated_rows_pass(i: int) -> None:
    assert _codes(record(i, sites_per_subject=2)) == []


def test_a_good_row_becomes_the_domain_objects() -> None:
    rec, problems = ir.parse_row(record(1, subject_kind="企业", province="上海市",
                                        subject_principal_mobile="+86 138-0013-8000",
                                        domains="示例.中国; b.cn"), 7)
    assert problems == [] and rec is not None
    assert rec.line == 7
    assert rec.subject.kind == "enterprise" and rec.subject.province == "上海"
    assert rec.subject.principal.mobile == "13800138000"
    assert rec.info.domains == ("示例.中国", "b.cn")
    assert rec.ascii_domains() == ["xn--fsq092h.xn--fiqs8s", "b.cn"]
    assert rec.info.resource.expires_at == date(2028, 1, 5)


@pytest.mark.parametrize(("value", "ok"), [
    ("沪ICP备20260002号", True), ("沪ICP备 20260002 号", True), ("沪icp备20260002号", True),
    ("沪ICP备２０２６０００２号", True), ("沪ICP备2026002号", False), ("沪ICP备202600021号", False),
    ("ICP备20260002号", False), ("港ICP备20260002号", False), ("沪ICP备20260002", False),
    ("沪ICP证20260002号", False),
])
def test_filing_number_grammar(value: str, ok: bool) -> None:
    assert (ir.parse_record_filing_number(value) is not None) is ok


def test_website_number_needs_a_sequence_and_the_subject_none() -> None:
    assert ("filing_number_invalid", "website_filing_number") in _codes(
        record(0, website_filing_number="沪ICP备30000000号"))
    assert ("filing_number_invalid", "subject_filing_number") in _codes(
        record(0, subject_filing_number="沪ICP备30000000号-1"))


def test_website_number_under_another_subject_is_a_mismatch() -> None:
    assert _codes(record(0, website_filing_number="沪ICP备30000099号-1")) == [
        ("filing_number_mismatch", "website_filing_number")]


def test_abbreviation_must_match_the_province() -> None:
    assert _codes(record(0, province="广东")) == [("filing_number_mismatch", "subject_filing_number")]


def test_unknown_province() -> None:
    assert ("province_invalid", "province") in _codes(record(0, province="火星"))


@pytest.mark.parametrize(("column", "value"), [
    ("subject_kind", "company"), ("website_status", "pending"), ("resource_kind", "mainframe"),
    ("resource_expires_at", "next year"),
])
def test_unknown_kinds_and_statuses_name_the_column(column: str, value: str) -> None:
    assert _codes(record(0, **{column: value})) == [("value_invalid", column)]


def test_identity_rules_are_the_precheck_ones() -> None:
    bad_id = record(0)["subject_principal_id_number"][:-1] + "0"
    codes = _codes(record(0, subject_principal_id_number=bad_id, website_principal_id_number=bad_id,
                          subject_id_number=bad_id, subject_principal_email="nope",
                          website_principal_mobile="1234"))
    assert ("id_number_invalid", "subject_id_number") in codes
    assert ("id_number_invalid", "subject_principal_id_number") in codes
    assert ("email_invalid", "subject_principal_email") in codes
    assert ("mobile_invalid", "website_principal_mobile") in codes
    assert ("uscc_invalid", "subject_id_number") in _codes(record(1, subject_id_number="91310104MA1FL8XQ37"))


def test_masked_values_are_refused_not_stored() -> None:
    codes = _codes(record(0, subject_principal_id_number="3101**********2023",
                          subject_principal_mobile="139****5678"))
    assert ("id_number_invalid", "subject_principal_id_number") in codes
    assert ("mobile_invalid", "subject_principal_mobile") in codes


def test_domains_syntax_and_presence() -> None:
    assert ("domain_invalid", "domains") in _codes(record(0, domains="http://a.cn/x"))
    assert ("domain_required", "domains") in _codes(record(0, domains=" ; "))


def test_domain_filed_under_another_website() -> None:
    ctx = ir.RowContext(domain_owner={"site0-a.cn": "沪ICP备39999999号-1"})
    assert _codes(record(0), ctx) == [("domain_filed_elsewhere", "domains")]
    same = ir.RowContext(domain_owner={"site0-a.cn": "沪ICP备30000000号-1"})
    assert _codes(record(0), same) == []


def test_mobile_of_another_subject() -> None:
    mobile = record(0)["subject_principal_mobile"]
    other = ir.RowContext(mobile_owner={mobile: "沪ICP备39999999号"})
    codes = _codes(record(0), other)
    assert ("mobile_used_by_other_subject", "subject_principal_mobile") in codes
    mine = ir.RowContext(mobile_owner={mobile: "沪ICP备30000000号"})
    assert _codes(record(0), mine) == []


def test_account_must_exist() -> None:
    assert _codes(record(0, account_username="ghost")) == [("account_not_found", "account_username")]
    assert _codes(record(0, account_username="li"), ir.RowContext(accounts={"li"})) == []


def test_export_row_reads_back_as_the_same_record() -> None:
    rec, _ = ir.parse_row(record(3), 2)
    assert rec is not None
    row = ir.to_row(rec.subject, rec.website_filing_number, "open", rec.info, unmasked=True)
    again, problems = ir.parse_row(row, 2)
    assert problems == [] and again == rec
    masked = ir.to_row(rec.subject, rec.website_filing_number, "open", rec.info)
    assert "*" in masked["subject_principal_id_number"] and "*" in masked["website_principal_mobile"]


def test_problem_items_have_the_contract_shape() -> None:
    _, problems = ir.parse_row(record(0, website_status="x"), 5)
    assert ir.problem_row(5, problems[0]) == {"row": 5, "code": "value_invalid",
                                              "message": problems[0].message, "field": "website_status"}


def test_json_arrays_for_lists() -> None:
    rec, problems = ir.parse_row({**record(0), "domains": ["a.cn", "b.cn"], "content_categories": ["企业官网"]}, 1)
    assert problems == [] and rec is not None and rec.info.domains == ("a.cn", "b.cn")
