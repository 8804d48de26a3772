"""Problems: what a rule found, in a shape every entry point can print.

A rule returns problems; it never raises for user data. A problem carries a stable ``code``
(api.md §Problem codes), a severity (errors block submission, warnings never do), a message in
Simplified Chinese that says what to do, the ``field`` it concerns when there is one, and any
extra members (``kind`` for ``material_missing``) that integrators may read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    severity: Severity = "error"
    field: str | None = None
    extra: Mapping[str, Any] = dc_field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        if self.field is not None:
            out["field"] = self.field
        out.update(self.extra)
        return out


def error(code: str, message: str, field: str | None = None, **extra: Any) -> Problem:
    return Problem(code=code, message=message, severity="error", field=field, extra=extra)


def warning(code: str, message: str, field: str | None = None, **extra: Any) -> Problem:
    return Problem(code=code, message=message, severity="warning", field=field, extra=extra)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.is_error for p in problems)


def report(problems: Iterable[Problem]) -> dict[str, Any]:
    """The `{ok, problems}` object of api.md (`--json` output and the precheck endpoint)."""
    items = list(problems)
    return {"ok": not has_errors(items), "problems": [p.to_dict() for p in items]}
