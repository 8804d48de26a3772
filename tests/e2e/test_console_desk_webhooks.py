"""The 管局工作台 and 网络钩子 console pages over HTTP (no browser): forms, CSRF, roles."""

from __future__ import annotations

from typing import Any

import pytest

from beiandesk.services import review
from tests.e2e.test_console_http import CSRF, account, console_client, log_in
from tests.workflow_support import submitted_change


@pytest.fixture
def web(app: Any, seeded: Any):  # noqa: ANN201
    app.deps.gateway = None  # the desk
    with console_client(app) as c:
        yield c


def _passed(deps: Any) -> int:
    cid = submitted_change(deps, name="明远技术随笔").id
    staff = account(deps, "demo-reviewer")
    review.log_call(deps, staff, cid, "reached", "")
    review.approve(deps, staff, cid, "")
    return cid


def _post(web: Any, path: str, page: str, **data: str) -> Any:
    token = CSRF.search(web.get(page).text).group(1)
    return web.post(path, data={"csrf_token": token, **data})


def test_desk_page_drives_an_order_to_approval(web: Any, seeded: Any) -> None:
    cid = _passed(seeded)
    log_in(web, "demo-personal")
    assert web.get("/desk").status_code == 403
    log_in(web, "demo-reviewer")
    page = web.get("/desk")
    assert page.status_code == 200 and "管局工作台" in page.text and f'id="order-{cid}"' in page.text
    assert "待提交管局（1）" in page.text and "13912345678" not in page.text

    # Without the CSRF token nothing happens.
    assert web.post(f"/desk/{cid}/submitted", data={"ref": "X"}).status_code == 403
    r = _post(web, f"/desk/{cid}/submitted", "/desk", ref="沪受理-7")
    assert r.status_code == 303 and r.headers["location"] == f"/desk#order-{cid}"
    page = web.get("/desk").text
    assert "已登记为已提交管局" in page and "短信核验截止" in page and "剩余约 24 小时" in page
    # Out of order: a message, not a crash.
    _post(web, f"/desk/{cid}/decision", "/desk", decision="approve")
    assert "不能登记为管局通过" in web.get("/desk").text
    _post(web, f"/desk/{cid}/sms-passed", "/desk")
    assert "管局审核中（1）" in web.get("/desk").text
    _post(web, f"/desk/{cid}/decision", "/desk", decision="approve")
    assert "已登记管局通过" in web.get("/desk").text
    with seeded.uow(readonly=True) as uow:
        assert str(uow.changes.get(cid).state) == "approved"

    csv = web.get("/desk/export.csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeff变更单")


def test_desk_return_form(web: Any, seeded: Any) -> None:
    cid = _passed(seeded)
    log_in(web, "demo-reviewer")
    _post(web, f"/desk/{cid}/submitted", "/desk", ref="R-1")
    _post(web, f"/desk/{cid}/returned", "/desk", reason="other", other_reason="负责人手机号已停机")
    page = web.get("/desk").text
    assert "已登记为管局退回" in page and "负责人手机号已停机" in page


def test_webhooks_page_creates_lists_and_deletes(web: Any, app: Any, seeded: Any) -> None:
    log_in(web, "demo-reviewer")
    assert web.get("/admin/webhooks").status_code == 403
    log_in(web, "demo-admin")
    page = web.get("/admin/webhooks")
    assert page.status_code == 200 and "添加网络钩子" in page.text
    r = _post(web, "/admin/webhooks", "/admin/webhooks", url="https://hooks.example.com/in",
              secret="s" * 20, events="approved", more_events="submitted")
    assert r.status_code == 303, r.text
    hook_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = web.get(r.headers["location"]).text
    assert "https://hooks.example.com/in" in page and "approved、submitted" in page and "投递记录" in page
    assert "s" * 20 not in page
    app.deps.webhook_sender.allow_private = False
    _post(web, "/admin/webhooks", "/admin/webhooks", url="http://127.0.0.1:9/x", secret="s" * 20, events="approved")
    assert "内网" in web.get("/admin/webhooks").text
    _post(web, f"/admin/webhooks/{hook_id}/delete", "/admin/webhooks")
    assert "还没有网络钩子" in web.get("/admin/webhooks").text
