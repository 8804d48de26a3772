"""When to remind a subject before a filed resource lapses, and when a stale order is closed.

- A filing whose domain lapses, or whose site leaves the provider's servers, becomes an empty
  shell (空壳网站) and is cancelled by the 管局 (MIIT 《非经营性互联网信息服务备案管理办法》 §22,
  provider FAQ "域名过期对备案的影响"). No provider we studied reminds the subject in time, so
  beiandesk reminds at ``EXPIRY_THRESHOLDS_DAYS`` (30, 7 and 1 days) before the date.
- A draft or rejected order untouched for ``ABANDON_AFTER_DAYS`` (60) is closed (withdrawn,
  reason ``expired``) after a reminder ``ABANDON_WARN_DAYS`` (7) before: providers close
  abandoned applications after about two months so a website never stays locked by an order
  nobody finishes (api.md: one open order per website).
Pure: the caller passes ``today`` / ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

EXPIRY_THRESHOLDS_DAYS: tuple[int, ...] = (30, 7, 1)
ABANDON_AFTER_DAYS = 60
ABANDON_WARN_DAYS = 7


def days_left(today: date, expires_on: date) -> int:
    return (expires_on - today).days


def expiry_threshold(
    today: date, expires_on: date | None, thresholds: tuple[int, ...] = EXPIRY_THRESHOLDS_DAYS
) -> int | None:
    """The reminder due today: the smallest threshold that ``days_left`` has reached.

    Once the date has passed nothing is due (the record is then a compliance case, not a
    reminder). A job that missed days sends one reminder — the one that applies now — instead
    of every threshold it slept through.
    """
    if expires_on is None:
        return None
    left = days_left(today, expires_on)
    if left < 0:
        return None
    reached = [t for t in thresholds if left <= t]
    return min(reached) if reached else None


def abandon_action(last_touched: datetime, now: datetime) -> str | None:
    """``"expire"`` after 60 days untouched, ``"warn"`` from 53 days on, else ``None``."""
    idle = now - last_touched
    if idle >= timedelta(days=ABANDON_AFTER_DAYS):
        return "expire"
    if idle >= timedelta(days=ABANDON_AFTER_DAYS - ABANDON_WARN_DAYS):
        return "warn"
    return None


def abandon_date(last_touched: datetime) -> datetime:
    return last_touched + timedelta(days=ABANDON_AFTER_DAYS)
