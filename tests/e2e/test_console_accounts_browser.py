"""账号管理 in real chromium: an admin creates a reviewer, reads the one-time password once, the
reviewer must change it at first login; disabling and the audit log; at 1280 px and 375 px."""

from __future__ import annotations

import uuid

from tests.e2e.browser_support import DESKTOP, PHONE, Live, Shots, login, new_page


def test_admin_creates_a_reviewer_who_changes_the_one_time_password(live_console: Live, chromium,
                                                                    shots: Shots) -> None:
    base = live_console.base
    username = f"rev-{uuid.uuid4().hex[:6]}"
    admin = new_page(chromium, DESKTOP)
    login(admin, base, "demo-admin")
    admin.get_by_role("link", name="账号管理").click()
    admin.wait_for_url(f"{base}/admin/accounts")
    shots(admin, "accounts-list")
    admin.get_by_label("用户名").fill(username)
    admin.get_by_label("角色", exact=True).select_option("reviewer")
    admin.get_by_label("显示名").fill("审核专员 周")
    admin.get_by_role("button", name="新建账号").click()
    admin.wait_for_load_state()
    card = admin.locator(".otp-card")
    assert "只显示这一次" in card.inner_text()
    otp = admin.locator("[data-otp]").inner_text().strip()
    assert len(otp) >= 10
    row = admin.locator(f"tr[data-username='{username}']")
    assert "待修改初始密码" in row.inner_text() and "审核专员" in row.inner_text()
    shots(admin, "account-created-otp")
    admin.reload()  # shown once: a reload (GET) does not show it again
    assert admin.locator(".otp-card").count() == 0 and otp not in admin.content()

    phone = new_page(chromium, PHONE)
    phone.goto(f"{base}/login")
    phone.get_by_label("用户名").fill(username)
    phone.get_by_label("密码").fill(otp)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url(f"{base}/account/password")
    assert "一次性密码" in phone.locator("main").inner_text()
    shots(phone, "forced-password-change-375")
    phone.get_by_label("当前密码").fill(otp)
    phone.get_by_label("新密码", exact=True).fill("Harbour-Lights-2026")
    phone.get_by_label("再次输入新密码").fill("Harbour-Lights-2026")
    phone.get_by_role("button", name="保存新密码").click()
    phone.wait_for_url(f"{base}/review")
    assert "密码已修改" in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    admin.goto(f"{base}/admin/accounts")
    admin.locator(f"tr[data-username='{username}']").get_by_role("button", name="停用").click()
    admin.wait_for_load_state()
    assert "已停用" in admin.locator(f"tr[data-username='{username}']").inner_text()
    phone.goto(f"{base}/review")
    assert phone.url.startswith(f"{base}/login")
    assert "停用" in phone.locator("main").inner_text()
    shots(phone, "disabled-refused-375")

    admin.get_by_role("link", name="审计日志").click()
    admin.wait_for_url(f"{base}/admin/audit")
    text = admin.locator("main").inner_text()
    assert "新建账号" in text and "停用账号" in text and "修改本人密码" in text and username in text
    shots(admin, "audit-log")

    small = new_page(chromium, PHONE)
    login(small, base, "demo-admin")
    small.goto(f"{base}/admin/accounts")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shots(small, "accounts-375")
    assert admin.script_errors == [] and phone.script_errors == [] and small.script_errors == []
