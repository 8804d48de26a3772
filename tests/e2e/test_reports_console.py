"""The admin's 运营报表: SLA figures from real review rounds, the chart, upcoming expiries."""

from __future__ import annotations


from beiandesk.services import reminders, review, sla
from tests.e2e.test_console_http import console_client, log_in
from tests.workflow_support import account, submitted_change


def test_figures_follow_review_rounds(seeded, fakes) -> None:  # noqa: ANN001
    reviewer = account(seeded, "demo-reviewer")
    order = submitted_change(seeded)
    fakes["clock"].advance(hours=3)
    review.log_call(seeded, reviewer, order.id, "reached", "")
    review.approve(seeded, reviewer, order.id, "")
    other = submitted_change(seeded, "demo-enterprise")
    fakes["clock"].advance(hours=1)
    review.reject(seeded, reviewer, other.id, [{"code": "other", "message": "网站名称与内容不符"}])
    waiting = submitted_change(seeded, "demo-enterprise", website_index=1)
    fakes["clock"].advance(days=5)  # past two working days: the third order is overdue

    f = sla.figures(seeded, account(seeded, "demo-admin"))
    assert f["decided"] == 2
    assert f["median_hours"] == 2.0  # 3 h and 1 h
    assert [(r.reviewer, r.decided, r.approved, r.rejected) for r in f["reviewers"]] == [("demo-reviewer", 2, 1, 1)]
    assert [o["id"] for o in f["overdue"]] == [waiting.id]
    assert sum(n for _, n, _ in f["per_day"]) == 2


def test_report_page_for_admins_only(app, seeded, fakes) -> None:  # noqa: ANN001
    fakes["clock"].current = fakes["clock"].current.replace(year=2027, month=12, day=10)
    reminders.send_expiry_reminders(seeded)  # demo servers expire on 2028-01-05: within 60 days
    with console_client(app) as web:
        log_in(web, "demo-admin")
        page = web.get("/admin/reports")
        assert page.status_code == 200
        assert "初审用时中位数" in page.text and "<svg" in page.text
        assert "即将到期" in page.text and "2028-01-05" in page.text
        assert "运营报表" in page.text
        log_in(web, "demo-reviewer")
        assert web.get("/admin/reports").status_code == 403


def test_report_page_shows_the_latest_sweep(app, seeded) -> None:  # noqa: ANN001
    from beiandesk.domain.problems import error
    from beiandesk.services import sweep
    seeded.site_probe.problems = [error("footer_filing_number_missing", "网站首页底部没有展示备案号")]
    summary = sweep.run(seeded, concurrency=2)
    assert summary.checked == 3 and summary.failing == 3
    with console_client(app) as web:
        log_in(web, "demo-admin")
        page = web.get("/admin/reports").text
        assert "合规巡检" in page and "检查 3 个网站" in page and "网站首页底部没有展示备案号" in page


def _unfinished_run(deps, checked: int, failing: int, stopping: int | None = None) -> int:  # noqa: ANN001
    """A run that stored ``checked`` results so far (a new one), or ``stopping`` stopped there."""
    now = deps.clock.now()
    with deps.uow() as uow:
        if stopping is None:
            run_id = uow.sweeps.start(now)
            uow.sweeps.progress(run_id, checked, failing, now)
        else:
            run_id = stopping
            uow.sweeps.stop(run_id, checked, failing, now)
        uow.commit()
    return run_id


def test_report_page_says_when_a_sweep_did_not_finish(app, seeded, fakes) -> None:  # noqa: ANN001
    from beiandesk.domain.problems import error
    from beiandesk.services import sweep
    seeded.site_probe.problems = [error("footer_filing_number_missing", "网站首页底部没有展示备案号")]
    sweep.run(seeded, concurrency=2)  # a finished sweep first
    fakes["clock"].advance(hours=1)
    run_id = _unfinished_run(seeded, 200, 7)
    with console_client(app) as web:
        log_in(web, "demo-admin")
        page = web.get("/admin/reports").text
        assert "巡检进行中" in page and "已检查 200 个网站" in page and "<strong>7</strong>" in page
        assert "最近一次完成的巡检" in page and "检查 3 个网站" in page
        fakes["clock"].advance(hours=1)  # no batch for an hour: the process is gone
        page = web.get("/admin/reports").text
        assert "巡检进行中" not in page and "不再有进度，运行它的进程可能已退出" in page
        assert "已检查并保存 200 个网站的结果，其中 7 个有问题" in page and "最近一次完成的巡检" in page
        _unfinished_run(seeded, 200, 7, stopping=run_id)
        page = web.get("/admin/reports").text
        assert "被中止" in page and "重新运行 <code>beiandesk sweep</code>" in page


def test_report_page_with_only_an_unfinished_sweep(app, seeded, fakes) -> None:  # noqa: ANN001
    _unfinished_run(seeded, 40, 2, stopping=_unfinished_run(seeded, 0, 0))
    with console_client(app) as web:
        log_in(web, "demo-admin")
        page = web.get("/admin/reports").text
        assert "被中止" in page and "已检查并保存 40 个网站的结果" in page
        assert "还没有巡检记录" not in page and "最近一次完成的巡检" not in page
