from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from beiandesk.domain.auth_codes import AuthCode, CodeStatus
from beiandesk.domain.model import Resource
from beiandesk.domain.precheck import AuthCodeContext, run_precheck
from beiandesk.domain.precheck_draft import DraftError, draft_to_input
from beiandesk.domain.problems import error, report

DRAFTS = Path(__file__).resolve().parents[1] / "drafts"


def load(name):
    return json.loads((DRAFTS / name).read_text(encoding="utf-8"))


def run(draft):
    return run_precheck(draft_to_input(draft))


def error_codes(problems):
    return sorted({p.code for p in problems if p.is_error})


@pytest.mark.parametrize("name", ["clean_personal.json", "clean_enterprise.json"])
def test_clean_drafts_have_no_problem_at_all(name):
    problems = run(load(name))
    assert problems == []
    assert report(problems)["ok"] is True


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fail_identity.json", ["email_invalid", "id_number_invalid", "mobile_invalid"]),
        (
            "fail_domains_change.json",
            ["domain_add_not_allowed", "domain_expired", "domain_registrar_foreign"],
        ),
        ("fail_shanghai_expiring.json", ["domain_expiring"]),
        (
            "fail_resource.json",
            [
                "resource_no_public_ip",
                "resource_not_mainland",
                "resource_not_prepaid",
                "resource_remaining_too_short",
                "resource_term_too_short",
            ],
        ),
        ("fail_name_personal.json", ["name_personal_forbidden_word", "name_reserved_word"]),
        ("fail_preapproval.json", ["preapproval_required"]),
        ("fail_personal_principal_change.json", ["principal_change_requires_filing_change"]),
        ("fail_materials_shanghai.json", ["material_missing"]),
        ("fail_underage.json", ["principal_underage"]),
        ("fail_no_resource_no_domain.json", ["domain_required", "resource_missing"]),
    ],
)
def test_failing_drafts_report_exactly_their_errors(name, expected):
    problems = run(load(name))
    assert error_codes(problems) == expected
    assert report(problems)["ok"] is False
    for p in problems:
        assert p.message and p.field and p.severity in ("error", "warning")


def test_problems_are_reported_once():
    problems = run(load("fail_no_resource_no_domain.json"))
    assert [p.code for p in problems].count("domain_required") == 1


def test_unverifiable_domain_is_a_warning_not_a_pass_nor_an_error():
    problems = run(load("warn_unverified_domain.json"))
    assert [(p.code, p.severity) for p in problems] == [("domain_facts_unavailable", "warning")]
    assert report(problems)["ok"] is True


def test_material_missing_carries_kind():
    [p] = run(load("fail_materials_shanghai.json"))
    assert p.to_dict()["kind"] == "authorization_letter"


def test_shanghai_website_principal_not_legal_rep_without_materials_check_passes():
    draft = load("fail_materials_shanghai.json")
    del draft["materials"]
    assert run(draft) == []


def test_without_current_there_is_no_removal_only_rule():
    draft = load("clean_personal.json")
    del draft["current"]
    draft["proposed"]["domains"] = ["mingyuan-notes.cn", "other-site.cn"]
    problems = run(draft)
    assert "domain_add_not_allowed" not in {p.code for p in problems}
    assert [(p.code, p.field) for p in problems] == [
        ("domain_facts_unavailable", "proposed.domains[1]")
    ]


def test_proposed_is_a_patch_on_current():
    draft = load("clean_personal.json")
    draft["proposed"] = {"name": "明远技术笔记", "content_categories": ["博客/个人空间"]}
    inp = draft_to_input(draft)
    assert inp.proposed.domains == ("mingyuan-notes.cn",)
    assert inp.proposed.principal.name == "李明"
    assert run_precheck(inp) == []


def test_mobile_used_by_another_subject():
    draft = load("clean_personal.json")
    draft["mobiles_of_other_subjects"] = ["+86 139-1234-5678"]
    problems = run(draft)
    assert [(p.code, p.field) for p in problems] == [
        ("mobile_used_by_other_subject", "subject.principal.mobile")
    ]


def test_verification_and_site_problems_are_included():
    inp = draft_to_input(load("clean_personal.json"))
    site = error("footer_filing_number_missing", "首页底部未展示备案号。", "proposed.home_url")
    problems = run_precheck(replace(inp, verification_passed=False, site_problems=[site]))
    assert [p.code for p in problems] == ["verification_missing", "footer_filing_number_missing"]
    assert run_precheck(replace(inp, verification_passed=True)) == []


def test_auth_code_context():
    inp = draft_to_input(load("clean_enterprise.json"))
    server = inp.resource
    with_code = replace(server, auth_code="BA-7F3K9Q2M")
    single = replace(inp.proposed, domains=("yunfan-tech.com.cn",))
    base = replace(inp, resource=with_code, proposed=single)
    # no context (a draft): a warning that it could not be verified
    assert [(p.code, p.severity) for p in run_precheck(base)] == [("auth_code_invalid", "warning")]
    good = AuthCodeContext(AuthCode("BA-7F3K9Q2M", server), website_id=7)
    assert run_precheck(replace(base, auth_code_context=good)) == []
    taken = AuthCodeContext(
        AuthCode("BA-7F3K9Q2M", server, CodeStatus.filed, website_id=8, domain="x.cn"), website_id=7
    )
    assert error_codes(run_precheck(replace(base, auth_code_context=taken))) == [
        "auth_code_invalid"
    ]
    assert error_codes(run_precheck(replace(base, account_enterprise_verified=False))) == [
        "auth_code_requires_enterprise"
    ]
    two_domains = replace(base, proposed=inp.proposed, current=inp.current)
    assert error_codes(run_precheck(two_domains)) == ["auth_code_invalid"]


def test_today_comes_from_the_draft_or_the_caller():
    draft = load("clean_personal.json")
    assert draft_to_input(draft, today=date(2000, 1, 1)).today == date(2026, 11, 27)
    del draft["today"]
    assert draft_to_input(draft, today=date(2027, 1, 1)).today == date(2027, 1, 1)
    with pytest.raises(DraftError):
        draft_to_input(draft)


def test_resource_may_sit_inside_proposed():
    draft = load("clean_personal.json")
    draft["proposed"]["resource"] = draft.pop("resource")
    assert run(draft) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("subject"),
        lambda d: d.pop("proposed"),
        lambda d: d.__setitem__("subject", []),
        lambda d: d["subject"].__setitem__("kind", "company"),
        lambda d: d["proposed"].__setitem__("domains", "a.cn"),
        lambda d: d["proposed"].__setitem__("domains", [1]),
        lambda d: d["proposed"].__setitem__("principal", "李明"),
        lambda d: d.__setitem__("today", "27/11/2026"),
        lambda d: d["resource"].__setitem__("expires_at", "soon"),
        lambda d: d["domain_facts"]["mingyuan-notes.cn"].__setitem__("registrar_domestic", "yes"),
        lambda d: d["domain_facts"]["mingyuan-notes.cn"].__setitem__("expires_at", "2028-13-01"),
        lambda d: d.__setitem__("domain_facts", []),
        lambda d: d.__setitem__("materials", "id_card_front"),
    ],
)
def test_wrong_shapes_raise_draft_error(mutate):
    draft = copy.deepcopy(load("clean_personal.json"))
    mutate(draft)
    with pytest.raises(DraftError) as exc:
        draft_to_input(draft)
    assert isinstance(exc.value, ValueError)
    assert str(exc.value)


def test_not_an_object():
    with pytest.raises(DraftError):
        draft_to_input([1, 2])


def test_resource_kinds_in_drafts():
    draft = load("clean_personal.json")
    draft["resource"] = Resource(
        kind="cloudbase", billing="resource_pack", expires_at=date(2027, 6, 1)
    ).to_dict()
    assert run(draft) == []


def test_packaged_data_is_consistent_and_every_entry_cites_a_source():
    from beiandesk.domain.provinces import province_rules_document, provinces, read_data_csv

    table = provinces()
    assert len(table) == 31 and len({p.admin_code_prefix for p in table.values()}) == 31
    assert table["四川"].icp_abbreviation == "蜀" and table["甘肃"].icp_abbreviation == "陇"
    doc = province_rules_document()
    for key, entry in doc["defaults"].items():
        assert entry["source"] and "value" in entry, key
    for name, entries in doc["provinces"].items():
        assert name in table, name
        for key, entry in entries.items():
            assert entry["source"] and "value" in entry, (name, key)
    for m in doc["materials"]:
        assert m["source"] and all(p in table for p in m.get("provinces", []))
    for csv_name in ("provinces.csv", "suffixes.csv", "regions.csv", "content_categories.csv"):
        rows = read_data_csv(csv_name)
        assert rows and all(r["source"] for r in rows), csv_name
