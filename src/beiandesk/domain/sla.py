"""First-review service levels from the timeline (pure).

The provider promises first review within 2 working days (product.md; due dates in
domain/workdays.py). A *round* runs from a submission (``submitted`` event) to the reviewer's
decision (``provider_approved`` / ``provider_rejected``); a withdrawal ends it undecided.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

START_KINDS = frozenset({"submitted"})
DECISION_KINDS = frozenset({"provider_approved", "provider_rejected"})
END_KINDS = DECISION_KINDS | {"withdrawn", "expired"}


@dataclass(frozen=True)
class TimelineMark:
    change_id: int
    at: datetime
    kind: str
    actor: str


@dataclass(frozen=True)
class Round:
    change_id: int
    started: datetime
    decided: datetime
    reviewer: str
    outcome: str  # "provider_approved" | "provider_rejected"

    @property
    def hours(self) -> float:
        return (self.decided - self.started) / timedelta(hours=1)


def rounds(marks: list[TimelineMark]) -> list[Round]:
    """Decided first-review rounds, in decision order."""
    out: list[Round] = []
    open_at: dict[int, datetime] = {}
    for m in sorted(marks, key=lambda m: (m.at, m.change_id)):
        if m.kind in START_KINDS:
            open_at[m.change_id] = m.at
        elif m.kind in END_KINDS and m.change_id in open_at:
            started = open_at.pop(m.change_id)
            if m.kind in DECISION_KINDS:
                out.append(Round(m.change_id, started, m.at, m.actor, m.kind))
    return out


def median_hours(items: list[Round]) -> float | None:
    return statistics.median(r.hours for r in items) if items else None


@dataclass(frozen=True)
class ReviewerFigures:
    reviewer: str
    decided: int
    approved: int
    rejected: int
    median_hours: float | None
    late: int  # decided after the order's due date


def per_reviewer(items: list[Round], due: dict[int, datetime]) -> list[ReviewerFigures]:
    by: dict[str, list[Round]] = {}
    for r in items:
        by.setdefault(r.reviewer, []).append(r)
    return sorted(
        (
            ReviewerFigures(
                reviewer=name,
                decided=len(rs),
                approved=sum(r.outcome == "provider_approved" for r in rs),
                rejected=sum(r.outcome == "provider_rejected" for r in rs),
                median_hours=median_hours(rs),
                late=sum(1 for r in rs if r.change_id in due and r.decided > due[r.change_id]),
            )
            for name, rs in by.items()
        ),
        key=lambda f: (-f.decided, f.reviewer),
    )


def per_day(items: list[Round], days: list[date], day_of) -> list[tuple[date, int, float | None]]:  # noqa: ANN001
    """(day, decisions, median hours) for each of ``days``; ``day_of`` maps a time to its day."""
    by: dict[date, list[Round]] = {}
    for r in items:
        by.setdefault(day_of(r.decided), []).append(r)
    return [(day, len(by.get(day, [])), median_hours(by.get(day, []))) for day in days]
