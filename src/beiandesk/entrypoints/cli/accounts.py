"""``beiandesk accounts …`` and ``beiandesk check-config`` (api.md "Accounts", "Start-up and
configuration"). Exit 0 done, 1 refused (the problem code on stderr), 2 bad usage."""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated, Any

import typer

from beiandesk.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("beiandesk")


def refuse_to_start(settings: Settings) -> None:
    """``serve``/``worker``: one Chinese line on stderr naming the variable, exit 2."""
    from beiandesk import startup

    found = startup.problems(settings)
    if found:
        print(f"beiandesk: {found[0][1]}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)


def _build() -> Any:
    from beiandesk import bootstrap, startup

    settings = Settings()
    try:
        return bootstrap.build(settings).deps
    except startup.StartupError as exc:
        print(f"beiandesk: {exc.problems[0]}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE) from None


def _refused(exc: Exception) -> typer.Exit:
    code = getattr(exc, "code", "error")
    print(f"beiandesk: {code}: {getattr(exc, 'message', str(exc))}", file=sys.stderr)
    return typer.Exit(EXIT_REFUSED)


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("密码：")
    line = sys.stdin.readline()
    if not line:
        print("beiandesk: --password-stdin 需要从标准输入读入密码。", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    return line.rstrip("\r\n")


def _print_account(view: dict[str, Any], as_json: bool, one_time: str | None = None) -> None:
    if as_json:
        out = {**view, "one_time_password": one_time} if one_time else view
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return
    state = "已停用" if view["disabled"] else "启用"
    subjects = "、".join(view["subjects"]) or "—"
    typer.echo(
        f"{view['username']}（{view['role']}，{state}）显示名：{view['display_name'] or '—'}"
        f" 邮箱：{view['email'] or '—'} 主体：{subjects}"
    )
    if one_time:
        typer.echo(f"一次性密码（只显示这一次，首次登录后须修改）：{one_time}")


def register(app: typer.Typer) -> None:
    accounts_app = typer.Typer(help="账号管理（管理员、审核专员、申请人）", no_args_is_help=True)
    app.add_typer(accounts_app, name="accounts")

    @app.command("check-config")
    def check_config(
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """显示生效的配置（密钥已遮盖）和缺少的设置；有问题时退出码 1。"""
        from beiandesk import startup

        result = startup.report(Settings())
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        else:
            for name, item in result["settings"].items():
                value = item.get("effective", item["value"])
                mark = "" if item["source"] == "default" else "  (已设置)"
                typer.echo(f"{name} = {'' if value is None else value}{mark}")
            typer.echo(
                f"管局报送：{'管局工作台（人工）' if result['gateway'] == 'desk' else '网关'}"
            )
            for p in result["problems"]:
                typer.echo(f"✗ {p['message']}", err=True)
            if result["ok"]:
                typer.echo("✓ 配置完整，可以启动。")
        raise typer.Exit(EXIT_OK if result["ok"] else EXIT_REFUSED)

    @accounts_app.command("create")
    def create(
        username: Annotated[str, typer.Argument(help="用户名")],
        role: Annotated[str, typer.Option("--role", help="applicant | reviewer | admin")],
        display_name: Annotated[str, typer.Option("--display-name", help="显示名")] = "",
        email: Annotated[str, typer.Option("--email", help="电子邮箱")] = "",
        subject: Annotated[
            list[str] | None, typer.Option("--subject", help="关联的主体备案号（可多次）")
        ] = None,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="从标准输入读入密码")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """新建账号；不给密码时生成一次性密码（只显示一次）。"""
        from beiandesk.domain.errors import DomainError
        from beiandesk.services import accounts, audit

        if role not in ("applicant", "reviewer", "admin"):
            print("beiandesk: --role 只能是 applicant / reviewer / admin。", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE)
        password = _read_password() if password_stdin else None
        d = _build()
        try:
            view, one_time = accounts.create(
                d,
                actor=audit.CLI_ACTOR,
                username=username,
                role=role,
                display_name=display_name,
                email=email,
                subjects=subject or [],
                password=password,
            )
        except DomainError as exc:
            raise _refused(exc) from None
        _print_account(view, as_json, one_time)

    @accounts_app.command("list")
    def list_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """列出所有账号。"""
        from beiandesk.services import accounts

        rows = accounts.list_accounts(_build())
        if as_json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
            return
        for view in rows:
            _print_account(view, False)
        typer.echo(f"共 {len(rows)} 个账号。")

    def _update(username: str, as_json: bool = False, **changes: Any) -> None:
        from beiandesk.domain.errors import DomainError
        from beiandesk.services import accounts, audit

        d = _build()
        try:
            view = accounts.update(
                d, actor=audit.CLI_ACTOR, account_id=accounts.id_of(d, username), **changes
            )
        except DomainError as exc:
            raise _refused(exc) from None
        _print_account(view, as_json)

    @accounts_app.command("disable")
    def disable(username: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """停用账号（立即对所有节点生效，已登录的会话随即失效）。"""
        _update(username, as_json, disabled=True)

    @accounts_app.command("enable")
    def enable(username: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """重新启用账号。"""
        _update(username, as_json, disabled=False)

    @accounts_app.command("set-role")
    def set_role(
        username: str,
        role: Annotated[str, typer.Argument(help="applicant | reviewer | admin")],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """修改账号角色（最后一个启用的管理员不能降级）。"""
        if role not in ("applicant", "reviewer", "admin"):
            print("beiandesk: 角色只能是 applicant / reviewer / admin。", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE)
        _update(username, as_json, role=role)

    @accounts_app.command("link")
    def link(
        username: str,
        subject: Annotated[list[str], typer.Option("--subject", help="主体备案号（可多次）")],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """把已备案主体关联到申请人账号（一个主体只属于一个账号）。"""
        _update(username, as_json, add_subjects=subject)

    @accounts_app.command("reset-password")
    def reset_password(
        username: str,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="从标准输入读入新密码")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    ) -> None:
        """重置密码；不给密码时生成一次性密码（只显示一次），该账号的所有会话立即失效。"""
        from beiandesk.domain.errors import DomainError
        from beiandesk.services import accounts, audit

        password = _read_password() if password_stdin else None
        d = _build()
        try:
            view, one_time = accounts.reset_password(
                d, actor=audit.CLI_ACTOR, account_id=accounts.id_of(d, username), password=password
            )
        except DomainError as exc:
            raise _refused(exc) from None
        _print_account(view, as_json, one_time)
