"""First-review rounds and figures from timeline marks (domain/sla.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from beiandesk.domain import sla
from beiandesk.domain.sla import TimelineMark as M

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def h(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_rounds_pair_each_submission_with_its_decision() -> None:
    marks = [
        M(1, h(0), "submitted", "a"), M(1, h(5), "provider_rejected", "rev1"),
        M(1, h(30), "submitted", "a"), M(1, h(32), "provider_approved", "rev2"),
        M(2, h(1), "submitted", "b"), M(2, h(3), "withdrawn", "b"),
        M(3, h(2), "provider_approved", "rev1"),  # decision without a start in the window: ignored
        M(4, h(4), "submitted", "c"),  # still waiting
    ]
    rounds = sla.rounds(marks)
    assert [(r.change_id, r.reviewer, r.outcome, r.hours) for r in rounds] == [
        (1, "rev1", "provider_rejected", 5.0), (1, "rev2", "provider_approved", 2.0)]
    assert sla.median_hours(rounds) == 3.5
    assert sla.median_hours([]) is None


def test_per_reviewer_counts_late_decisions() -> None:
    rounds = sla.rounds([M(1, h(0), "submitted", "a"), M(1, h(50), "provider_approved", "rev1"),
                         M(2, h(0), "submitted", "a"), M(2, h(2), "provider_rejected", "rev1"),
                         M(3, h(0), "submitted", "a"), M(3, h(4), "provider_approved", "rev2")])
    figures = sla.per_reviewer(rounds, {1: h(48), 2: h(48)})
    assert [(f.reviewer, f.decided, f.approved, f.rejected, f.late) for f in figures] == [
        ("rev1", 2, 1, 1, 1), ("rev2", 1, 1, 0, 0)]


def test_per_day_fills_empty_days() -> None:
    rounds = sla.rounds([M(1, h(0), "submitted", "a"), M(1, h(2), "provider_approved", "r")])
    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert sla.per_day(rounds, days, lambda t: t.date()) == [
        (date(2026, 11, 1), 0, None), (date(2026, 11, 2), 1, 2.0), (date(2026, 11, 3), 0, None)]
