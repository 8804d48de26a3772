"""The admin's outbox in chromium at 1280 px and 375 px: 发送失败 with its reason and a 重新发送
button, 待确认 with 标记为已发送, and the result of a click shown in view."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _rows(live: Live) -> tuple[int, int]:
    deps = live.app.deps
    now = deps.clock.now()
    with deps.uow() as uow:
        failed = uow.outbox.add("sms", {"to": "13800138000", "text": "【beiandesk】初审未通过短信", "event": "provider_rejected",
                                        "params": {}}, now, recipient_masked="138****8000", subject="浏览器测试：失败的短信")
        lost = uow.outbox.add("sms", {"to": "13800138000", "text": "【beiandesk】中断的短信", "event": "approved",
                                      "params": {}}, now, recipient_masked="138****8000", subject="浏览器测试：待确认的短信")
        for item in (failed, lost):
            assert uow.outbox.claim(item, "browser-test:1:000000", now)
        uow.outbox.mark_failed(failed, "腾讯云短信：FailedOperation.TemplateIncorrectOrUnapproved 模板未审批", now,
                               {"provider": "tencent", "request_id": "req-browser", "code": "FailedOperation.TemplateIncorrectOrUnapproved"})
        uow.outbox.release(lost, "browser-test:1:000000", "uncertain", "发送过程中处理进程中断，无法确定短信是否已发出", now)
        uow.commit()
    return failed, lost


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_admin_resolves_failed_and_uncertain_sms(live_console: Live, chromium, shots: Shots, viewport) -> None:
    failed, lost = _rows(live_console)
    page = new_page(chromium, viewport)
    login(page, live_console.base, "demo-admin")
    page.goto(f"{live_console.base}/admin")
    row = page.locator(f"#outbox-{failed}")
    assert "发送失败" in row.inner_text() and "TemplateIncorrectOrUnapproved" in row.inner_text()
    assert "仅保存" in page.locator("#h-jobs").locator("..").inner_text()     # SMS backend outbox, no SMTP
    shots(page, "outbox")
    row.get_by_role("button", name="重新发送").click()
    page.wait_for_load_state()
    flash = page.locator(".flash")
    assert f"通知 #{failed} 已重新排队发送" in flash.inner_text()
    assert flash.is_visible()
    box, height = flash.bounding_box(), page.evaluate("window.innerHeight")
    assert box and 0 <= box["y"] < height, box                                 # the message is in view
    # Demo mode keeps SMS in the outbox: the retried row ends 仅保存, honestly.
    wait_until(lambda: _status(live_console, failed) == "kept", timeout=30)
    page.goto(f"{live_console.base}/admin")
    lost_row = page.locator(f"#outbox-{lost}")
    assert "待确认" in lost_row.inner_text()
    lost_row.get_by_role("button", name="标记为已发送").click()
    page.wait_for_load_state()
    assert f"通知 #{lost} 已标记为已发送" in page.locator(".flash").inner_text()
    assert _status(live_console, lost) == "sent"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1   # no sideways scroll
    shots(page, "resolved")
    assert page.script_errors == []


def _status(live: Live, item: int) -> str:
    with live.app.deps.uow(readonly=True) as uow:
        return uow.outbox.get(item).status
