"""Compliance sweep: the footer and reachability check run over every filed open website.

The same probe the pre-check uses, so the provider finds a missing or unlinked filing number
before the 管局 does (product.md §Beyond the anchors). Websites are read a page at a time and
probed with at most ``concurrency`` requests in flight, and results are written in batches, so
memory stays flat however many websites are filed; every result is kept per website (its
history) with one ``sweep_runs`` row per sweep for the admin's chart.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from beiandesk.domain.problems import Problem, error
from beiandesk.services.deps import Deps
from beiandesk.services.precheck import china_today

log = logging.getLogger("beiandesk.sweep")

PAGE = 500
WRITE_BATCH = 200
#: A run that has stored nothing for this long without finishing was killed: its process no
#: longer runs (a batch of results is stored every ``WRITE_BATCH`` websites; at the probe's
#: time-out and the default concurrency that is under ten minutes even when every site hangs).
STALLED_AFTER = timedelta(minutes=30)


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run`: what was checked is stored, the run marked stopped;
    ``summary`` holds the counts so far (still a ``KeyboardInterrupt``)."""

    def __init__(self, summary: SweepSummary) -> None:
        super().__init__()
        self.summary = summary


@dataclass
class SweepResult:
    website_id: int
    filing_number: str
    name: str
    home_url: str
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    def to_dict(self) -> dict:
        return {
            "website_id": self.website_id,
            "filing_number": self.filing_number,
            "name": self.name,
            "home_url": self.home_url,
            "ok": self.ok,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass
class SweepSummary:
    run_id: int | None = None
    checked: int = 0
    failing: int = 0
    results: list[SweepResult] = field(default_factory=list)  # all, only failing ones, or none


def _count_open(d: Deps) -> int:
    with d.uow(readonly=True) as uow:
        counts = getattr(uow.websites, "count_open", None)
        return counts() if counts else -1


def _open_sites(d: Deps, page: int | None = None) -> Iterator[tuple[int, str, str, str]]:
    """``(id, filing_number, name, home_url)`` of every open website, a page at a time by key."""
    page, after = page or PAGE, 0
    while True:
        with d.uow(readonly=True) as uow:
            rows = uow.sweeps.open_websites(after, page)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def _check(d: Deps, site: tuple[int, str, str, str]) -> SweepResult:
    website_id, filing_number, name, home_url = site
    try:
        problems = d.site_probe.probe(home_url, filing_number)
    except Exception as exc:  # noqa: BLE001 - one bad record must not stop the sweep
        problems = [
            error(
                "site_check_failed",
                f"无法检查该网站：{type(exc).__name__}。请核对首页地址与备案号。",
                field="home_url",
            )
        ]
    return SweepResult(website_id, filing_number, name, home_url, problems)


def run(
    d: Deps,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
    keep: str = "all",
) -> SweepSummary:
    """Probe every open website; store each result; ``keep`` ``"all"``, ``"failing"`` or
    ``"none"`` of the results in the summary too (``"none"``: memory stays flat however many
    websites; read them back with :func:`stored_results`)."""
    summary = SweepSummary()
    if d.site_probe is None:
        return summary
    now = d.clock.now()
    with d.uow() as uow:
        summary.run_id = uow.sweeps.start(now)
        uow.commit()
    pending: list[dict[str, Any]] = []
    stored = {"checked": 0, "failing": 0}  # what the stored results count

    def flush() -> None:
        # The results and the counts so far in one transaction: the run's row never counts a
        # result that is not stored.
        checked, failing = _with_pending(stored, pending)
        with d.uow() as uow:
            uow.sweeps.add_results(summary.run_id, pending)
            uow.sweeps.progress(summary.run_id, checked, failing, d.clock.now())
            uow.commit()
        stored.update(checked=checked, failing=failing)
        pending.clear()

    def collect(result: SweepResult) -> None:
        summary.checked += 1
        summary.failing += 0 if result.ok else 1
        if keep == "all" or (keep == "failing" and not result.ok):
            summary.results.append(result)
        pending.append(
            {
                "website_id": result.website_id,
                "checked_at": d.clock.now(),
                "ok": result.ok,
                "problems": [p.to_dict() for p in result.problems],
            }
        )
        if len(pending) >= WRITE_BATCH:
            flush()
        if progress:
            progress(summary.checked, max(total, summary.checked))

    window = max(1, concurrency) * 2
    in_flight: deque[Future[SweepResult]] = deque()
    total = -1
    try:
        total = _count_open(d)
        if progress:
            progress(0, total)
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sweep") as pool:
            try:
                for site in _open_sites(d):
                    in_flight.append(pool.submit(_check, d, site))
                    while len(in_flight) >= window:
                        collect(in_flight.popleft().result())
                while in_flight:
                    collect(in_flight.popleft().result())
            finally:
                for waiting in in_flight:  # stopping: the probes not yet begun are not begun
                    waiting.cancel()
        if pending:
            flush()
    except BaseException as exc:
        _stopped(d, summary, pending, stored)
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, SweepInterrupted):
            raise SweepInterrupted(summary) from exc
        raise
    with d.uow() as uow:
        uow.sweeps.finish(summary.run_id, summary.checked, summary.failing, d.clock.now())
        uow.commit()
    return summary


def _with_pending(stored: dict[str, int], pending: list[dict[str, Any]]) -> tuple[int, int]:
    """(checked, failing) once ``pending``'s rows are stored beside those ``stored`` counts."""
    return (
        stored["checked"] + len(pending),
        stored["failing"] + sum(1 for row in pending if not row["ok"]),
    )


def _stopped(
    d: Deps, summary: SweepSummary, pending: list[dict[str, Any]], stored: dict[str, int]
) -> None:
    """A run stopped halfway: store what it checked and mark it stopped — best effort, since
    what stopped it may be the database itself (then the run shows as stalled instead).

    The counts come from the rows, not from ``collect``'s tally (a Ctrl-C may land between a
    count and its row), and from the run's own row: a batch's results and counts are one
    transaction, so a run row that counts more than ``stored`` says the batch in ``pending``
    was committed as the stop came (a Ctrl-C while the commit waited for its fsync)."""
    try:
        with d.uow() as uow:
            row = uow.sweeps.get(summary.run_id) or {}
            if row.get("checked", 0) > stored["checked"]:
                stored.update(checked=row["checked"], failing=row["failing"])
                pending.clear()
            checked, failing = _with_pending(stored, pending)
            if pending:
                uow.sweeps.add_results(summary.run_id, pending)
            uow.sweeps.stop(summary.run_id, checked, failing, d.clock.now())
            uow.commit()
        pending.clear()
        summary.checked, summary.failing = checked, failing
    except Exception:  # noqa: BLE001 - the original failure is the one raised
        log.exception("巡检中断后未能保存已检查的结果（run %s）", summary.run_id)


def sweep(
    d: Deps, concurrency: int = 8, progress: Callable[[int, int], None] | None = None
) -> list[SweepResult]:
    """Every open website's result (the CLI's listing); also stored, like :func:`run`."""
    return run(d, concurrency, progress).results


def stored_results(
    d: Deps, run_id: int | None, page: int | None = None
) -> Iterator[dict[str, Any]]:
    """A run's stored results in website order, a page at a time, each as
    :meth:`SweepResult.to_dict` gives it (the CLI lists a sweep of any size this way)."""
    if run_id is None:
        return
    page, after = page or PAGE, 0
    while True:
        with d.uow(readonly=True) as uow:
            rows = uow.sweeps.results_of_run(run_id, after, page)
        for r in rows:
            yield {
                "website_id": r["website_id"],
                "filing_number": r["filing_number"],
                "name": r["name"],
                "home_url": r["home_url"],
                "ok": bool(r["ok"]),
                "problems": r["problems"],
            }
        if len(rows) < page:
            return
        after = rows[-1]["id"]


def per_day(d: Deps, days: int = 14) -> list[tuple[Any, int, int]]:
    """(day, websites with problems, websites checked) of each day's last sweep, oldest first."""
    now = d.clock.now()
    today = china_today(now)
    with d.uow(readonly=True) as uow:
        runs = uow.sweeps.runs(now - timedelta(days=days + 1))
    last: dict[Any, dict] = {}
    for r in runs:
        last[china_today(r["started_at"])] = r
    out = []
    for i in range(days - 1, -1, -1):
        day = today - timedelta(days=i)
        r = last.get(day)
        out.append((day, r["failing"] if r else 0, r["checked"] if r else 0))
    return out


def run_state(run_row: dict[str, Any], now: datetime) -> str:
    """``finished``, ``stopped`` (Ctrl-C or an error, its results so far stored), ``stalled``
    (it stopped storing results without finishing: its process was killed) or ``running``."""
    if run_row.get("finished_at") is not None:
        return "finished"
    if run_row.get("stopped_at") is not None:
        return "stopped"
    last = run_row.get("updated_at") or run_row["started_at"]
    return "stalled" if now - last > STALLED_AFTER else "running"


def unfinished(d: Deps) -> dict[str, Any] | None:
    """The newest run when it has not finished — still running, stopped, or killed — with its
    ``state`` (:func:`run_state`) and the counts it had stored; None when the newest finished."""
    with d.uow(readonly=True) as uow:
        newest = uow.sweeps.newest()
    if newest is None or newest["finished_at"] is not None:
        return None
    return {**newest, "state": run_state(newest, d.clock.now())}


def latest(d: Deps, limit: int = 200) -> dict[str, Any] | None:
    """The newest finished sweep with the websites it found problems on."""
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        runs = uow.sweeps.runs(now - timedelta(days=3650))
        if not runs:
            return None
        run_row = runs[-1]
        failing = uow.sweeps.failing_of_run(run_row["id"], limit)
    return {**run_row, "websites": failing}
