"""Account rules (api.md "Accounts", "Login and sessions"): password policy, login throttle,
the refusals with their stable codes. Pure: no I/O beyond reading a packaged word list once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from beiandesk.domain.errors import Conflict, DomainError, Forbidden

MIN_PASSWORD_LENGTH = 10
ROLES = ("applicant", "reviewer", "admin")
#: 5 wrong passwords for one user name within 15 minutes → refused for 15 minutes.
THROTTLE_FAILURES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_LOCK = timedelta(minutes=15)

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")


class PasswordTooWeak(DomainError):
    status = 422

    def __init__(self, reason: str) -> None:
        super().__init__("password_too_weak", f"密码强度不足：{reason}")


class AccountExists(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__("account_exists", f"用户名 {username} 已存在。")


class LastAdmin(Conflict):
    def __init__(self) -> None:
        super().__init__("last_admin", "这是最后一个启用的管理员账号，不能停用或降级。")


class AccountDisabled(DomainError):
    status = 401

    def __init__(self) -> None:
        super().__init__("account_disabled", "该账号已停用，请联系管理员。")


class PasswordChangeRequired(Forbidden):
    def __init__(self) -> None:
        DomainError.__init__(
            self, "password_change_required", "请先修改初始密码（一次性密码只能用于首次登录）。"
        )


class LoginThrottled(DomainError):
    status = 429

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__("login_throttled", f"密码错误次数过多，请约 {minutes} 分钟后再试。")
        self.retry_after_s = retry_after_s
        self.headers = {"Retry-After": str(retry_after_s)}


def invalid_value(field: str, message: str) -> DomainError:
    err = DomainError("value_invalid", message)
    err.field = field  # type: ignore[attr-defined]
    return err


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of the zxcvbn package (its ``passwords`` frequency list,
    from leaked-password corpora), lower-cased."""
    try:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS
    except ImportError:  # pragma: no cover - a declared dependency
        return frozenset()
    return frozenset(p.lower() for p in FREQUENCY_LISTS.get("passwords", ()))


def is_common_password(password: str) -> bool:
    return password.lower() in _common_passwords()


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` is refused for ``username``, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
    if password.strip().lower() == username.strip().lower():
        return "不能与用户名相同。"
    if len(set(password)) <= 2 or is_common_password(password):
        return "这是常见密码，容易被猜中，请换一个。"
    return None


def check_password(password: str, username: str) -> None:
    reason = password_problem(password, username)
    if reason:
        raise PasswordTooWeak(reason)


def check_username(username: str) -> None:
    if not USERNAME_RE.match(username or ""):
        raise invalid_value(
            "username", "用户名需为 2–64 个字母、数字或 . _ @ -，以字母或数字开头。"
        )


def check_role(role: str) -> None:
    if role not in ROLES:
        raise invalid_value("role", f"角色只能是 {' / '.join(ROLES)}。")


def throttled_until(failures: Iterable[datetime], now: datetime) -> datetime | None:
    """Until when logins for one user name are refused, given its recent failed attempts.

    Whenever ``THROTTLE_FAILURES`` failures fall within ``THROTTLE_WINDOW``, the name is locked
    for ``THROTTLE_LOCK`` from the last of them. Attempts refused while locked are not failures
    (they are not counted), so the lock ends on time whatever an attacker keeps sending.
    """
    times = sorted(failures)
    until: datetime | None = None
    for i in range(THROTTLE_FAILURES - 1, len(times)):
        if times[i] - times[i - THROTTLE_FAILURES + 1] <= THROTTLE_WINDOW:
            end = times[i] + THROTTLE_LOCK
            until = end if until is None or end > until else until
    return until if until is not None and until > now else None


#: How far back failures matter: a lock can start from failures spread over one window.
THROTTLE_LOOKBACK = THROTTLE_WINDOW + THROTTLE_LOCK
