"""The console in real chromium at phone width (375 px): a rejection, a fix and a resubmission.

The enterprise applicant sees every filed website, the closed one included (it offers no change),
removes one of two domains, submits; the reviewer reaches the applicant and rejects with a reason
template plus a note; the applicant reads the reasons, fixes, resubmits; after first review the SMS check fails at the
sandbox (six wrong codes) and the reviewer re-sends the order to the authority.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser_support import (
    PHONE,
    Live,
    Shots,
    login,
    new_page,
    reload_until,
    sample_files,
    sms_codes,
    wait_until,
)
from tests.e2e.test_console_flow import upload_required_materials

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def submit_from_edit(page, files: dict[str, Path], change_url: str) -> None:
    page.get_by_role("button", name="保存网站信息").click()
    page.wait_for_url(f"{change_url}/materials")
    assert no_sideways_scroll(page)
    if "预检通过" not in page.locator("#verification").inner_text():
        page.get_by_label("上传核验照片").set_input_files(str(files["photo"]))
        page.get_by_role("button", name=re.compile("上传并检测")).click()
        page.wait_for_load_state()
    upload_required_materials(page, files["scan"])
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(f"{change_url}/review")
    assert no_sideways_scroll(page)
    page.get_by_label("阅读并同意《服务条款》和《隐私声明》").check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(change_url)


def test_rejection_fix_and_resubmission_on_a_phone(live_console: Live, chromium, shots: Shots,
                                                     tmp_path: Path) -> None:
    base = live_console.base
    files = sample_files(tmp_path)
    page = new_page(chromium, PHONE)
    login(page, base, "demo-enterprise")

    # -- every filed website is listed, the closed one without 变更网站 ---------------------------
    sites = page.locator("li.site")
    assert sites.count() == 3  # two open, one closed (api.md §Running)
    closed = page.locator("li.site", has_text="云帆旧版商城")
    assert "已关闭" in closed.inner_text()
    closed.get_by_role("button", name="更多操作").click()
    assert closed.get_by_role("button", name="变更网站").count() == 0
    assert no_sideways_scroll(page)
    shots(page, "enterprise-home")

    # -- change: drop one of two domains ---------------------------------------------------------
    docs = page.locator("li.site", has_text="云帆开发者文档中心")
    docs.get_by_role("button", name="更多操作").click()
    docs.get_by_role("button", name="变更网站").click()
    page.wait_for_url(re.compile(r"/changes/\d+/edit$"))
    change_url = page.url.removesuffix("/edit")
    page.get_by_label("yunfandev.com").uncheck()
    assert no_sideways_scroll(page)
    shots(page, "edit-remove-domain")
    submit_from_edit(page, files, change_url)
    assert "接入商初审中" in page.locator(".progress").inner_text()
    shots(page, "submitted")

    # -- reviewer: reached, then rejects with a template and a note --------------------------------
    rev = new_page(chromium, PHONE)
    login(rev, base, "demo-reviewer")
    rev.goto(change_url.replace("/changes/", "/review/"))
    rev.get_by_role("button", name="已接通").click()
    rev.wait_for_load_state()
    rev.get_by_label("首页未展示备案号").check()
    rev.get_by_label("其他原因 / 补充说明").fill("请在文档中心首页底部补充备案号链接。")
    assert no_sideways_scroll(rev)
    shots(rev, "reviewer-reject")
    rev.get_by_role("button", name="驳回").click()
    rev.wait_for_load_state()
    assert "已驳回" in rev.locator(".flash").inner_text()

    # -- applicant: reasons, fix, resubmit ---------------------------------------------------------
    page.goto(change_url)
    rejected = page.locator(".next-step.rejected").inner_text()
    assert "备案号" in rejected and "请在文档中心首页底部补充备案号链接。" in rejected
    shots(page, "applicant-rejected")
    page.get_by_role("link", name="修改并重新提交").click()
    page.wait_for_url(f"{change_url}/edit")
    assert "请在文档中心首页底部补充备案号链接。" in page.locator("main").inner_text()
    page.get_by_label("网站名称").fill("云帆开发者文档与帮助中心")
    shots(page, "applicant-fixing")
    submit_from_edit(page, files, change_url)
    assert "接入商初审中" in page.locator(".progress").inner_text()
    timeline = page.locator(".timeline").inner_text()
    assert "初审驳回" in timeline
    shots(page, "resubmitted")

    # -- approved again; the SMS check fails at the sandbox; the reviewer re-sends ----------------
    review_url = change_url.replace("/changes/", "/review/")
    rev.goto(review_url)
    rev.get_by_role("button", name="已接通").click()
    rev.wait_for_load_state()
    rev.get_by_role("button", name="通过").click()
    rev.wait_for_load_state()
    reload_until(page, change_url, "请完成工信部短信核验")
    ref = page.locator(".next-step code").inner_text()
    mobile = wait_until(lambda: sms_codes(base, ref))[0]["to"]
    for _ in range(6):  # five wrong codes, and the sixth attempt returns the order (api.md)
        httpx.post(f"{base}/sandbox/miit/verify", json={"ref": ref, "mobile": mobile, "code": "000000"}, timeout=10)
    reload_until(rev, review_url, "管局已退回")
    assert no_sideways_scroll(rev)
    shots(rev, "reviewer-returned")
    rev.get_by_role("button", name="重新提交管局").click()
    rev.wait_for_load_state()
    assert "已重新提交管局" in rev.locator(".flash").inner_text()
    reload_until(page, change_url, "请完成工信部短信核验")
    assert "重新提交管局" in page.locator(".timeline").inner_text()
    shots(page, "resent-sms-again")
    assert page.script_errors == rev.script_errors == []
