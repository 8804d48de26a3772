"""The compliance sweep over many websites on one loopback server: results stored per website
with history, per-day figures, bounded work in flight; SQLite and PostgreSQL."""

from __future__ import annotations

from beiandesk.adapters.site_probe import HttpSiteProbe
from beiandesk.services import sweep
from tests.many_sites import SWEEP_SUBJECT, ManySites, fill_websites, footer_page, loopback_resolver

SUBJECT = SWEEP_SUBJECT


def _page(i: int, number: str) -> str | None:
    if i % 10 == 0:
        return footer_page(f"{SUBJECT}-{i + 1}")  # the wrong website's number
    if i % 10 == 5:
        return None  # no page at all (404)
    return footer_page(number)


def test_sweep_stores_every_result_with_history(seeded) -> None:  # noqa: ANN001
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        pages.update(fill_websites(seeded, 600, server.port, _page))
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
