from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from beiandesk.domain.auth_codes import (
    MAX_CODES_PER_SERVER,
    AuthCode,
    CodeStatus,
    check_code_creation,
    check_code_use,
    is_void,
)
from beiandesk.domain.model import Resource
from beiandesk.domain.resources import check_resource, is_mainland_region, is_public_ip

TODAY = date(2026, 11, 27)
CVM = Resource(
    kind="cvm",
    region="ap-guangzhou",
    public_ip="119.29.100.21",
    billing="prepaid",
    purchased_at=date(2026, 1, 5),
    expires_at=date(2028, 1, 5),
    instance_id="ins-1",
)


def codes(problems):
    return [p.code for p in problems]


def test_qualifying_cvm_and_lighthouse_pass():
    assert check_resource(CVM, TODAY) == []
    assert check_resource(replace(CVM, kind="lighthouse", region="ap-shanghai"), TODAY) == []


def test_missing_resource():
    [p] = check_resource(None, TODAY)
    assert (p.code, p.field, p.severity) == ("resource_missing", "resource", "error")


def test_boundaries_are_inclusive():
    expires = TODAY + timedelta(days=30)
    exactly = replace(CVM, purchased_at=expires - timedelta(days=90), expires_at=expires)
    assert check_resource(exactly, TODAY) == []
    short_term = replace(exactly, purchased_at=expires - timedelta(days=89))
    assert codes(check_resource(short_term, TODAY)) == ["resource_term_too_short"]
    little_left = replace(
        exactly, expires_at=expires - timedelta(days=1), purchased_at=expires - timedelta(days=120)
    )
    assert codes(check_resource(little_left, TODAY)) == ["resource_remaining_too_short"]


def test_expired_server():
    expired = replace(CVM, expires_at=TODAY - timedelta(days=1))
    assert codes(check_resource(expired, TODAY)) == ["resource_expired"]


@pytest.mark.parametrize("billing", ["postpaid", "POSTPAID_BY_HOUR", "按量计费", ""])
def test_pay_as_you_go_does_not_qualify(billing):
    assert codes(check_resource(replace(CVM, billing=billing), TODAY)) == ["resource_not_prepaid"]


@pytest.mark.parametrize(
    "region",
    [
        "ap-guangzhou",
        "ap-shanghai",
        "ap-beijing",
        "ap-chengdu",
        "ap-chongqing",
        "ap-nanjing",
        "ap-guangzhou-3",
        "广州",
        "华南地区（广州）",
        "cn-hangzhou",
        "cn-north-4",
    ],
)
def test_mainland_regions(region):
    assert is_mainland_region(region) is True
    assert check_resource(replace(CVM, region=region), TODAY) == []


@pytest.mark.parametrize(
    "region",
    [
        "ap-hongkong",
        "ap-singapore",
        "na-siliconvalley",
        "eu-frankfurt",
        "sa-saopaulo",
        "ap-tokyo",
        "中国香港",
        "cn-hongkong",
    ],
)
def test_non_mainland_regions(region):
    assert is_mainland_region(region) is False
    problems = check_resource(replace(CVM, region=region), TODAY)
    assert [(p.code, p.severity, p.field) for p in problems] == [
        ("resource_not_mainland", "error", "resource.region")
    ]


def test_unknown_region_is_a_warning():
    assert [(p.code, p.severity) for p in check_resource(replace(CVM, region="mars-1"), TODAY)] == [
        ("resource_not_mainland", "warning")
    ]


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.8",
        "172.16.5.4",
        "192.168.1.10",
        "127.0.0.1",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "",
        "not-an-ip",
        "::1",
        "fe80::1",
        "fd00::1",
    ],
)
def test_non_public_ips(ip):
    assert not is_public_ip(ip)
    assert codes(check_resource(replace(CVM, public_ip=ip), TODAY)) == ["resource_no_public_ip"]


@pytest.mark.parametrize("ip", ["119.29.100.21", "203.0.113.10", "198.51.100.7", "2402:4e00::1"])
def test_public_ips(ip):
    assert is_public_ip(ip)


def test_serverless_needs_a_live_resource_pack():
    pack = Resource(
        kind="serverless",
        region="ap-guangzhou",
        billing="resource_pack",
        purchased_at=TODAY,
        expires_at=TODAY + timedelta(days=10),
    )
    assert check_resource(pack, TODAY) == []
    assert codes(check_resource(replace(pack, billing="postpaid"), TODAY)) == [
        "resource_not_prepaid"
    ]
    assert codes(check_resource(replace(pack, expires_at=TODAY - timedelta(days=1)), TODAY)) == [
        "resource_expired"
    ]


def test_cloud_hosting_needs_90_days_left():
    pack = Resource(
        kind="cloudbase",
        region="ap-shanghai",
        billing="resource_pack",
        expires_at=TODAY + timedelta(days=90),
    )
    assert check_resource(pack, TODAY) == []
    assert codes(check_resource(replace(pack, expires_at=TODAY + timedelta(days=89)), TODAY)) == [
        "resource_remaining_too_short"
    ]


def test_unknown_kind_is_not_a_qualifying_resource():
    assert codes(check_resource(replace(CVM, kind="cos"), TODAY)) == ["resource_missing"]


def test_missing_dates_are_warnings():
    problems = check_resource(replace(CVM, purchased_at=None), TODAY)
    assert [(p.code, p.severity) for p in problems] == [("resource_term_too_short", "warning")]
    problems = check_resource(replace(CVM, expires_at=None), TODAY)
    assert [(p.code, p.severity) for p in problems] == [("resource_remaining_too_short", "warning")]


# --- authorisation codes ----------------------------------------------------------------------


def test_code_creation_rules():
    ok = check_code_creation(
        enterprise_verified=True, server=CVM, active_codes=MAX_CODES_PER_SERVER - 1, today=TODAY
    )
    assert ok == []
    assert codes(
        check_code_creation(enterprise_verified=False, server=CVM, active_codes=0, today=TODAY)
    ) == ["auth_code_requires_enterprise"]
    assert codes(
        check_code_creation(enterprise_verified=True, server=CVM, active_codes=5, today=TODAY)
    ) == ["auth_code_exhausted"]
    lighthouse = replace(CVM, kind="lighthouse")
    assert codes(
        check_code_creation(
            enterprise_verified=True, server=lighthouse, active_codes=0, today=TODAY
        )
    ) == ["auth_code_invalid"]
    assert (
        check_code_creation(
            enterprise_verified=True,
            server=lighthouse,
            active_codes=0,
            today=TODAY,
            from_pc_console=False,
        )
        == []
    )
    assert "resource_not_prepaid" in codes(
        check_code_creation(
            enterprise_verified=True,
            server=replace(CVM, billing="postpaid"),
            active_codes=0,
            today=TODAY,
        )
    )


def test_code_use_rules():
    code = AuthCode("BA-7F3K9Q2M", CVM)
    assert check_code_use("BA-7F3K9Q2M", code, website_id=1, domains=["a.cn"], today=TODAY) == []
    assert codes(
        check_code_use("BA-7F3K9Q2M", None, website_id=1, domains=["a.cn"], today=TODAY)
    ) == ["auth_code_invalid"]
    assert codes(check_code_use("!!", code, website_id=1, domains=["a.cn"], today=TODAY)) == [
        "auth_code_invalid"
    ]
    # one code = one domain
    assert codes(
        check_code_use("BA-7F3K9Q2M", code, website_id=1, domains=["a.cn", "b.cn"], today=TODAY)
    ) == ["auth_code_invalid"]
    # one code = one website
    used = replace(code, status=CodeStatus.filed, website_id=2, domain="b.cn")
    assert codes(
        check_code_use("BA-7F3K9Q2M", used, website_id=1, domains=["a.cn"], today=TODAY)
    ) == ["auth_code_invalid", "auth_code_invalid"]
    assert check_code_use("BA-7F3K9Q2M", used, website_id=2, domains=["B.CN."], today=TODAY) == []
    # an abandoned order frees the code while the server lives
    assert (
        check_code_use(
            "BA-7F3K9Q2M",
            replace(used, status=CodeStatus.abandoned),
            website_id=1,
            domains=["a.cn"],
            today=TODAY,
        )
        == []
    )


def test_code_dies_with_its_server():
    code = AuthCode("BA-7F3K9Q2M", replace(CVM, expires_at=TODAY - timedelta(days=1)))
    assert is_void(code, TODAY)
    assert not is_void(AuthCode("BA-7F3K9Q2M", CVM), TODAY)
    assert codes(
        check_code_use("BA-7F3K9Q2M", code, website_id=1, domains=["a.cn"], today=TODAY)
    ) == ["auth_code_invalid"]
