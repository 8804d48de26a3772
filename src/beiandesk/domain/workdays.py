"""Chinese working days: statutory holidays and 调休 make-up days (chinesecalendar).

First review is due within 1–2 working days (product.md §The flow, step 5; Tencent: the reviewer
calls within 1 working day). Past the calendar's data (it is published a year at a time) the
count falls back to Monday–Friday and says so once through the ``on_fallback`` hook, which the
service wires to a log warning — the domain itself does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import chinese_calendar

#: First review must finish within this many working days of submission (product.md).
FIRST_REVIEW_WORKING_DAYS = 2

#: Mainland China keeps one zone, UTC+8, without daylight saving: working days are its days.
CHINA_TZ = timezone(timedelta(hours=8))

_fallback_years: set[int] = set()
on_fallback: Callable[[int], None] | None = None


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _fallback_years:
            _fallback_years.add(day.year)
            if on_fallback is not None:
                on_fallback(day.year)
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The same time of day, ``days`` working days after ``start``.

    A submission made on a rest day counts from the next working day's start of business, so
    a Saturday submission is not due before the following Tuesday.
    """
    moment = start.astimezone(CHINA_TZ) if start.tzinfo is not None else start
    if not is_working_day(moment.date()):
        while not is_working_day(moment.date()):
            moment = moment + timedelta(days=1)
        moment = moment.replace(hour=9, minute=0, second=0, microsecond=0)
    remaining = days
    while remaining > 0:
        moment = moment + timedelta(days=1)
        if is_working_day(moment.date()):
            remaining -= 1
    return moment


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start)
    n, day = 0, start
    while day < end:
        day = day + timedelta(days=1)
        if is_working_day(day):
            n += 1
    return n
