"""Two reviewers at the queue in real chromium (1280 px and 375 px): one claims, the other sees
who holds the order, is refused beside the control, and takes it once it is released."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import pytest

from beiandesk.domain.model import Role
from beiandesk.services import changes, materials, precheck
from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page
from tests.workflow_support import account, tiny_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _in_view(page, selector: str) -> bool:  # noqa: ANN001
    return page.evaluate("""sel => { const r = document.querySelector(sel).getBoundingClientRect();
                                     return r.top >= 0 && r.bottom <= window.innerHeight + 1; }""", selector)


@pytest.fixture
def submitted(live_console: Live) -> Iterator[int]:
    """A submitted order of demo-enterprise's second website, withdrawn afterwards so the shared
    demo server's other browser tests find their websites free."""
    from tests.photo_samples import good_photo
    deps = live_console.app.deps
    with deps.uow() as uow:
        if uow.accounts.by_username("reviewer-b") is None:
            uow.accounts.add("reviewer-b", deps.passwords.hash("beiandesk-demo"), Role.reviewer, "审核专员乙",
                             "b@example.com", False, deps.clock.now())
            uow.commit()
    owner = account(deps, "demo-enterprise")
    with deps.uow(readonly=True) as uow:
        site = [w for w in uow.websites.list(account_id=owner.id) if w.status == "open"][-1]
    order = changes.open_change(deps, owner, site.id)
    order = changes.update_change(deps, owner, order.id, {"home_url": site.info.home_url.rstrip("/") + "/about"},
                                  order.version)
    materials.upload_verification(deps, owner, order.id, "me.jpg", cv2.imencode(".jpg", good_photo())[1].tobytes())
    for p in precheck.precheck(deps, owner, order.id):
        if p.code == "material_missing":
            materials.upload_material(deps, owner, order.id, p.extra["kind"], "scan.png", tiny_png())
    changes.submit(deps, owner, order.id, True, True)
    yield order.id
    try:
        changes.withdraw(deps, owner, order.id)
    except Exception:  # noqa: BLE001 - already decided by the test
        pass


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_two_reviewers_share_the_queue(live_console: Live, chromium, shots: Shots, submitted: int,
                                       viewport: dict) -> None:  # noqa: ANN001
    base = live_console.base
    a, b = new_page(chromium, viewport), new_page(chromium, viewport)
    login(a, base, "demo-reviewer")
    login(b, base, "reviewer-b")

    a.goto(f"{base}/review")
    row = a.locator("tr", has=a.locator(f"a[href='/review/{submitted}']"))
    assert "未认领" in row.inner_text()
    shots(a, "queue-unclaimed")
    a.goto(f"{base}/review/{submitted}")
    a.get_by_role("button", name="认领此变更单").click()
    a.wait_for_load_state()
    assert "由我处理" in a.locator("#claim").inner_text()
    shots(a, "claimed")

    b.goto(f"{base}/review")
    row = b.locator("tr", has=b.locator(f"a[href='/review/{submitted}']"))
    assert "demo-reviewer" in row.inner_text()
    shots(b, "queue-held-by-other")
    b.goto(f"{base}/review/{submitted}")
    assert "demo-reviewer 正在处理" in b.locator("#claim").inner_text()
    b.get_by_role("button", name="已接通").click()
    b.wait_for_load_state()
    message = b.locator("#calls .flash, #claim .flash").first
    assert "正由审核专员 demo-reviewer 处理" in message.inner_text()
    shots(b, "refused")

    a.goto(f"{base}/review/{submitted}")
    a.get_by_role("button", name="释放认领").click()
    a.wait_for_load_state()
    b.goto(f"{base}/review/{submitted}")
    b.get_by_role("button", name="认领此变更单").click()
    b.wait_for_load_state()
    assert "由我处理" in b.locator("#claim").inner_text()

    b.goto(f"{base}/review?q=" + "yunfan")
    assert b.locator(f"a[href='/review/{submitted}']").count() >= 1
    b.goto(f"{base}/review?q=nothing-like-this")
    assert "没有符合条件的变更单" in b.locator("main").inner_text()
    assert b.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shots(b, "search-empty")
    for p in (a, b):
        assert not p.script_errors
        p.context.close()
