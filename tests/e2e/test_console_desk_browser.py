"""The 管局工作台 in real chromium (1280 px and 375 px): a reviewer hands an order over by hand.

The live demo server runs with its gateway switched off for this test (``GATEWAY_URL=desk``):
the first-review pass leaves the order on the desk; the reviewer records 已提交管局 with the
authority's reference, 短信核验通过 and 管局通过, and the applicant's record is updated.
"""

from __future__ import annotations

import pytest

from beiandesk.services import changes, materials, precheck, review
from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page
from tests.photo_samples import encode, good_photo
from tests.workflow_support import account, tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _order_on_the_desk(deps) -> int:  # noqa: ANN001
    actor = account(deps, "demo-enterprise")
    with deps.uow(readonly=True) as uow:
        site = uow.websites.list(account_id=actor.id)[0]
    order = changes.open_change(deps, actor, site.id)
    order = changes.update_change(deps, actor, order.id, {"name": site.info.name + "官网"}, order.version)
    materials.upload_verification(deps, actor, order.id, "me.jpg", encode(good_photo()))
    for p in precheck.precheck(deps, actor, order.id):
        if p.code == "material_missing":
            materials.upload_material(deps, actor, order.id, p.extra["kind"], "scan.png", tiny_png())
    errors = [p.to_dict() for p in precheck.precheck(deps, actor, order.id) if p.is_error]
    assert not errors, errors
    changes.submit(deps, actor, order.id, True, True)
    staff = account(deps, "demo-reviewer")
    review.log_call(deps, staff, order.id, "reached", "")
    review.approve(deps, staff, order.id, "")
    return order.id


def test_reviewer_records_the_hand_over_on_the_desk(live_console: Live, chromium, shots: Shots) -> None:
    deps = live_console.app.deps
    gateway, deps.gateway = deps.gateway, None
    try:
        cid = _order_on_the_desk(deps)
        phone = new_page(chromium, PHONE)
        login(phone, live_console.base, "demo-reviewer")
        phone.goto(f"{live_console.base}/desk")
        card = phone.locator(f"#order-{cid}")
        assert card.is_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the desk scrolls sideways at 375 px ({width} px)"
        shots(phone, "desk-phone-waiting")

        page = new_page(chromium, DESKTOP)
        login(page, live_console.base, "demo-reviewer")
        page.goto(f"{live_console.base}/desk")
        card = page.locator(f"#order-{cid}")
        card.get_by_label("管局受理编号").fill("沪ICP受理-20261201-07")
        card.get_by_role("button", name="已提交管局").click()
        page.wait_for_load_state()
        card = page.locator(f"#order-{cid}")
        assert "短信核验截止" in card.inner_text() and "沪ICP受理-20261201-07" in card.inner_text()
        shots(page, "desk-sms")
        card.get_by_role("button", name="短信核验通过").click()
        page.wait_for_load_state()
        assert "管局审核中（" in page.locator("main").inner_text()
        page.locator(f"#order-{cid}").get_by_role("button", name="管局通过").click()
        page.wait_for_load_state()
        assert "已登记管局通过" in page.locator("main").inner_text()
        shots(page, "desk-approved")
        with deps.uow(readonly=True) as uow:
            assert str(uow.changes.get(cid).state) == "approved"
        assert not page.script_errors and not phone.script_errors
    finally:
        deps.gateway = gateway


def test_admin_adds_and_deletes_a_webhook_on_a_phone(live_console: Live, chromium, shots: Shots) -> None:
    page = new_page(chromium, PHONE)
    login(page, live_console.base, "demo-admin")
    page.goto(f"{live_console.base}/admin/webhooks")
    page.get_by_label("接收地址").fill("https://hooks.example.com/beiandesk")
    page.get_by_label("签名密钥", exact=False).fill("phone-secret-0123456789")
    page.get_by_label("全部事件").check()
    page.get_by_role("button", name="添加").click()
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "已添加网络钩子" in main and "https://hooks.example.com/beiandesk" in main and "投递记录" in main
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the webhooks page scrolls sideways at 375 px ({width} px)"
    shots(page, "webhooks-phone")
    page.get_by_role("button", name="删除").first.click()
    page.wait_for_load_state()
    assert "已删除网络钩子" in page.locator("main").inner_text()
    assert not page.script_errors
