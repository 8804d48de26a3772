"""The resource inventory: the HTTP adapter against the sandbox, and the pre-check preferring it."""

from __future__ import annotations

from typing import Any

import pytest

from beiandesk.adapters.inventory import HttpInventory
from beiandesk.sandbox.app import create_standalone_app
from beiandesk.services import changes, precheck
from beiandesk.services.ports import InstanceFacts, InventoryUnavailable
from tests.integration.test_sandbox import make_settings, serve
from tests.workflow_support import account


class FakeInventory:
    def __init__(self, *facts: InstanceFacts, down: bool = False) -> None:
        self.facts = {f.instance_id: f for f in facts}
        self.down = down
        self.asked: list[tuple[str, str]] = []

    def by_instance_id(self, instance_id: str) -> InstanceFacts | None:
        self.asked.append(("instance_id", instance_id))
        if self.down:
            raise InventoryUnavailable("down")
        return self.facts.get(instance_id)

    def by_public_ip(self, public_ip: str) -> InstanceFacts | None:
        self.asked.append(("public_ip", public_ip))
        return next((f for f in self.facts.values() if f.public_ip == public_ip), None)


@pytest.fixture(scope="module")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = make_settings(tmp_path_factory.mktemp("sbx"))
    with serve(create_standalone_app(settings)) as base:
        yield f"{base}/sandbox/inventory"


def test_http_adapter_against_the_sandbox(sandbox_url: str) -> None:
    inv = HttpInventory(sandbox_url)
    facts = inv.by_instance_id("ins-gz7k2m9q")
    assert facts == InstanceFacts(instance_id="ins-gz7k2m9q", kind="cvm", region="ap-guangzhou",
                                  public_ip="119.29.100.21", billing="prepaid", purchased_at="2026-01-05",
                                  expires_at="2028-01-05", owner="demo-personal")
    assert inv.by_instance_id("ins-nope") is None
    assert inv.by_public_ip("43.128.10.20").instance_id == "ins-hk8a1b2c"
    assert inv.by_public_ip("8.8.8.8") is None
    postpaid = inv.by_instance_id("ins-gzpostpd")
    assert postpaid.billing == "postpaid" and postpaid.expires_at is None
    with pytest.raises(InventoryUnavailable):
        HttpInventory("http://127.0.0.1:9/inventory", timeout_s=1).by_instance_id("ins-gz7k2m9q")


def _order_with_resource(deps: Any, **resource: Any) -> tuple[Any, int]:
    actor = account(deps, "demo-personal")
    with deps.uow(readonly=True) as uow:
        site = uow.websites.list(account_id=actor.id)[0]
    order = changes.open_change(deps, actor, site.id)
    if resource:
        base = order.proposed.resource.to_dict()
        order = changes.update_change(deps, actor, order.id, {"resource": {**base, **resource}}, order.version)
    return actor, order.id


def _resource_problems(deps: Any, actor: Any, change_id: int) -> list[tuple[str, str | None]]:
    return sorted((p.code, p.field) for p in precheck.precheck(deps, actor, change_id)
                  if p.field and p.field.startswith("resource"))


def test_precheck_prefers_the_inventory_facts(seeded: Any) -> None:
    deps = seeded
    real = InstanceFacts(instance_id="ins-gz7k2m9q", kind="cvm", region="ap-guangzhou", public_ip="119.29.100.21",
                         billing="postpaid", purchased_at="2026-01-05", expires_at="2028-01-05")
    deps.inventory = FakeInventory(real)
    actor, cid = _order_with_resource(deps)  # the applicant's (demo) facts say prepaid
    found = _resource_problems(deps, actor, cid)
    # The mismatch is reported, and the rules judged the provider's facts: pay-as-you-go fails.
    assert ("resource_mismatch", "resource.billing") in found
    assert ("resource_not_prepaid", "resource.billing") in found
    assert deps.inventory.asked == [("instance_id", "ins-gz7k2m9q")]

    deps.inventory = FakeInventory()
    assert _resource_problems(deps, actor, cid) == [("resource_not_found", "resource.instance_id")]
    deps.inventory = FakeInventory(down=True)
    assert _resource_problems(deps, actor, cid) == [("inventory_unavailable", "resource")]
    deps.inventory = None  # not configured: the applicant's facts, as before
    assert _resource_problems(deps, actor, cid) == []


def test_precheck_against_the_sandbox_inventory(seeded: Any, sandbox_url: str) -> None:
    deps = seeded
    deps.inventory = HttpInventory(sandbox_url)
    actor, cid = _order_with_resource(deps)
    assert _resource_problems(deps, actor, cid) == []  # the demo data agrees with the inventory
    order = changes.get_change(deps, actor, cid)
    resource = {**order.proposed.resource.to_dict(), "instance_id": "", "public_ip": "43.128.10.20"}
    changes.update_change(deps, actor, cid, {"resource": resource}, order.version)  # asked by public IP
    found = _resource_problems(deps, actor, cid)
    assert ("resource_mismatch", "resource.region") in found and ("resource_not_mainland", "resource.region") in found
