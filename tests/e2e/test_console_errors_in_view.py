"""A refusal is shown beside the control that caused it, and in view (issue 12 §4), in real
chromium at 1280 px and 375 px: a refused upload beside its upload control; a 驳回 without a
reason beside the reasons. Before, the red banner sat at the top of the page while the page
jumped down to the form, so to the person nothing happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from beiandesk.services import changes, materials, precheck
from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page
from tests.workflow_support import account, tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def in_view(page, selector: str) -> bool:  # noqa: ANN001
    """The whole element is inside the viewport (not merely somewhere on the page)."""
    return page.evaluate("""sel => { const el = document.querySelector(sel);
                                     if (!el) return false;
                                     const r = el.getBoundingClientRect();
                                     return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; }""",
                         selector)


def _withdraw(deps, owner, change_id: int) -> None:  # noqa: ANN001
    try:
        changes.withdraw(deps, owner, change_id)
    except Exception:  # noqa: BLE001 - the shared demo server's websites must be left free
        pass


@pytest.fixture
def orders(live_console: Live) -> Iterator[tuple[int, int]]:
    """A draft on one of demo-enterprise's websites and a submitted order on the other."""
    from tests.photo_samples import good_photo
    deps = live_console.app.deps
    owner = account(deps, "demo-enterprise")
    with deps.uow(readonly=True) as uow:
        sites = [w for w in uow.websites.list(account_id=owner.id) if w.status == "open"]
    draft = changes.open_change(deps, owner, sites[0].id)
    order = changes.open_change(deps, owner, sites[-1].id)
    order = changes.update_change(deps, owner, order.id, {"home_url": sites[-1].info.home_url.rstrip("/") + "/about"},
                                  order.version)
    materials.upload_verification(deps, owner, order.id, "me.jpg", cv2.imencode(".jpg", good_photo())[1].tobytes())
    for p in precheck.precheck(deps, owner, order.id):
        if p.code == "material_missing":
            materials.upload_material(deps, owner, order.id, p.extra["kind"], "scan.png", tiny_png())
    changes.submit(deps, owner, order.id, True, True)
    yield draft.id, order.id
    _withdraw(deps, owner, draft.id)
    _withdraw(deps, owner, order.id)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_refusals_are_shown_beside_their_control_and_in_view(live_console: Live, chromium, shots: Shots,
                                                             orders: tuple[int, int], viewport: dict,
                                                             tmp_path: Path) -> None:
    base = live_console.base
    draft_id, submitted_id = orders
    not_a_scan = tmp_path / "notes.txt"
    not_a_scan.write_text("这不是证件扫描件", encoding="utf-8")

    # -- applicant: an upload the server refuses (a text file), in the last required slot -----------
    page = new_page(chromium, viewport)
    login(page, base, "demo-enterprise")
    page.goto(f"{base}/changes/{draft_id}/materials")
    slot = page.locator(".slot-required").last
    slot_id = slot.get_attribute("id")
    slot.locator("input[type=file]").set_input_files(str(not_a_scan))
    slot.get_by_role("button", name="上传").click()
    page.wait_for_load_state()
    page.wait_for_timeout(300)  # console.js scrolls and focuses on load
    shots(page, "upload-refused")
    message = page.locator(f"#{slot_id} #flash-here")
    assert message.count() == 1, page.content()[:2000]
    assert "未能上传" in message.inner_text() and "notes.txt" in message.inner_text()
    assert in_view(page, "#flash-here")
    page.screenshot(path=str(shots.dir / "upload-refused-viewport.png"))  # what the person sees
    assert page.evaluate("document.activeElement && document.activeElement.id") == "flash-here"
    assert page.locator("main > .flash").count() == 0  # not a second time at the top
    # Reloading shows the page plainly again: the message was for that one attempt.
    page.reload()
    assert page.locator("#flash-here").count() == 0

    # -- reviewer: 驳回 without a reason ---------------------------------------------------------------
    rev = new_page(chromium, viewport)
    login(rev, base, "demo-reviewer")
    rev.goto(f"{base}/review/{submitted_id}")
    rev.locator("#reject").get_by_role("button", name="驳回").click()
    rev.wait_for_load_state()
    rev.wait_for_timeout(300)
    shots(rev, "reject-without-reason")
    message = rev.locator("#reject #flash-here")
    assert message.count() == 1
    assert "至少选择或填写一条原因" in message.inner_text()
    assert in_view(rev, "#flash-here")
    rev.screenshot(path=str(shots.dir / "reject-without-reason-viewport.png"))
    assert rev.locator("main > .flash").count() == 0
    # The reasons are right there, beside the message.
    assert rev.locator("#reject fieldset").is_visible()
    assert changes.get_change(live_console.app.deps, account(live_console.app.deps, "demo-reviewer"),
                              submitted_id).state == "provider_review"

    assert page.script_errors == rev.script_errors == []
