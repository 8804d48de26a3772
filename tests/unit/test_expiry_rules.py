"""Pure expiry and abandonment rules (domain/expiry.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from beiandesk.domain import expiry

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("left", "expected"), [
    (45, None), (31, None), (30, 30), (29, 30), (8, 30), (7, 7), (2, 7), (1, 1), (0, 1), (-1, None),
])
def test_threshold_is_the_smallest_reached(left: int, expected: int | None) -> None:
    assert expiry.expiry_threshold(TODAY, TODAY + timedelta(days=left)) == expected


def test_no_date_no_reminder() -> None:
    assert expiry.expiry_threshold(TODAY, None) is None


@pytest.mark.parametrize(("idle_days", "expected"), [(0, None), (52, None), (53, "warn"), (59, "warn"),
                                                      (60, "expire"), (400, "expire")])
def test_abandonment(idle_days: int, expected: str | None) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert expiry.abandon_action(now - timedelta(days=idle_days), now) == expected
