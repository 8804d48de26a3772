"""Log in (OAuth2 password flow) and resolve a bearer token to an account."""

from __future__ import annotations

from beiandesk.domain.errors import DomainError
from beiandesk.domain.model import Account
from beiandesk.services.deps import Deps


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "未登录或登录已过期，请重新登录。") -> None:
        super().__init__("unauthorized", message)


def login(d: Deps, username: str, password: str) -> tuple[Account, str]:
    with d.uow(readonly=True) as uow:
        found = uow.accounts.by_username(username)
    if found is None or not d.passwords.verify(found[1], password):
        # Same answer for unknown user and wrong password: no account enumeration.
        raise Unauthorized("用户名或密码错误。")
    account = found[0]
    return account, d.tokens.issue(account.id, str(account.role), d.clock.now())


def account_for_token(d: Deps, token: str) -> Account:
    account_id = d.tokens.read(token, d.clock.now())
    if account_id is None:
        raise Unauthorized()
    with d.uow(readonly=True) as uow:
        account = uow.accounts.get(account_id)
    if account is None:
        raise Unauthorized()
    return account
