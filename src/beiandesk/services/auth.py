"""Log in (OAuth2 password flow), log out, and resolve a bearer token to an account.

Every token names a session row (its ``jti``); each request reads that row joined with its
account in one primary-key query, so a logout, a disabled account or a password reset is seen
at once by every node (api.md "Login and sessions"). Nothing about a session is cached in a
process: only the token's signature check is (adapters/security.py), which revocation cannot
change. Failed logins are counted in the database too (the throttle holds across nodes).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from beiandesk.domain import accounts as rules
from beiandesk.domain.errors import DomainError, Forbidden
from beiandesk.domain.model import Account
from beiandesk.services.deps import Deps


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "未登录或登录已过期，请重新登录。") -> None:
        super().__init__("unauthorized", message)


def login(d: Deps, username: str, password: str) -> tuple[Account, str]:
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        failures = uow.sessions.failures_since(username, now - rules.THROTTLE_LOOKBACK)
        found = uow.accounts.by_username(username)
    until = rules.throttled_until(failures, now)
    if until is not None:
        raise rules.LoginThrottled(max(1, math.ceil((until - now).total_seconds())))
    # An unknown user is checked against a throwaway hash, so both failures take as long and
    # answer alike: no account enumeration by message or by timing.
    password_hash = found[1] if found else _dummy_hash(d)
    if not d.passwords.verify(password_hash, password) or found is None:
        with d.uow() as uow:
            uow.sessions.add_failure(username, now, forget_before=now - rules.THROTTLE_LOOKBACK)
            uow.commit()
        raise Unauthorized("用户名或密码错误。")
    account = found[0]
    if account.disabled:
        raise rules.AccountDisabled()
    jti = secrets.token_urlsafe(18)
    with d.uow() as uow:
        uow.sessions.clear_failures(username)
        uow.sessions.purge_expired_of(account.id, now)
        uow.sessions.add(jti, account.id, now, now + timedelta(seconds=d.settings.token_ttl_s))
        uow.commit()
    return account, d.tokens.issue(account.id, str(account.role), now, jti=jti)


_DUMMY: dict[int, str] = {}


def _dummy_hash(d: Deps) -> str:
    key = id(d.passwords)
    if key not in _DUMMY:
        _DUMMY[key] = d.passwords.hash("beiandesk-no-such-user")
    return _DUMMY[key]


def _claims(d: Deps, token: str) -> tuple[int, str]:
    found = d.tokens.claims(token, d.clock.now())
    if found is None or not found[1]:
        raise Unauthorized()
    return found[0], found[1]


def account_for_token(d: Deps, token: str) -> Account:
    """The token's account, if its session is open and the account enabled (one indexed read).

    The account may still have ``password_change_required``: entry points refuse everything
    but the password change for it (:func:`require_password_changed`).
    """
    account_id, jti = _claims(d, token)
    now = d.clock.now()
    with d.uow(readonly=True) as uow:
        found = uow.sessions.check(jti)
    return _judge_session(found, account_id, now)


async def account_for_token_async(d: Deps, token: str) -> Account:
    """``account_for_token`` with the session read awaited (``Deps.async_reads``)."""
    account_id, jti = _claims(d, token)
    now = d.clock.now()
    return _judge_session(await d.async_reads.session(jti), account_id, now)


async def account_for_token_with(
    d: Deps, token: str, read: Callable[[str], Awaitable[tuple[Any, Any]]]
) -> tuple[Account, Any]:
    """``account_for_token_async`` where the session is read together with a record in one
    round trip: ``read(jti)`` answers ``(the session check's result, the record's)``."""
    account_id, jti = _claims(d, token)
    now = d.clock.now()
    found, other = await read(jti)
    return _judge_session(found, account_id, now), other


def _judge_session(found: tuple | None, account_id: int, now: datetime) -> Account:
    if found is None:
        raise Unauthorized()
    row, account = found
    if row.account_id != account_id:
        raise Unauthorized()
    if account.disabled:  # said before "revoked": disabling also ends the sessions
        raise rules.AccountDisabled()
    if row.revoked_at is not None or row.expires_at < now:
        raise Unauthorized()
    return account


def session_id(d: Deps, token: str) -> str:
    return _claims(d, token)[1]


def logout(d: Deps, token: str) -> bool:
    """Revoke this token's session (every node then answers 401 for it)."""
    found = d.tokens.claims(token, d.clock.now())
    if found is None or not found[1]:
        return False
    with d.uow() as uow:
        done = uow.sessions.revoke(found[1], d.clock.now())
        uow.commit()
    return done


def require_password_changed(account: Account) -> Account:
    if account.password_change_required:
        raise rules.PasswordChangeRequired()
    return account


def require_staff(account: Account) -> Account:
    """Reviewer and admin endpoints (api.md §Reviewer), in the API and the console alike."""
    if not account.is_staff:
        raise Forbidden("需要审核专员或管理员权限。")
    return account


def require_admin(account: Account) -> Account:
    if str(account.role) != "admin":
        raise Forbidden("需要管理员权限。")
    return account
