"""Password policy and the login throttle (domain/accounts.py): pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beiandesk.domain import accounts as rules

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("password, why", [
    ("short-pw1", "10"),                # 9 characters
    ("", "10"),
    ("alice.wang", "用户名"),            # the user name itself
    ("ALICE.WANG", "用户名"),            # … in any case
    ("1234567890", "常见"),              # on the common-password list
    ("qwertyuiop", "常见"),
    ("Password123", "常见"),             # the list is matched without case
    ("1qaz2wsx3edc", "常见"),
    ("aaaaaaaaaaaaaa", "常见"),          # one or two characters repeated
    ("abababababab", "常见"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    reason = rules.password_problem(password, "alice.wang")
    assert reason is not None and why in reason
    with pytest.raises(rules.PasswordTooWeak) as err:
        rules.check_password(password, "alice.wang")
    assert err.value.code == "password_too_weak" and err.value.status == 422


@pytest.mark.parametrize("password", ["Lantern-Harbour-42", "correct horse battery", "九月的江南-2026", "xK7#pQ2!mZ9w"])
def test_good_passwords_pass(password: str) -> None:
    assert rules.password_problem(password, "alice.wang") is None


def test_the_common_list_is_the_packaged_one() -> None:
    assert len(rules._common_passwords()) >= 20000
    assert rules.is_common_password("iloveyou") and not rules.is_common_password("Lantern-Harbour-42")


def _at(*minutes: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_four_failures_do_not_lock() -> None:
    assert rules.throttled_until(_at(0, 1, 2, 3), T0 + timedelta(minutes=4)) is None


def test_five_failures_within_15_minutes_lock_for_15_minutes_from_the_fifth() -> None:
    failures = _at(0, 2, 5, 9, 14)
    assert rules.throttled_until(failures, T0 + timedelta(minutes=14)) == T0 + timedelta(minutes=29)
    assert rules.throttled_until(failures, T0 + timedelta(minutes=28, seconds=59)) == T0 + timedelta(minutes=29)
    assert rules.throttled_until(failures, T0 + timedelta(minutes=29)) is None


def test_five_failures_spread_over_more_than_15_minutes_do_not_lock() -> None:
    assert rules.throttled_until(_at(0, 4, 8, 12, 15.5), T0 + timedelta(minutes=16)) is None
    # … but the sixth makes five within a window again
    assert rules.throttled_until(_at(0, 4, 8, 12, 15.5, 16), T0 + timedelta(minutes=16)) == T0 + timedelta(minutes=31)


def test_failures_arrive_in_any_order() -> None:
    assert rules.throttled_until(list(reversed(_at(0, 1, 2, 3, 4))), T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=19)


def test_the_refusal_carries_retry_after() -> None:
    err = rules.LoginThrottled(301)
    assert err.status == 429 and err.code == "login_throttled" and err.headers == {"Retry-After": "301"}
    assert "6 分钟" in err.message


def test_usernames_and_roles() -> None:
    rules.check_username("ops-admin")
    rules.check_username("li.ming@corp")
    for bad in ("", "a", "x y", "-lead", "名字", "a" * 65):
        with pytest.raises(Exception) as err:
            rules.check_username(bad)
        assert err.value.code == "value_invalid"
    with pytest.raises(Exception):
        rules.check_role("root")
