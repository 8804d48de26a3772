from __future__ import annotations

from datetime import date

from beiandesk.domain.inventory import lookup_key, reconcile
from beiandesk.domain.model import Resource

TYPED = Resource(kind="cvm", region="ap-guangzhou-3", public_ip="119.29.100.21", billing="包年包月",
                 purchased_at=date(2026, 1, 5), expires_at=date(2028, 1, 5), instance_id="ins-1")
KNOWN = Resource(kind="cvm", region="ap-guangzhou", public_ip="119.29.100.21", billing="prepaid",
                 purchased_at=date(2026, 1, 5), expires_at=date(2028, 1, 5), instance_id="ins-1")


def test_what_is_asked() -> None:
    assert lookup_key(TYPED) == ("instance_id", "ins-1")
    assert lookup_key(Resource(public_ip=" 1.2.3.4 ")) == ("public_ip", "1.2.3.4")
    assert lookup_key(Resource(instance_id="ins-1", auth_code="ABC")) is None  # another provider's
    assert lookup_key(Resource()) is None and lookup_key(None) is None


def test_same_facts_in_other_words_agree() -> None:
    resource, problems = reconcile(TYPED, KNOWN, ("instance_id", "ins-1"))
    assert problems == [] and resource == KNOWN


def test_each_differing_fact_is_one_mismatch_and_the_inventory_wins() -> None:
    known = Resource(kind="cvm", region="ap-hongkong", public_ip="43.128.10.20", billing="postpaid",
                     purchased_at=date(2026, 6, 1), expires_at=None, instance_id="ins-1")
    resource, problems = reconcile(TYPED, known, ("instance_id", "ins-1"))
    assert resource == known
    assert {p.code for p in problems} == {"resource_mismatch"}
    assert sorted(p.field for p in problems) == ["resource.billing", "resource.public_ip",
                                                 "resource.purchased_at", "resource.region"]
    billing = next(p for p in problems if p.field == "resource.billing")
    assert "包年包月" in billing.message and "按量计费" in billing.message and billing.is_error


def test_untyped_facts_are_filled_in_not_contradicted() -> None:
    resource, problems = reconcile(Resource(kind="cvm", instance_id="ins-1", region="", public_ip="",
                                            purchased_at=None, expires_at=None), KNOWN, ("instance_id", "ins-1"))
    assert problems == [] and resource.region == "ap-guangzhou" and resource.expires_at == date(2028, 1, 5)


def test_unknown_instance_and_unavailable_inventory() -> None:
    resource, problems = reconcile(TYPED, None, ("instance_id", "ins-1"))
    assert [p.code for p in problems] == ["resource_not_found"] and problems[0].field == "resource.instance_id"
    assert resource == TYPED
    resource, problems = reconcile(TYPED, None, ("instance_id", "ins-1"), unavailable=True)
    assert [(p.code, p.severity) for p in problems] == [("inventory_unavailable", "warning")]
    assert reconcile(TYPED, None, None) == (TYPED, [])
