"""Account administration (api.md "Accounts"): one layer for the CLI, the admin API and the
console's 账号管理. Every act is written to the audit log in the same transaction.

The account object everywhere: ``{id, username, role, display_name, email, disabled, subjects:
[filing_number], password_change_required, created_at}``.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from typing import Any

from beiandesk.domain import accounts as rules
from beiandesk.domain.errors import Conflict, NotFound
from beiandesk.domain.identity import is_valid_email
from beiandesk.services import audit
from beiandesk.services.deps import Deps

#: One-time passwords: 16 characters from an alphabet without look-alikes (0/O, 1/l/I).
_OTP_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
OTP_LENGTH = 16


def generate_password() -> str:
    while True:
        pw = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(OTP_LENGTH))
        if (
            any(c.isdigit() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.islower() for c in pw)
        ):
            return pw


def view(row: dict[str, Any]) -> dict[str, Any]:
    """The account object (JSON-ready)."""
    created = row["created_at"]
    return {
        "id": row["id"],
        "username": row["username"],
        "role": row["role"],
        "display_name": row["display_name"],
        "email": row["email"],
        "disabled": row["disabled"],
        "subjects": list(row["subjects"]),
        "password_change_required": row["password_change_required"],
        "created_at": created.isoformat() if hasattr(created, "isoformat") else created,
    }


class SubjectNotFound(NotFound):
    def __init__(self, filing_number: str) -> None:
        super().__init__(f"主体备案号 {filing_number} 对应的主体")
        self.code = "subject_not_found"


class SubjectLinkedElsewhere(Conflict):
    def __init__(self, filing_number: str, username: str) -> None:
        super().__init__(
            "subject_linked_elsewhere",
            f"主体 {filing_number} 已属于账号 {username}：一个主体只能属于一个账号。",
        )


class SubjectBusy(Conflict):
    def __init__(self, filing_number: str) -> None:
        super().__init__(
            "subject_has_open_change",
            f"主体 {filing_number} 有进行中的变更单，办结或撤回前不能解除关联。",
        )


def _check_email(email: str) -> None:
    if email and not is_valid_email(email):
        raise rules.invalid_value("email", "电子邮箱格式不正确。")


def _link(uow: Any, account_id: int, role: str, filing_numbers: Iterable[str]) -> list[str]:
    linked = []
    for number in dict.fromkeys(n.strip() for n in filing_numbers if n and n.strip()):
        owner = uow.account_admin.subject_owner(number)
        if owner is None:
            raise SubjectNotFound(number)
        subject_id, owner_id, owner_role = owner
        if owner_id == account_id:
            continue
        # A subject held by another applicant stays theirs; one held by staff (the seed, an
        # import without an owner) is handed to the applicant.
        if owner_id is not None and owner_role == "applicant":
            other = uow.account_admin.get(owner_id)
            raise SubjectLinkedElsewhere(number, other["username"] if other else str(owner_id))
        uow.account_admin.link_subject(subject_id, account_id)
        linked.append(number)
    return linked


def create(
    d: Deps,
    *,
    actor: str,
    username: str,
    role: str,
    display_name: str = "",
    email: str = "",
    subjects: Iterable[str] = (),
    password: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """A new account; without ``password`` a one-time password is generated, returned once and
    must be changed at first login. Returns ``(account, one_time_password or None)``."""
    username = (username or "").strip()
    rules.check_username(username)
    rules.check_role(role)
    _check_email(email)
    one_time = None
    if password is None:
        password = one_time = generate_password()
    rules.check_password(password, username)
    subjects = list(subjects)
    if subjects and role != "applicant":
        raise rules.invalid_value("subjects", "只有申请人账号可以关联主体。")
    password_hash = d.passwords.hash(password)
    now = d.clock.now()
    with d.uow() as uow:
        # ADMIN1 beside admin1 would read as one person in the audit log and the queue.
        taken = uow.account_admin.name_taken(username)
        if taken is not None:
            raise rules.AccountExists(taken)
        account_id = uow.account_admin.create(
            username=username,
            password_hash=password_hash,
            role=role,
            display_name=display_name or "",
            email=email or "",
            password_change_required=one_time is not None,
            now=now,
        )
        linked = _link(uow, account_id, role, subjects)
        audit.record(
            uow,
            actor=actor,
            action="account.create",
            target=username,
            at=now,
            detail={"role": role, "subjects": linked, "one_time_password": one_time is not None},
        )
        row = uow.account_admin.get(account_id)
        uow.commit()
    return view(row), one_time


def list_accounts(d: Deps) -> list[dict[str, Any]]:
    with d.uow(readonly=True) as uow:
        return [view(r) for r in uow.account_admin.list()]


def get(d: Deps, account_id: int) -> dict[str, Any]:
    with d.uow(readonly=True) as uow:
        row = uow.account_admin.get(account_id)
    if row is None:
        raise NotFound("账号")
    return view(row)


def id_of(d: Deps, username: str) -> int:
    with d.uow(readonly=True) as uow:
        row = uow.account_admin.by_username(username)
    if row is None:
        err = NotFound(f"账号 {username} ")
        err.code = "account_not_found"
        raise err
    return int(row["id"])


def update(
    d: Deps,
    *,
    actor: str,
    account_id: int,
    role: str | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
    email: str | None = None,
    subjects: Iterable[str] | None = None,
    add_subjects: Iterable[str] = (),
) -> dict[str, Any]:
    """Change an account. ``subjects`` is the whole list of linked subjects (those left out are
    unlinked, unless an order is open on them); ``add_subjects`` only adds (CLI ``link``);
    ``disabled`` revokes every session at once."""
    if role is not None:
        rules.check_role(role)
    if email is not None:
        _check_email(email)
    now = d.clock.now()
    with d.uow() as uow:
        row = uow.account_admin.get(account_id)
        if row is None:
            raise NotFound("账号")
        target = row["username"]
        values: dict[str, Any] = {}
        acts: list[tuple[str, dict[str, Any]]] = []
        new_role = role if role is not None else row["role"]
        new_disabled = disabled if disabled is not None else row["disabled"]
        if row["role"] == "admin" and not row["disabled"] and (new_role != "admin" or new_disabled):
            if [a for a in uow.account_admin.active_admins(lock=True) if a != account_id] == []:
                raise rules.LastAdmin()
        if role is not None and role != row["role"]:
            if role != "applicant" and row["subjects"]:
                raise rules.invalid_value("role", "该账号关联了主体，不能改为审核专员或管理员。")
            values["role"] = role
            acts.append(("account.set_role", {"from": row["role"], "to": role}))
        if disabled is not None and disabled != row["disabled"]:
            values["disabled"] = disabled
            acts.append(("account.disable" if disabled else "account.enable", {}))
        if display_name is not None and display_name != row["display_name"]:
            values["display_name"] = display_name
            acts.append(("account.update", {"display_name": display_name}))
        if email is not None and email != row["email"]:
            values["email"] = email
            acts.append(("account.update", {"email": "changed"}))
        uow.account_admin.update(account_id, **values)
        if subjects is not None:
            keep = {n.strip() for n in subjects if n and n.strip()}
            dropped = [n for n in row["subjects"] if n not in keep]
            for number in dropped:
                if not uow.account_admin.unlink_subject(number, account_id):
                    raise SubjectBusy(number)
            if dropped:
                acts.append(("account.unlink", {"subjects": dropped}))
        wanted = list(subjects or []) + list(add_subjects)
        if wanted:
            if new_role != "applicant":
                raise rules.invalid_value("subjects", "只有申请人账号可以关联主体。")
            linked = _link(uow, account_id, new_role, wanted)
            if linked:
                acts.append(("account.link", {"subjects": linked}))
        if values.get("disabled"):
            uow.sessions.revoke_account(account_id, now)
        for action, detail in acts:
            audit.record(
                uow, actor=actor, action=action, target=target, detail=detail or None, at=now
            )
        row = uow.account_admin.get(account_id)
        uow.commit()
    return view(row)


def reset_password(
    d: Deps, *, actor: str, account_id: int, password: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """A new password; without one, a one-time password (returned once, to be changed at the
    next login). Every session of the account ends at once."""
    account = get(d, account_id)
    one_time = None
    if password is None:
        password = one_time = generate_password()
    rules.check_password(password, account["username"])
    password_hash = d.passwords.hash(password)
    now = d.clock.now()
    with d.uow() as uow:
        uow.account_admin.update(
            account_id, password_hash=password_hash, password_change_required=one_time is not None
        )
        uow.sessions.revoke_account(account_id, now)
        audit.record(
            uow,
            actor=actor,
            action="account.reset_password",
            target=account["username"],
            at=now,
            detail={"one_time_password": one_time is not None},
        )
        row = uow.account_admin.get(account_id)
        uow.commit()
    return view(row), one_time


class WrongPassword(rules.DomainError):
    status = 403

    def __init__(self) -> None:
        super().__init__("current_password_wrong", "当前密码不正确。")


def change_own_password(
    d: Deps,
    account_id: int,
    current_password: str,
    new_password: str,
    *,
    keep_session: str | None = None,
) -> dict[str, Any]:
    """The account holder's own change (``POST /api/v1/me/password``): the other sessions end."""
    with d.uow(readonly=True) as uow:
        row = uow.account_admin.get(account_id)
        old_hash = uow.account_admin.password_hash(account_id)
    if row is None or old_hash is None:
        raise NotFound("账号")
    if not d.passwords.verify(old_hash, current_password):
        raise WrongPassword()
    if new_password == current_password:
        raise rules.PasswordTooWeak("新密码不能与当前密码相同。")
    rules.check_password(new_password, row["username"])
    password_hash = d.passwords.hash(new_password)
    now = d.clock.now()
    with d.uow() as uow:
        uow.account_admin.update(
            account_id, password_hash=password_hash, password_change_required=False
        )
        uow.sessions.revoke_account(account_id, now, except_jti=keep_session)
        audit.record(
            uow,
            actor=row["username"],
            action="account.change_password",
            target=row["username"],
            at=now,
        )
        row = uow.account_admin.get(account_id)
        uow.commit()
    return view(row)
