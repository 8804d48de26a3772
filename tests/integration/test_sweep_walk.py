"""The sweep's walk over the websites and the read-back of a run, on SQLite and PostgreSQL:
every open website exactly once per run (none twice, none missed, closed ones left out) across
page boundaries, results listed back in website order a page at a time, each run its own
history."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select, update

from beiandesk.adapters.db import tables as t
from beiandesk.adapters.site_probe import HttpSiteProbe
from beiandesk.services import sweep
from tests.many_sites import SWEEP_SUBJECT, ManySites, fill_websites, footer_page, loopback_resolver


def _page(i: int, number: str) -> str | None:
    if i % 7 == 0:
        return None  # 404
    return footer_page(number if i % 11 else f"{SWEEP_SUBJECT}-{i + 1}")


def _close(deps, website_ids: list[int]) -> None:  # noqa: ANN001
    with deps.uow() as uow:
        uow.conn.execute(
            update(t.websites).where(t.websites.c.id.in_(website_ids)).values(status="closed")
        )
        uow.commit()


def _stored(deps, run_id: int) -> list[tuple[int, bool]]:  # noqa: ANN001
    s = t.sweep_results
    with deps.uow(readonly=True) as uow:
        q = select(s.c.website_id, s.c.ok).where(s.c.run_id == run_id).order_by(s.c.id)
        return [(r.website_id, r.ok) for r in uow.conn.execute(q)]


def test_every_open_website_once_per_run_across_pages(deps, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sweep, "PAGE", 13)  # many pages, and a last one that is not full
    monkeypatch.setattr(sweep, "WRITE_BATCH", 9)
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        pages.update(fill_websites(deps, 150, server.port, _page))
        with deps.uow(readonly=True) as uow:
            ids = [w.id for w in uow.websites.list(account_id=None)]
        closed = ids[::10]
        _close(deps, closed)
        open_ids = [i for i in ids if i not in closed]
        deps.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver, timeout_s=5)
        first = sweep.run(deps, concurrency=6, keep="none")
        deps.clock.advance(hours=1)
        second = sweep.run(deps, concurrency=3, keep="failing")
        requests = server.requests
    assert requests == 2 * len(open_ids)  # each open site fetched once a run, closed ones never
    for summary in (first, second):
        stored = _stored(deps, summary.run_id)
        assert [w for w, _ in stored] == open_ids  # in website order, none twice, none missed
        assert summary.checked == len(open_ids)
        assert summary.failing == sum(not ok for _, ok in stored) > 0
        listed = [(r["website_id"], r["ok"]) for r in sweep.stored_results(deps, summary.run_id)]
        assert listed == stored  # this run's results only, read back page by page
    assert first.results == [] and {r.website_id for r in second.results} == {
        w for w, ok in _stored(deps, second.run_id) if not ok
    }
    with deps.uow(readonly=True) as uow:
        runs = uow.sweeps.runs(deps.clock.now().replace(year=2000))
        history = uow.sweeps.history(open_ids[0])
    assert [(r["id"], r["checked"], r["failing"]) for r in runs] == [
        (first.run_id, first.checked, first.failing),
        (second.run_id, second.checked, second.failing),
    ]
    assert all(r["finished_at"] is not None for r in runs)
    assert len(history) == 2 and history[0]["checked_at"] > history[1]["checked_at"]


def test_stored_results_read_back_a_page_at_a_time(deps) -> None:  # noqa: ANN001
    pages: dict[str, str] = {}
    with ManySites(lambda host: pages.get(host)) as server:
        pages.update(fill_websites(deps, 40, server.port, _page))
        deps.site_probe = HttpSiteProbe(allow_private=True, resolver=loopback_resolver, timeout_s=5)
        summary = sweep.run(deps, concurrency=4, keep="all")
    for page in (1, 7, 40, 500):
        listed = list(sweep.stored_results(deps, summary.run_id, page=page))
        assert listed == [r.to_dict() for r in summary.results], page
    ids = Counter(r["website_id"] for r in listed)
    assert len(ids) == 40 and set(ids.values()) == {1}
    bad = next(r for r in listed if r["filing_number"] == f"{SWEEP_SUBJECT}-7")
    assert not bad["ok"] and bad["problems"][0]["code"] == "site_unreachable"
    assert list(sweep.stored_results(deps, None)) == []
