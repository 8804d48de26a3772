"""The console in real chromium: a website change from login to the 管局's approval (desktop).

Applicant: home → 更多操作 → 变更网站 → live checks → 保存网站信息 → 上传核验照片 and materials
(one dragged and dropped) → 下一步 → consent → 提交; later a second change, withdrawn. Reviewer: 未接通, the retry, 已接通, 通过. The worker hands the order to
the sandbox; the applicant verifies the SMS code on the sandbox's MIIT page; the sandbox's 管局
approves; the applicant sees the approved record. The admin sees the notifications it sent.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser_support import (
    DESKTOP,
    Live,
    Shots,
    drop_file,
    login,
    new_page,
    reload_until,
    sample_files,
    sms_codes,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def upload_required_materials(page, scan: Path) -> None:
    """Upload a file into every 必传 slot still empty (which ones depends on the province rules)."""
    while True:
        empty = page.locator(".slot-required:not(.slot-done) input[type=file]")
        if empty.count() == 0:
            return
        slot = page.locator(".slot-required:not(.slot-done)").first
        slot.locator("input[type=file]").set_input_files(str(scan))
        slot.get_by_role("button", name="上传").click()
        page.wait_for_load_state()


def test_applicant_change_reviewer_retry_sms_and_approval(live_console: Live, chromium, shots: Shots,
                                                          tmp_path: Path) -> None:
    base = live_console.base
    files = sample_files(tmp_path)
    page = new_page(chromium, DESKTOP)

    # -- applicant: home --------------------------------------------------------------------
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    shots(page, "login")
    login(page, base, "demo-personal")
    main = page.locator("main")
    assert "粤ICP备20260001号-1" in main.inner_text()
    assert "139****5678" in main.inner_text() and "13912345678" not in page.content()
    shots(page, "applicant-home")

    # -- 更多操作 → 变更网站 ------------------------------------------------------------------
    card = page.locator("li.site", has_text="明远技术笔记")
    card.get_by_role("button", name="更多操作").click()
    shots(page, "more-actions")
    card.get_by_role("button", name="变更网站").click()
    page.wait_for_url(re.compile(r"/changes/\d+/edit$"))
    change_url = page.url.removesuffix("/edit")
    change_id = change_url.rsplit("/", 1)[1]

    # -- edit with live checks ----------------------------------------------------------------
    name = page.get_by_label("网站名称")
    name_problems = page.locator("#p-proposed-name")
    name.fill("12")
    name_problems.locator(".problem.error").first.wait_for()
    assert page.locator("#live-summary").inner_text().startswith("预检发现")
    shots(page, "edit-live-problem")
    name.fill("明远技术笔记与分享")
    wait_until(lambda: name_problems.locator(".problem.error").count() == 0, timeout=10)
    shots(page, "edit-fixed")
    page.get_by_role("button", name="保存网站信息").click()
    page.wait_for_url(f"{change_url}/materials")

    # -- verification photo and materials -------------------------------------------------------
    page.get_by_label("上传核验照片").set_input_files(str(files["photo"]))
    page.locator("[data-preview] img").first.wait_for()  # the preview before upload
    shots(page, "photo-chosen")
    page.get_by_role("button", name="上传并检测").click()
    page.wait_for_load_state()
    verdict = page.locator(".verdict")
    assert "预检通过" in verdict.inner_text(), verdict.inner_text()
    first = page.locator(".slot-required:not(.slot-done)").first
    drop_file(page, first.locator("[data-dropzone]"), files["scan"], "image/png")
    first.locator("[data-preview] img").wait_for()  # dropped, previewed, not yet sent
    shots(page, "material-dropped")
    first.get_by_role("button", name="上传").click()
    page.wait_for_load_state()
    assert page.locator(".slot-done .thumb").count() == 1
    upload_required_materials(page, files["scan"])
    assert page.locator(".slot-required:not(.slot-done)").count() == 0
    shots(page, "materials-done")

    # -- review and submit --------------------------------------------------------------------
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(f"{change_url}/review")
    changed = page.locator("table.diff tr.changed", has_text="网站名称").first
    assert "明远技术笔记" in changed.inner_text() and "明远技术笔记与分享" in changed.inner_text()
    assert page.get_by_role("link", name="《服务条款》").get_attribute("href") == "/terms"
    assert page.get_by_role("link", name="《隐私声明》").get_attribute("href") == "/privacy"
    shots(page, "review")
    consent = page.get_by_label("阅读并同意《服务条款》和《隐私声明》")
    page.get_by_role("button", name="提交").click()  # without consent the browser itself refuses
    assert consent.evaluate("box => box.validity.valueMissing") and page.url == f"{change_url}/review"
    consent.check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(change_url)
    assert "接入商初审中" in page.locator(".progress").inner_text()
    shots(page, "submitted")

    # -- reviewer: missed call, retry, approval -----------------------------------------------
    rev = new_page(chromium, DESKTOP)
    login(rev, base, "demo-reviewer")
    assert rev.url == base + "/review"
    rev.get_by_role("link", name=f"#{change_id}").click()
    shots(rev, "reviewer-order")
    assert rev.get_by_role("button", name="通过").is_disabled()  # no reached call yet
    assert "13912345678" not in rev.content()  # masked until the reviewer asks for it
    rev.get_by_role("button", name="显示完整手机号").click()
    rev.wait_for_load_state()
    assert "13912345678" in rev.locator("#contact").inner_text()
    rev.get_by_role("button", name="未接通").click()
    rev.wait_for_load_state()
    assert "下次致电时间" in rev.locator("#calls").inner_text()
    shots(rev, "reviewer-missed-call")
    rev.goto(base + "/review")
    assert "下次致电" in rev.locator("table.queue").inner_text()
    shots(rev, "reviewer-queue-retry")
    rev.get_by_role("link", name=f"#{change_id}").click()
    rev.get_by_label("通话备注（可选）").fill("第二次致电接通，申请人确认变更网站名称")
    rev.get_by_role("button", name="已接通").click()
    rev.wait_for_load_state()
    rev.get_by_role("button", name="通过").click()
    rev.wait_for_load_state()
    assert "初审已通过" in rev.locator(".flash").inner_text()
    shots(rev, "reviewer-approved")

    # -- SMS check on the sandbox's MIIT page -----------------------------------------------------
    reload_until(page, change_url, "请完成工信部短信核验")
    assert "24 小时内" in page.locator(".next-step").inner_text()
    shots(page, "applicant-sms-instruction")
    with page.expect_popup() as popup:
        page.get_by_role("link", name="前往沙箱工信部核验页面").click()
    miit = popup.value
    miit.wait_for_load_state()
    assert "沙箱" in miit.title()
    ref = miit.get_by_label("备案订单号").input_value()
    codes = wait_until(lambda: sms_codes(base, ref))
    miit.get_by_label("验证码").fill(codes[-1]["code"])
    miit.get_by_role("button", name="提交核验").click()
    miit.wait_for_load_state()
    assert "核验成功" in miit.locator("main").inner_text()
    shots(miit, "sandbox-sms-verified")

    # -- the 管局 approves; the applicant sees the new record -------------------------------------
    reload_until(page, change_url, "管局审核中")
    r = httpx.post(f"{base}/sandbox/orders/{ref}/decision", json={"decision": "approve", "reasons": []}, timeout=10)
    assert r.status_code == 200, r.text
    reload_until(page, change_url, "变更已完成")
    shots(page, "applicant-approved")
    page.get_by_role("link", name="查看最新备案信息").click()
    record = page.locator("main").inner_text()
    assert "明远技术笔记与分享" in record and "粤ICP备20260001号-1" in record and "第 2 版" in record
    shots(page, "approved-record")
    page.goto(base + "/")
    assert "明远技术笔记与分享" in page.locator("li.site").inner_text()

    # -- a second change, withdrawn: the record stays as approved ----------------------------------
    card = page.locator("li.site", has_text="明远技术笔记与分享")
    card.get_by_role("button", name="更多操作").click()
    card.get_by_role("button", name="变更网站").click()
    page.wait_for_url(re.compile(r"/changes/\d+/edit$"))
    page.get_by_role("link", name="返回订单").click()
    page.get_by_text("撤回此变更单").click()
    page.get_by_role("button", name="确认撤回").click()
    page.wait_for_load_state()
    assert "已撤回" in page.locator(".progress-state").inner_text()
    shots(page, "second-change-withdrawn")

    # -- admin: the outbox holds the notifications that went out ----------------------------------
    admin = new_page(chromium, DESKTOP)
    login(admin, base, "demo-admin")
    assert admin.url == base + "/admin"
    outbox = admin.locator("table.outbox").inner_text()
    assert "提交管局" in outbox and "已发送" in outbox
    shots(admin, "admin-outbox")

    assert page.script_errors == rev.script_errors == admin.script_errors == []
