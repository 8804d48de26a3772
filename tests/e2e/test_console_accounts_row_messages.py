"""账号管理 row actions (helper J's walk-through at 375 px): 停用 on the last admin redirected to
the row (#account-N) but printed 「这是最后一个启用的管理员账号…」 at the top of a long page, out of
view. A row action's message (refusal or success) is now shown in that row, beside the buttons."""

from __future__ import annotations

import re

from tests.e2e.test_console_http import console_client, csrf_of, log_in
from tests.workflow_support import account


def _row(html: str, account_id: int) -> str:
    m = re.search(rf'<tr id="account-{account_id}".*?</tr>', html, re.S)
    assert m, html
    return m.group(0)


def test_row_action_messages_are_shown_in_the_row(app, seeded) -> None:  # noqa: ANN001
    web = console_client(app)
    log_in(web, "demo-admin")
    admin = account(seeded, "demo-admin")
    r = web.post(f"/admin/accounts/{admin.id}", data={"csrf_token": csrf_of(web, "/admin/accounts"), "op": "disable"},
                 follow_redirects=True)
    assert r.status_code == 200
    row = _row(r.text, admin.id)
    assert "flash-error" in row and "最后一个启用的管理员" in row
    before_table = r.text.split('<table class="accounts">')[0]
    assert "最后一个启用的管理员" not in before_table  # not also at the top
    reviewer = account(seeded, "demo-reviewer")
    r = web.post(f"/admin/accounts/{reviewer.id}", data={"csrf_token": csrf_of(web, "/admin/accounts"), "op": "disable"},
                 follow_redirects=True)
    assert "已停用" in _row(r.text, reviewer.id)
