"""The command line speaks Chinese on bad usage and in its help (issue 12), exit status 2 kept;
``db upgrade`` says what it applied, and 已是最新版本 only when nothing was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = ("Usage:", "Error", "No such", "Try '", "Invalid value", "Missing", "Show this message", "Options",
           "Commands", "Did you mean")


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "beiandesk", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TERMINAL_WIDTH": "100", "NO_COLOR": "1", **(env or {})}, cwd=cwd)


@pytest.mark.parametrize("args", [
    ("db", "upgrad"),
    ("serve", "--port", "abc"),
    ("sweep", "--concurrency", "0"),
    ("check-draft",),
    ("check-draft", "x.json", "--nope"),
    ("no-such-command",),
])
def test_usage_errors_are_chinese_with_exit_2(args: tuple[str, ...]) -> None:
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert CJK.search(r.stderr), r.stderr
    for word in ENGLISH:
        assert word not in r.stderr, (word, r.stderr)


def test_a_suggestion_names_the_command() -> None:
    r = cli("db", "upgrad")
    assert "upgrade" in r.stderr and "用法" in r.stderr


@pytest.mark.parametrize("args", [("--help",), ("db", "--help"), ("check-draft", "--help")])
def test_help_is_chinese(args: tuple[str, ...]) -> None:
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    for word in ("Usage:", "Show this message", "Options", "Commands", "Arguments"):
        assert word not in r.stdout, (word, r.stdout)
    assert "用法" in r.stdout and "显示本帮助" in r.stdout


def test_db_upgrade_says_what_it_applied(tmp_path: Path) -> None:
    env = {"BEIANDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}", "BEIANDESK_VAR_DIR": str(tmp_path / "var"),
           "BEIANDESK_SECRET_KEY": "k" * 32, "BEIANDESK_DATA_KEY": "d" * 32}
    first = cli("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "已应用" in first.stdout and "0001" in first.stdout, first.stdout
    assert "已是最新版本" not in first.stdout
    again = cli("db", "upgrade", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "已是最新版本" in again.stdout and "已应用" not in again.stdout, again.stdout
