"""What an admin ran into trying account creation as a user (helper J's walk-through).

``ADMIN1`` beside ``admin1`` were two accounts: two names a person reads as one, in the audit
log, the queue's 处理人 column and the claim messages. A user name that differs from an existing
one only by case is refused like the same name (409 ``account_exists``), through the API and the CLI.
"""

from __future__ import annotations

from tests.conftest import login


def test_a_name_differing_only_by_case_is_an_existing_name(client) -> None:  # noqa: ANN001
    admin = login(client, "demo-admin")
    r = client.post("/api/v1/admin/accounts", headers=admin, json={"username": "Demo-Reviewer", "role": "reviewer"})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "account_exists"
    assert "demo-reviewer" in r.json()["detail"]
    names = [a["username"] for a in client.get("/api/v1/admin/accounts", headers=admin).json()]
    assert "Demo-Reviewer" not in names
    ok = client.post("/api/v1/admin/accounts", headers=admin, json={"username": "zhang.min", "role": "reviewer"})
    assert ok.status_code == 201, ok.text


def test_the_cli_refuses_it_too_and_names_a_missing_account_clearly(tmp_path, database_url, seeded) -> None:  # noqa: ANN001
    from tests.e2e.test_accounts_cli import _env, cli

    env = _env(tmp_path, database_url)
    (tmp_path / "var").mkdir(exist_ok=True)
    r = cli(env, "accounts", "create", "DEMO-ADMIN", "--role", "reviewer")
    assert r.returncode == 1, r.output
    assert "account_exists" in r.stderr and "demo-admin" in r.stderr
    r = cli(env, "accounts", "disable", "nobody")
    assert r.returncode == 1, r.output
    assert "账号 nobody 不存在" in r.stderr
