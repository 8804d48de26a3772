"""The console over HTTP for issue 12: internal notes never on the applicant's pages or in what
is sent to them, but on the reviewer's; a timeline a person reads; no submission without a
change; a second 未接通 too early refused beside the call buttons; the edit form sends its
version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from beiandesk.services import changes, materials, review
from tests.e2e.test_console_http import account, console_client, csrf_of, log_in, ready_order, submitted_order


@pytest.fixture
def web(app: Any, seeded: Any) -> Iterator[TestClient]:
    with console_client(app) as c:
        yield c


def test_notes_are_on_the_reviewers_pages_only(web: TestClient, seeded: Any, fakes: dict) -> None:
    change_id = submitted_order(seeded)
    reviewer = account(seeded, "demo-reviewer")
    review.log_call(seeded, reviewer, change_id, "unreachable", "admin B calls")
    fakes["clock"].advance(minutes=61)
    review.log_call(seeded, reviewer, change_id, "reached", "admin B reached")
    review.approve(seeded, reviewer, change_id, "admin B approves")

    log_in(web, "demo-personal")
    page = web.get(f"/changes/{change_id}").text
    assert "admin B" not in page
    assert "审核专员电话联系：已接通" in page and "初审通过，正在提交管局" in page
    with seeded.uow(readonly=True) as uow:
        sent = [repr(i.payload) for i in uow.outbox.list()]
    assert sent and all("admin B" not in s for s in sent)

    log_in(web, "demo-reviewer")
    page = web.get(f"/review/{change_id}").text
    assert "admin B calls" in page and "admin B reached" in page and "admin B approves" in page


def test_the_timeline_folds_saves_and_names_materials(web: TestClient, seeded: Any) -> None:
    change_id = ready_order(seeded)
    actor = account(seeded, "demo-personal")
    for name in ("明远技术随笔", "明远技术园地", "明远技术分享"):
        o = changes.get_change(seeded, actor, change_id)
        changes.update_change(seeded, actor, change_id, {"name": name}, o.version)
    m = materials.list_materials(seeded, actor, change_id)[0]
    materials.delete_material(seeded, actor, change_id, m.id)
    log_in(web, "demo-personal")
    page = web.get(f"/changes/{change_id}").text
    assert page.count("保存网站信息") == 2  # before and after the uploads: two runs of saves
    assert "保存网站信息：网站名称" in page
    assert "删除材料：" in page and f"删除材料 #{m.id}" not in page
    assert "authorization_letter" not in page and "id_card_front" not in page
    assert "。；" not in page


def test_the_review_page_says_there_is_nothing_to_submit(web: TestClient, seeded: Any) -> None:
    actor = account(seeded, "demo-personal")
    change_id = ready_order(seeded)
    o = changes.get_change(seeded, actor, change_id)
    changes.update_change(seeded, actor, change_id, {"home_url": o.current.home_url}, o.version)  # take it back
    log_in(web, "demo-personal")
    page = web.get(f"/changes/{change_id}/review").text
    assert 'id="no-changes"' in page and "尚未修改任何信息" in page
    r = web.post(f"/changes/{change_id}/submit", data={"csrf_token": csrf_of(web, "/"), "consent": "yes"})
    assert r.status_code == 409 and "没有需要提交的变更" in r.text
    assert changes.get_change(seeded, actor, change_id).state == "draft"


def test_a_second_miss_too_early_is_refused_beside_the_call_buttons(web: TestClient, seeded: Any) -> None:
    change_id = submitted_order(seeded)
    log_in(web, "demo-reviewer")
    token = csrf_of(web, f"/review/{change_id}")
    assert web.post(f"/review/{change_id}/calls", data={"csrf_token": token, "outcome": "unreachable"}).status_code == 303
    r = web.post(f"/review/{change_id}/calls", data={"csrf_token": token, "outcome": "unreachable"})
    assert r.status_code == 303 and r.headers["location"] == f"/review/{change_id}#calls"
    page = web.get(f"/review/{change_id}").text
    calls = page[page.index('id="calls"'):page.index('id="approve"')]
    assert 'id="flash-here"' in calls and "须间隔约 60 分钟" in calls
    assert changes.get_change(seeded, account(seeded, "demo-reviewer"), change_id).state == "provider_review"


def test_the_edit_form_saves_with_its_version(web: TestClient, seeded: Any) -> None:
    actor = account(seeded, "demo-personal")
    site = changes.open_change(seeded, actor, 1)
    log_in(web, "demo-personal")
    page = web.get(f"/changes/{site.id}/edit").text
    assert 'name="version" value="1"' in page
