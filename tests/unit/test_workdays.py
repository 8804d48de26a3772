"""Chinese working days (domain/workdays.py), checked against chinesecalendar's published 2026 data.

2026 facts used below (chinesecalendar 1.11): National Day 10-01..10-07 off with make-up working
days Sun 09-20 and Sat 10-10; Mid-autumn Fri 09-25 off; 2027 is not published yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from beiandesk.domain import workdays
from beiandesk.domain.workdays import (
    FIRST_REVIEW_WORKING_DAYS,
    add_working_days,
    is_working_day,
    working_days_between,
)

CN = timezone(timedelta(hours=8))


def cn(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CN)


@pytest.fixture
def fallback_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(workdays, "_fallback_years", set())
    monkeypatch.setattr(workdays, "on_fallback", calls.append)
    return calls


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 11, 27), True),    # Friday
    (date(2026, 11, 28), False),   # Saturday
    (date(2026, 11, 29), False),   # Sunday
    (date(2026, 9, 20), True),     # Sunday, 调休 make-up day for National Day
    (date(2026, 9, 25), False),    # Friday, Mid-autumn
    (date(2026, 10, 1), False),
    (date(2026, 10, 5), False),    # Monday inside the holiday
    (date(2026, 10, 7), False),
    (date(2026, 10, 8), True),
    (date(2026, 10, 10), True),    # Saturday, make-up day
    (date(2026, 10, 11), False),
    (date(2026, 1, 4), True),      # Sunday, New Year make-up day
    (date(2026, 2, 17), False),    # Spring Festival
])
def test_is_working_day_2026(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_first_review_window_is_two_working_days() -> None:
    assert FIRST_REVIEW_WORKING_DAYS == 2


@pytest.mark.parametrize(("start", "due"), [
    # Friday → Monday, Tuesday; same time of day.
    (cn(2026, 11, 27, 10), cn(2026, 12, 1, 10)),
    (cn(2026, 11, 25, 16, 45), cn(2026, 11, 27, 16, 45)),
    # A rest-day submission counts from the next working day's start of business (09:00).
    (cn(2026, 11, 28, 15), cn(2026, 12, 2, 9)),
    (cn(2026, 11, 29, 23, 59), cn(2026, 12, 2, 9)),
    # National Day: Wed 09-30 → Thu 10-08, Fri 10-09.
    (cn(2026, 9, 30, 10), cn(2026, 10, 9, 10)),
    # Submitted during the holiday: counted from Thu 10-08 09:00 → Fri 10-09, Sat 10-10 (make-up).
    (cn(2026, 10, 3, 11), cn(2026, 10, 10, 9)),
    # Friday 09-18 → Sun 09-20 (make-up) and Mon 09-21.
    (cn(2026, 9, 18, 10), cn(2026, 9, 21, 10)),
    # Thursday 09-24 → (Fri 09-25 Mid-autumn, weekend) Mon 09-28, Tue 09-29.
    (cn(2026, 9, 24, 10), cn(2026, 9, 29, 10)),
])
def test_add_working_days(start: datetime, due: datetime) -> None:
    assert add_working_days(start, FIRST_REVIEW_WORKING_DAYS) == due


def test_a_saturday_submission_is_not_due_before_tuesday() -> None:
    due = add_working_days(cn(2026, 11, 28, 8), 2)
    assert due.date() > date(2026, 12, 1) - timedelta(days=1)
    assert due.astimezone(CN).weekday() in (1, 2)


def test_zero_days_on_a_working_day_is_now() -> None:
    assert add_working_days(cn(2026, 11, 27, 10), 0) == cn(2026, 11, 27, 10)


# Working days are Chinese days: an instant given in UTC (as the service's clock gives it) must be
# judged on the Beijing calendar. Monday 07:00 in Beijing is still Sunday 23:00 in UTC.
@pytest.mark.parametrize(("start_cn", "due_cn"), [
    (cn(2026, 11, 30, 7), cn(2026, 12, 2, 7)),     # Monday early morning (Sunday in UTC)
    (cn(2026, 11, 28, 10), cn(2026, 12, 2, 9)),    # Saturday: Wednesday 09:00 Beijing, not 09:00 UTC
    (cn(2026, 11, 28, 7), cn(2026, 12, 2, 9)),     # Saturday 07:00 is Friday 23:00 in UTC
])
def test_add_working_days_judges_utc_instants_on_the_beijing_calendar(start_cn: datetime, due_cn: datetime) -> None:
    due = add_working_days(start_cn.astimezone(UTC), 2)
    assert due == due_cn, f"due {due.astimezone(CN).isoformat()} Beijing, expected {due_cn.isoformat()}"


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 11, 27), date(2026, 12, 1)) == 2
    assert working_days_between(date(2026, 12, 1), date(2026, 11, 27)) == -2
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 27)) == 0


def test_years_without_data_fall_back_to_monday_to_friday_and_say_so_once(fallback_calls: list[int]) -> None:
    # 2027-01-01 is a Friday (a holiday in reality, unknown to the calendar yet).
    assert is_working_day(date(2027, 1, 1)) is True
    assert is_working_day(date(2027, 1, 2)) is False
    assert add_working_days(cn(2027, 1, 8, 10), 2) == cn(2027, 1, 12, 10)
    assert working_days_between(date(2027, 1, 1), date(2027, 3, 1)) == 41
    assert fallback_calls == [2027]


def test_crossing_into_an_unpublished_year(fallback_calls: list[int]) -> None:
    # Thu 2026-12-31 → Fri 2027-01-01 (fallback: working), Mon 2027-01-04.
    assert add_working_days(cn(2026, 12, 31, 10), 2) == cn(2027, 1, 4, 10)
    assert fallback_calls == [2027]


def test_fallback_without_a_hook_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workdays, "_fallback_years", set())
    monkeypatch.setattr(workdays, "on_fallback", None)
    assert is_working_day(date(2028, 6, 5)) is True
