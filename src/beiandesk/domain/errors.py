"""Domain errors: a refused command. Entry points map them to RFC 9457 problem responses."""

from __future__ import annotations

from collections.abc import Sequence

from beiandesk.domain.problems import Problem


class DomainError(Exception):
    """A command the rules refuse. ``status`` is the HTTP status an API should answer with."""

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        *,
        problems: Sequence[Problem] = (),
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.problems = list(problems)
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404

    def __init__(self, what: str = "记录") -> None:
        super().__init__("not_found", f"{what}不存在或无权访问。")


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "无权执行此操作。") -> None:
        super().__init__("forbidden", message)


class Conflict(DomainError):
    status = 409


class VersionConflict(DomainError):
    status = 412

    def __init__(self, current: int) -> None:
        super().__init__(
            "version_conflict",
            f"该变更单已被修改（当前版本 {current}），请刷新后再保存。",
        )
        self.current = current


class InvalidTransition(Conflict):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
