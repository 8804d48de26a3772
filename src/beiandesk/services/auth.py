"""Log in (OAuth2 password flow) and resolve a bearer token to an account."""

from __future__ import annotations

import time

from beiandesk.domain.errors import DomainError, Forbidden
from beiandesk.domain.model import Account
from beiandesk.services.deps import Deps


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "未登录或登录已过期，请重新登录。") -> None:
        super().__init__("unauthorized", message)


def login(d: Deps, username: str, password: str) -> tuple[Account, str]:
    with d.uow(readonly=True) as uow:
        found = uow.accounts.by_username(username)
    # An unknown user is checked against a throwaway hash, so both failures take as long and
    # answer alike: no account enumeration by message or by timing.
    password_hash = found[1] if found else _dummy_hash(d)
    if not d.passwords.verify(password_hash, password) or found is None:
        raise Unauthorized("用户名或密码错误。")
    account = found[0]
    return account, d.tokens.issue(account.id, str(account.role), d.clock.now())


_DUMMY: dict[int, str] = {}


def _dummy_hash(d: Deps) -> str:
    key = id(d.passwords)
    if key not in _DUMMY:
        _DUMMY[key] = d.passwords.hash("beiandesk-no-such-user")
    return _DUMMY[key]


#: How long a looked-up account is reused for further requests with a valid token.
ACCOUNT_CACHE_S = 30.0


def account_for_token(d: Deps, token: str) -> Account:
    account_id = d.tokens.read(token, d.clock.now())
    if account_id is None:
        raise Unauthorized()
    cached = d.account_cache.get(account_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with d.uow(readonly=True) as uow:
        account = uow.accounts.get(account_id)
    if account is None:
        raise Unauthorized()
    d.account_cache[account_id] = (time.monotonic() + ACCOUNT_CACHE_S, account)
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
