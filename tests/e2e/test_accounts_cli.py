"""``beiandesk accounts …``, ``check-config`` and the start-up checks, as an operator runs them:
real processes on the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from beiandesk.domain.model import Principal, Subject, SubjectKind
from beiandesk.services import auth
from tests.conftest import KEYS

SCRIPT = Path(sys.executable).with_name("beiandesk")
CMD = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "beiandesk"]


def _env(tmp_path: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEIANDESK_")}
    env.update({"BEIANDESK_VAR_DIR": str(tmp_path / "var"), "BEIANDESK_LOG_LEVEL": "WARNING",
                "BEIANDESK_SECRET_KEY": KEYS["secret_key"], "BEIANDESK_DATA_KEY": KEYS["data_key"]})
    if database_url:
        env["BEIANDESK_DATABASE_URL"] = database_url
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60,
                          check=False, cwd=env["BEIANDESK_VAR_DIR"].rsplit("/", 1)[0])


def cli(env: dict[str, str], *args: str, stdin: str | None = None):  # noqa: ANN201
    """The same commands in-process (typer's runner): a process start costs seconds here."""
    from typer.testing import CliRunner

    from beiandesk.entrypoints.cli import app
    unset = {k: None for k in os.environ if k.startswith("BEIANDESK_") and k not in env}
    result = CliRunner().invoke(app, list(args), input=stdin, env={**unset, **env}, catch_exceptions=False)
    result.returncode = result.exit_code
    return result


def test_accounts_from_the_command_line(tmp_path, database_url, seeded) -> None:
    env = _env(tmp_path, database_url)
    (tmp_path / "var").mkdir(exist_ok=True)
    run = cli
    r = run(env, "accounts", "create", "ops-admin", "--role", "admin", "--display-name", "运维管理员",
            "--email", "ops@example.com", "--json")
    assert r.returncode == 0, r.stderr
    admin = json.loads(r.stdout)
    otp = admin.pop("one_time_password")
    assert admin["role"] == "admin" and admin["password_change_required"] is True and len(otp) >= 10
    # the one-time password logs in, and the account must change it first
    account, _ = auth.login(seeded, "ops-admin", otp)
    assert account.password_change_required

    r = run(env, "accounts", "create", "ops-admin", "--role", "admin")
    assert r.returncode == 1 and "account_exists" in r.stderr
    r = run(env, "accounts", "create", "x", "--role", "boss")
    assert r.returncode == 2
    r = run(env, "accounts", "create", "rev-wang", "--role", "reviewer", "--password-stdin", stdin="rev-wang\n")
    assert r.returncode == 1 and "password_too_weak" in r.stderr
    r = run(env, "accounts", "create", "rev-wang", "--role", "reviewer", "--password-stdin", "--json",
            stdin="Plum-Blossom-River-8\n")
    assert r.returncode == 0, r.stderr
    assert "one_time_password" not in json.loads(r.stdout)
    assert json.loads(r.stdout)["password_change_required"] is False
    assert auth.login(seeded, "rev-wang", "Plum-Blossom-River-8")[0].username == "rev-wang"

    r = run(env, "accounts", "disable", "rev-wang")
    assert r.returncode == 0, r.stderr
    with pytest.raises(Exception) as refused:
        auth.login(seeded, "rev-wang", "Plum-Blossom-River-8")
    assert getattr(refused.value, "code", "") == "account_disabled"
    assert run(env, "accounts", "enable", "rev-wang").returncode == 0
    assert run(env, "accounts", "disable", "nobody").returncode == 1

    # the last active admin: demo-admin and ops-admin exist; demote one, then the other is last
    assert run(env, "accounts", "set-role", "demo-admin", "reviewer").returncode == 0
    r = run(env, "accounts", "set-role", "ops-admin", "reviewer")
    assert r.returncode == 1 and "last_admin" in r.stderr
    r = run(env, "accounts", "disable", "ops-admin")
    assert r.returncode == 1 and "last_admin" in r.stderr
    assert run(env, "accounts", "set-role", "ops-admin", "boss").returncode == 2

    # applicants linked to a filed subject (one subject, one account)
    with seeded.uow() as uow:
        owner = uow.accounts.by_username("ops-admin")[0].id
        uow.subjects.add(Subject(id=0, account_id=owner, kind=SubjectKind.personal, name="陈静", province="北京",
                                 id_type="resident_id", id_number="110101199003074477",
                                 filing_number="京ICP备20260077号",
                                 principal=Principal(name="陈静", mobile="13911112222")), seeded.clock.now())
        uow.commit()
    assert run(env, "accounts", "create", "chen", "--role", "applicant", "--password-stdin",
               stdin="Quiet-River-Stone-5\n").returncode == 0
    r = run(env, "accounts", "link", "chen", "--subject", "京ICP备20260077号", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["subjects"] == ["京ICP备20260077号"]
    r = run(env, "accounts", "link", "chen", "--subject", "沪ICP备20260002号")
    assert r.returncode == 1 and "subject_linked_elsewhere" in r.stderr

    r = run(env, "accounts", "reset-password", "chen", "--json")
    assert r.returncode == 0, r.stderr
    reset = json.loads(r.stdout)
    assert reset["password_change_required"] is True and len(reset["one_time_password"]) >= 10

    r = run(env, "accounts", "list", "--json")
    assert r.returncode == 0, r.stderr
    names = {a["username"]: a for a in json.loads(r.stdout)}
    assert {"ops-admin", "rev-wang", "chen", "demo-admin"} <= set(names)
    assert names["demo-admin"]["role"] == "reviewer" and names["rev-wang"]["disabled"] is False

    from beiandesk.services import audit
    acts = [(e["actor"], e["action"], e["target"]) for e in audit.list_entries(seeded, 100)]
    assert ("cli", "account.create", "ops-admin") in acts
    assert ("cli", "account.disable", "rev-wang") in acts and ("cli", "account.link", "chen") in acts
    assert ("cli", "account.reset_password", "chen") in acts


def test_no_start_without_keys_or_with_an_unknown_backend(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'never.db'}"
    # real processes: exit 2 and exactly one line on stderr
    for command, var, value in (("serve", "BEIANDESK_SECRET_KEY", ""), ("worker", "BEIANDESK_STORAGE_URL", "gs://b")):
        r = run(_env(tmp_path, url, **{var: value}), command)
        assert r.returncode == 2, r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and var in lines[0], r.stderr
    # every case, in-process (refused before anything starts)
    for command in ("serve", "worker"):
        for var, value in (("BEIANDESK_SECRET_KEY", ""), ("BEIANDESK_DATA_KEY", ""),
                           ("BEIANDESK_SMS_BACKEND", "pigeon"), ("BEIANDESK_GATEWAY_URL", "ftp://gw"),
                           ("BEIANDESK_STORAGE_URL", "gs://bucket")):
            r = cli(_env(tmp_path, url, **{var: value}), command)
            assert r.exit_code == 2 and var in r.stderr, (command, var, r.stderr)
            if not value:
                assert "未设置" in r.stderr
    assert not (tmp_path / "var" / "secret_key").exists()  # no dev key invented outside --demo
    assert not (tmp_path / "never.db").exists()


def test_check_config_masks_secrets_and_names_what_is_missing(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    env = _env(tmp_path, "postgresql+psycopg://desk:hunter2-pw@db.internal:5432/beian",
               BEIANDESK_DATA_KEY="", BEIANDESK_TENCENT_SECRET_KEY="tencent-very-secret")
    r = cli(env, "check-config", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["missing"] == ["BEIANDESK_DATA_KEY"] and out["gateway"] == "desk"
    assert KEYS["secret_key"] not in r.stdout and "hunter2-pw" not in r.stdout
    assert "tencent-very-secret" not in r.stdout
    assert out["settings"]["BEIANDESK_SECRET_KEY"]["value"] == "***"
    assert out["settings"]["BEIANDESK_DATABASE_URL"]["value"] == "postgresql+psycopg://desk:***@db.internal:5432/beian"
    text = cli(env, "check-config")
    assert text.returncode == 1 and "BEIANDESK_DATA_KEY" in text.stderr and "hunter2-pw" not in text.stdout
    ok = cli(_env(tmp_path, None), "check-config")
    assert ok.returncode == 0 and "配置完整" in ok.stdout



def test_a_setting_that_cannot_be_read_is_one_line_naming_it(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    url = f"sqlite:///{tmp_path / 'never.db'}"
    for var, value, said in (("BEIANDESK_DB_READ_CONNECTIONS", "0", "须不小于 1（当前为 0）"),
                             ("BEIANDESK_DB_READ_CONNECTIONS", "65", "须不大于 64（当前为 65）"),
                             ("BEIANDESK_WORKER_THREADS", "two", "须为整数（当前为 two）"),
                             ("BEIANDESK_DEMO", "maybe", "须为 true 或 false（当前为 maybe）")):
        for command in ("serve", "worker", "check-config", "sweep"):
            r = cli(_env(tmp_path, url, **{var: value}), command)
            assert r.exit_code == 2, (command, var, r.stderr)
            assert r.stderr.strip() == f"beiandesk: {var} {said}", (command, r.stderr)
    # a real process: the same line, no traceback
    r = run(_env(tmp_path, url, BEIANDESK_DB_READ_CONNECTIONS="0"), "serve")
    assert r.returncode == 2 and r.stderr.strip() == "beiandesk: BEIANDESK_DB_READ_CONNECTIONS 须不小于 1（当前为 0）"
    assert not (tmp_path / "never.db").exists()


def test_a_bad_value_of_a_secret_or_a_url_is_not_repeated() -> None:
    from beiandesk.startup import setting_problems

    lines = setting_problems([
        {"type": "string_type", "loc": ("secret_key",), "input": 12345},
        {"type": "url_parsing", "loc": ("database_url",), "input": "postgresql://u:hunter2@h"},
        {"type": "int_parsing", "loc": ("token_ttl_s",), "input": "hunter3"},
        {"type": "int_parsing", "loc": ("call_retry_s",), "input": "soon"},
    ])
    assert lines == ["BEIANDESK_SECRET_KEY 的取值不正确", "BEIANDESK_DATABASE_URL 的取值不正确",
                     "BEIANDESK_TOKEN_TTL_S 须为整数", "BEIANDESK_CALL_RETRY_S 须为整数（当前为 soon）"]
