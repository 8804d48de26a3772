"""The admin sub-nav row on a phone (helper J's walk-through): at 375 px the six admin links do
not fit one row, which scrolls sideways by itself. Opening 审计日志 (the last link) left the
current page's link hidden off the right edge, so nothing said where the admin was; the row now
scrolls the current link into view. The page itself still never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import PHONE, Live, Shots, login, new_page

pytestmark = [pytest.mark.browser]

_VISIBLE = """() => { const a = document.querySelector('.subnav a[aria-current="page"]');
                       const r = a.getBoundingClientRect();
                       return r.left >= 0 && r.right <= document.documentElement.clientWidth + 1; }"""


def test_the_current_admin_page_is_visible_in_the_sub_nav_on_a_phone(live_console: Live, chromium,
                                                                     shots: Shots) -> None:  # noqa: ANN001
    page = new_page(chromium, PHONE)
    login(page, live_console.base, "demo-admin")
    for path, label in (("/admin/audit", "审计日志"), ("/admin/reports", "运营报表"), ("/admin/accounts", "账号管理")):
        page.goto(live_console.base + path)
        page.wait_for_load_state("load")
        current = page.locator('.subnav a[aria-current="page"]')
        assert current.inner_text() == label
        page.wait_for_function(_VISIBLE, timeout=3000)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shots(page, path.strip("/").replace("/", "-"))
    assert not page.script_errors
    page.context.close()
