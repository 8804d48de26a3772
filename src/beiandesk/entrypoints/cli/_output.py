"""Shared output for the check commands: ``--json`` objects and exit statuses of api.md."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import typer
from rich.console import Console

from beiandesk.domain.problems import Problem, report

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def usage_error(message: str) -> typer.Exit:
    """A one-line error on stderr and exit status 2 (bad usage or unreadable input)."""
    print(f"beiandesk: {message}", file=sys.stderr)
    return typer.Exit(EXIT_USAGE)


def emit(problems: Sequence[Problem], as_json: bool, extra: dict | None = None) -> None:
    """Print the problems (JSON or a table) and exit 0 when no error, 1 otherwise."""
    result = report(problems)
    if extra:
        result.update(extra)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        console = Console()
        if not problems:
            console.print("[green]✓ 未发现问题[/green]")
        for p in problems:
            colour = "red" if p.is_error else "yellow"
            label = "错误" if p.is_error else "提示"
            where = f" ({p.field})" if p.field else ""
            console.print(f"[{colour}]{label}[/{colour}] {p.code}{where}: {p.message}")
    raise typer.Exit(EXIT_OK if result["ok"] else EXIT_PROBLEMS)
