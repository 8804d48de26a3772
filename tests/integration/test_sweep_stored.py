"""The compliance sweep over many websites on one loopback server: results stored per website
with history, per-day figures, bounded work in flight; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from beiandesk.adapters.site_probe import HttpSiteProbe
from beiandesk.domain.model import Principal, Resource, Subject, SubjectKind, Website, WebsiteInfo, WebsiteStatus
from beiandesk.services import sweep
from tests.many_sites import ManySites, footer_page, loopback_resolver

SUBJECT = "京ICP备20269999号"


def _fill(deps, n: int, port: int, pages: dict[str, str]) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    p = Principal("测试", "resident_id", "110101199003077777", "13800000000", "t@example.cn")
    with deps.uow() as uow:
        subject = uow.subjects.add(Subject(0, None, SubjectKind.enterprise, "巡检测试有限公司", "北京", "uscc",
                                           "91110000MA00000000", SUBJECT, p), now)
        batch = []
        for i in range(1, n + 1):
            host = f"site{i}.sweep.test"
            number = f"{SUBJECT}-{i}"
            if i % 10 == 0:
                pages[host] = footer_page(f"{SUBJECT}-{i + 1}")  # the wrong website's number
            elif i % 10 != 5:
                pages[host] = footer_page(number)
            # i % 10 == 5: no page at all (404)
            info = WebsiteInfo(f"巡检网站{i}", (host,), f"http://{host}:{port}/", p, ("企业官网",), Resource())
            batch.append(Website(0, subject.id, number, WebsiteStatus.open, info))
        uow.websites.add_many(batch, now)
        uow.commit()


def test_sweep_stores_every_result_with_history(seeded) -> None:  # noqa: ANN001
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        _fill(seeded, 600, server.port, pages)
        seeded.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver, timeout_s=5)
        seen = []
        first = sweep.run(seeded, concurrency=16, keep="failing", progress=lambda done, total: seen.append(total))
        # The three demo websites are hosted nowhere here: they fail too (unreachable).
        assert first.checked == 603
        assert first.failing == 60 + 60 + 3
        assert {r.website_id for r in first.results} and all(not r.ok for r in first.results)
        codes = {p.code for r in first.results for p in r.problems}
        assert {"footer_filing_number_mismatch", "site_unreachable"} <= codes
        assert seen[-1] == 603
        pages["site5.sweep.test"] = footer_page(f"{SUBJECT}-5")  # fixed
        seeded.clock.advance(hours=1)
        second = sweep.run(seeded, concurrency=16, keep="failing")
    assert second.failing == first.failing - 1
    with seeded.uow(readonly=True) as uow:
        site5 = next(w for w in uow.websites.list(account_id=None) if w.filing_number == f"{SUBJECT}-5")
        history = uow.sweeps.history(site5.id)
    assert [h["ok"] for h in history] == [True, False]
    day = sweep.per_day(seeded, days=3)[-1]
    assert day[1:] == (second.failing, 603)
    latest = sweep.latest(seeded)
    assert latest["id"] == second.run_id and len(latest["websites"]) == second.failing
    assert all(w["problems"] for w in latest["websites"])
