"""A sweep that does not finish is not hidden: Ctrl-C stores what was checked and marks the
run stopped; a run killed outright shows as stalled once it stops reporting progress; one
result per website per run is a unique constraint. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from beiandesk.adapters.db import tables as t
from beiandesk.services import sweep
from tests.many_sites import fill_websites


class _StopsAt:
    """A probe that answers "no problem", or a Ctrl-C at its ``at``-th website."""

    def __init__(self, at: int | None) -> None:
        self.at, self.calls, self._lock = at, 0, threading.Lock()

    def probe(self, url: str, filing_number: str) -> list:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.at is not None and n == self.at:
            raise KeyboardInterrupt
        return []


def _stored(deps, run_id: int) -> int:  # noqa: ANN001
    with deps.uow(readonly=True) as uow:
        return uow.conn.execute(
            select(func.count()).select_from(t.sweep_results).where(t.sweep_results.c.run_id == run_id)
        ).scalar_one()


def test_ctrl_c_halfway_stores_what_was_checked_and_marks_the_run_stopped(seeded) -> None:  # noqa: ANN001
    fill_websites(seeded, 500, 9, lambda i, number: None)  # 503 open websites with the demo's
    seeded.site_probe = _StopsAt(450)
    with pytest.raises(sweep.SweepInterrupted) as stopped:
        sweep.run(seeded, concurrency=4, keep="none")
    summary = stopped.value.summary
    assert isinstance(stopped.value, KeyboardInterrupt)  # still what Ctrl-C is, for any caller
    assert 400 <= summary.checked < 450  # two batches of 200 stored, and the rest collected
    assert _stored(seeded, summary.run_id) == summary.checked  # every counted result is stored
    assert seeded.site_probe.calls < 503  # the probes not yet begun were not begun

    found = sweep.unfinished(seeded)
    assert found["id"] == summary.run_id and found["state"] == "stopped"
    assert found["checked"] == summary.checked and found["failing"] == 0
    assert found["stopped_at"] is not None and found["finished_at"] is None
    assert sweep.latest(seeded) is None  # nothing finished yet: the chart's figures stay out of it

    seeded.clock.advance(minutes=5)
    seeded.site_probe = _StopsAt(None)
    done = sweep.run(seeded, concurrency=4, keep="none")
    assert done.checked == 503 and sweep.unfinished(seeded) is None
    assert sweep.latest(seeded)["id"] == done.run_id


def test_ctrl_c_while_a_batch_commits_stores_it_once(seeded, monkeypatch) -> None:  # noqa: ANN001
    """The Ctrl-C lands after a batch's COMMIT, while the commit waits for its fsync: the batch
    is stored, and the stop neither stores it again nor miscounts it."""
    fill_websites(seeded, 300, 9, lambda i, number: None)
    seeded.site_probe = _StopsAt(None)
    real_uow, commits = seeded.uow, []

    def uow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        unit = real_uow(*args, **kwargs)
        real_commit = unit.commit

        def commit() -> None:
            real_commit()
            commits.append(1)
            if len(commits) == 2:  # the run's row, then the first batch of 200
                raise KeyboardInterrupt

        unit.commit = commit
        return unit

    monkeypatch.setattr(seeded, "uow", uow)
    with pytest.raises(sweep.SweepInterrupted) as stopped:
        sweep.run(seeded, concurrency=2, keep="none")
    summary = stopped.value.summary
    assert summary.checked == 200 == _stored(seeded, summary.run_id)
    found = sweep.unfinished(seeded)
    assert found["state"] == "stopped" and found["checked"] == 200


def test_a_run_that_stops_reporting_is_stalled_not_running(seeded) -> None:  # noqa: ANN001
    clock = seeded.clock
    with seeded.uow() as uow:
        run_id = uow.sweeps.start(clock.now())
        uow.commit()
    assert sweep.unfinished(seeded)["state"] == "running"  # just started, nothing stored yet
    clock.advance(minutes=10)
    with seeded.uow() as uow:
        uow.sweeps.progress(run_id, 200, 3, clock.now())  # a batch stored ten minutes in
        uow.commit()
    clock.advance(minutes=29)
    found = sweep.unfinished(seeded)
    assert found["state"] == "running" and (found["checked"], found["failing"]) == (200, 3)
    clock.advance(minutes=2)  # 31 minutes without a batch: its process is gone
    assert sweep.unfinished(seeded)["state"] == "stalled"


def test_run_state_of_each_kind_of_run() -> None:
    start = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
    row = {"started_at": start, "updated_at": None, "finished_at": None, "stopped_at": None}
    assert sweep.run_state(row, start + timedelta(minutes=30)) == "running"
    assert sweep.run_state(row, start + timedelta(minutes=31)) == "stalled"
    assert sweep.run_state({**row, "updated_at": start + timedelta(hours=1)}, start + timedelta(hours=1, minutes=5)) == "running"
    assert sweep.run_state({**row, "stopped_at": start}, start + timedelta(days=1)) == "stopped"
    assert sweep.run_state({**row, "stopped_at": start, "finished_at": start}, start) == "finished"


def test_one_result_per_website_per_run(seeded) -> None:  # noqa: ANN001
    seeded.site_probe = _StopsAt(None)
    done = sweep.run(seeded, concurrency=2, keep="all")
    row = {"run_id": done.run_id, "website_id": done.results[0].website_id,
           "checked_at": seeded.clock.now(), "ok": True, "problems": []}
    with pytest.raises(IntegrityError), seeded.uow() as uow:
        uow.conn.execute(insert(t.sweep_results).values(**row))
        uow.commit()
    assert _stored(seeded, done.run_id) == done.checked
