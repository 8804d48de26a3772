"""Stored compliance sweeps: runs, per-website results (history), per-day figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, desc, insert, select, update

from beiandesk.adapters.db import tables as t


class SweepRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def start(self, now: datetime) -> int:
        return self.conn.execute(
            insert(t.sweep_runs).values(started_at=now, checked=0, failing=0)
        ).inserted_primary_key[0]

    def open_websites(self, after_id: int, limit: int) -> list[tuple[int, str, str, str]]:
        """The next ``limit`` open websites after ``after_id``, in id order: ``(id,
        filing_number, name, home_url)``, all plain columns — a sweep needs no decrypted
        principal (that was a third of its reading), and a key walk costs the same on the last
        page as on the first (an OFFSET rescans every row before it)."""
        w = t.websites
        q = (
            select(w.c.id, w.c.filing_number, w.c.name, w.c.home_url)
            .where(w.c.status == "open", w.c.id > after_id)
            .order_by(w.c.id)
            .limit(limit)
        )
        return [tuple(r) for r in self.conn.execute(q)]

    def add_results(self, run_id: int, rows: list[dict]) -> None:
        """``rows``: ``{website_id, checked_at, ok, problems}``."""
        if rows:
            self.conn.execute(insert(t.sweep_results), [{**r, "run_id": run_id} for r in rows])

    def progress(self, run_id: int, checked: int, failing: int, now: datetime) -> None:
        """The counts so far, stored with each batch of results (a run killed halfway shows
        what it had done)."""
        self.conn.execute(
            update(t.sweep_runs)
            .where(t.sweep_runs.c.id == run_id)
            .values(checked=checked, failing=failing, updated_at=now)
        )

    def stop(self, run_id: int, checked: int, failing: int, now: datetime) -> None:
        """Stopped before the end (Ctrl-C, an error), with what it had checked stored."""
        self.conn.execute(
            update(t.sweep_runs)
            .where(t.sweep_runs.c.id == run_id)
            .values(checked=checked, failing=failing, updated_at=now, stopped_at=now)
        )

    def finish(self, run_id: int, checked: int, failing: int, now: datetime) -> None:
        self.conn.execute(
            update(t.sweep_runs)
            .where(t.sweep_runs.c.id == run_id)
            .values(finished_at=now, checked=checked, failing=failing, updated_at=now)
        )

    def get(self, run_id: int) -> dict | None:
        r = t.sweep_runs
        found = self.conn.execute(select(r).where(r.c.id == run_id)).first()
        return dict(found._mapping) if found else None

    def newest(self) -> dict | None:
        """The newest run, finished or not."""
        r = t.sweep_runs
        row = self.conn.execute(select(r).order_by(desc(r.c.started_at), desc(r.c.id)).limit(1))
        found = row.first()
        return dict(found._mapping) if found else None

    def runs(self, since: datetime) -> list[dict]:
        r = t.sweep_runs
        q = (
            select(r)
            .where(r.c.started_at >= since, r.c.finished_at.is_not(None))
            .order_by(r.c.started_at)
        )
        return [dict(x._mapping) for x in self.conn.execute(q)]

    def history(self, website_id: int, limit: int = 30) -> list[dict]:
        s = t.sweep_results
        q = (
            select(s.c.checked_at, s.c.ok, s.c.problems)
            .where(s.c.website_id == website_id)
            .order_by(desc(s.c.checked_at), desc(s.c.id))
            .limit(limit)
        )
        return [dict(x._mapping) for x in self.conn.execute(q)]

    def results_of_run(self, run_id: int, after_id: int, limit: int) -> list[dict]:
        """The next ``limit`` stored results of a run after result ``after_id``, in the order
        they were stored (a sweep stores them in website order), each with its website's
        number, name and home URL: ``{id, website_id, ok, problems, filing_number, name,
        home_url}``. Read a page at a time so listing a run costs no more memory than sweeping."""
        s, w = t.sweep_results, t.websites
        q = (
            select(
                s.c.id,
                s.c.website_id,
                s.c.ok,
                s.c.problems,
                w.c.filing_number,
                w.c.name,
                w.c.home_url,
            )
            .join(w, w.c.id == s.c.website_id)
            .where(s.c.run_id == run_id, s.c.id > after_id)
            .order_by(s.c.id)
            .limit(limit)
        )
        return [dict(x._mapping) for x in self.conn.execute(q)]

    def failing_of_run(self, run_id: int, limit: int = 200) -> list[dict]:
        s, w = t.sweep_results, t.websites
        q = (
            select(
                s.c.website_id,
                s.c.checked_at,
                s.c.problems,
                w.c.filing_number,
                w.c.name,
                w.c.home_url,
            )
            .join(w, w.c.id == s.c.website_id)
            .where(s.c.run_id == run_id, s.c.ok.is_(False))
            .order_by(w.c.filing_number)
            .limit(limit)
        )
        return [dict(x._mapping) for x in self.conn.execute(q)]
