"""Run beiandesk: serve, worker, db upgrade, seed-demo, sandbox, sweep."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from beiandesk.config import Settings

log = logging.getLogger("beiandesk")


def _logging(settings: Settings) -> None:
    from beiandesk.adapters.logs import configure

    configure(settings.log_level)


def demo_settings(settings: Settings, host: str, port: int) -> Settings:
    """``--demo``: the gateway, the registry and the site probe all point at the built-in sandbox."""
    link_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{link_host}:{port}"
    from beiandesk.entrypoints.serving import shared_demo_settings

    shared = shared_demo_settings(settings, base)
    if shared is not None:  # GATEWAY_URL names a shared `beiandesk sandbox` (several nodes)
        return shared
    return settings.model_copy(
        update={
            "demo": True,
            "public_url": base,
            "gateway_url": "desk" if settings.gateway_url == "desk" else f"{base}/sandbox",
            "rdap_url": f"{base}/sandbox/rdap",
            "probe_allow_private": True,
        }
    )


def _database_exists(url: str) -> bool:
    """A SQLite file not yet there is an empty database (reading it would create it elsewhere)."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        return Path(url.removeprefix("sqlite:///")).exists()
    return True


def sweep_settings(settings: Settings, *, demo: bool, host: str, port: int) -> Settings:
    """``sweep --demo`` (or ``DEMO=true``): probe the demo websites as ``serve --demo`` at
    host:port does — their home pages on that server's sandbox."""
    if not (demo or settings.demo):
        return settings
    return demo_settings(settings, host, port)


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="数据库维护", no_args_is_help=True)
    app.add_typer(db, name="db")

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="监听端口")] = 8000,
        demo: Annotated[bool, typer.Option("--demo", help="演示模式：演示数据 + 管局沙箱")] = False,
        no_worker: Annotated[
            bool,
            typer.Option("--no-worker", help="不在本进程运行后台任务（另行运行 beiandesk worker）"),
        ] = False,
        workers: Annotated[
            int, typer.Option("--workers", min=1, max=64, help="本机 API 进程数")
        ] = 1,
    ) -> None:
        """迁移数据库，启动 API、控制台与后台任务（同一进程）。"""
        import uvicorn

        from beiandesk import bootstrap
        from beiandesk.entrypoints.server import build_server_app
        from beiandesk.services.seed import seed_demo

        settings = Settings()
        _logging(settings)
        if demo or settings.demo:
            settings = demo_settings(settings, host, port)
        from beiandesk.entrypoints.cli.accounts import refuse_to_start

        refuse_to_start(settings)
        built = bootstrap.build(settings, with_jobs=True)
        if settings.demo:
            seed_demo(built.deps)
        if built.deps.gateway is None:
            log.info(
                "未配置管局网关：初审通过的订单在管局工作台（/desk）由审核专员提交管局并登记结果"
            )
        from beiandesk.entrypoints.serving import mounts_own_sandbox

        where = (
            "（演示模式，管局沙箱在 /sandbox/）"
            if mounts_own_sandbox(settings)
            else (f"（演示模式，共享管局沙箱 {settings.gateway_url}）" if settings.demo else "")
        )
        log.info("beiandesk 正在 http://%s:%s/ 提供服务%s", host, port, where)
        if no_worker:
            log.info("本进程不运行后台任务：请另行运行 beiandesk worker")
        if workers > 1:
            from beiandesk.entrypoints.serving import run_nodes

            built.engine.dispose()
            run_nodes(settings, host, port, workers=workers, with_worker=not no_worker)
            return
        uvicorn.run(
            build_server_app(built, with_worker=not no_worker, freeze_gc=True),
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            access_log=False,
        )

    @app.command()
    def worker() -> None:
        """只运行后台任务（多进程 / 多节点部署时使用）。"""
        from beiandesk import bootstrap

        settings = Settings()
        _logging(settings)
        from beiandesk.entrypoints.cli.accounts import refuse_to_start

        refuse_to_start(settings)
        built = bootstrap.build(settings, with_jobs=True)
        log.info("beiandesk worker 已启动")
        built.jobs.run_forever()

    @db.command("upgrade")
    def db_upgrade() -> None:
        """应用数据库迁移。"""
        from beiandesk import bootstrap

        from beiandesk.adapters.db import migrate

        settings = Settings()
        _logging(settings)
        url = settings.resolved_database_url()
        before = migrate.applied_revisions(url) if _database_exists(url) else set()
        bootstrap.build(settings)
        typer.echo(migrate.describe_upgrade(before, migrate.applied_revisions(url)))

    @app.command("seed-demo")
    def seed_demo_cmd() -> None:
        """创建演示数据（可重复执行）。"""
        from beiandesk import bootstrap
        from beiandesk.services.seed import seed_demo

        settings = Settings()
        _logging(settings)
        created = seed_demo(bootstrap.build(settings).deps)
        typer.echo(
            f"演示数据已就绪（新建：账号 {created['accounts']}，主体 {created['subjects']}，网站 {created['websites']}）。"
        )

    @app.command()
    def sandbox(
        host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="监听端口")] = 8100,
    ) -> None:
        """单独运行管局沙箱（非真实工信部系统）。"""
        from beiandesk.bootstrap import complete_settings
        from beiandesk.sandbox.app import run_standalone

        settings = complete_settings(Settings(), generate=True)
        _logging(settings)
        run_standalone(settings, host, port)

    @app.command()
    def sweep(
        concurrency: Annotated[int, typer.Option(min=1, max=64, help="并发数")] = 8,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
        demo: Annotated[
            bool,
            typer.Option("--demo", help="演示模式：像 serve --demo 一样，经沙箱访问演示网站首页"),
        ] = False,
        host: Annotated[str, typer.Option(help="演示模式下 serve --demo 的地址")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="演示模式下 serve --demo 的端口")] = 8000,
    ) -> None:
        """对所有已备案且打开的网站做合规巡检（首页备案号、链接、可访问性）。"""
        from rich.console import Console
        from rich.progress import Progress

        from beiandesk import bootstrap
        from beiandesk.services import sweep as sweeps

        settings = sweep_settings(Settings(), demo=demo, host=host, port=port)
        _logging(settings)
        deps = bootstrap.build(settings).deps
        console = Console(stderr=True)
        try:
            with Progress(console=console, transient=as_json) as bar:
                task = bar.add_task("巡检网站", total=None)
                summary = sweeps.run(
                    deps,
                    concurrency,
                    lambda done, total: bar.update(task, completed=done, total=total),
                    keep="none",  # listed from the database below: memory stays flat
                )
        except sweeps.SweepInterrupted as stop:
            console.print(
                f"巡检已中断：已检查 {stop.summary.checked} 个网站（{stop.summary.failing} 个有问题），"
                "结果已保存，可在管理后台的运营报表中查看；重新运行 beiandesk sweep 即可完整巡检。",
                soft_wrap=True,  # one line, however narrow the terminal: it may be grepped
            )
            raise typer.Exit(130) from None
        results = sweeps.stored_results(deps, summary.run_id)
        if as_json:
            _sweep_json(summary.checked, summary.failing, results)
        else:
            _sweep_listing(console, results)
            console.print(f"共巡检 {summary.checked} 个网站，{summary.failing} 个有问题。")
        raise typer.Exit(1 if summary.failing else 0)


def _sweep_json(checked: int, failing: int, results: Iterable[dict]) -> None:
    """One JSON object on stdout, written a result at a time (the same text ``json.dumps`` of the
    whole object gives, without holding every website's result)."""
    import json
    import sys

    out = sys.stdout
    out.write(f'{{"ok": {json.dumps(not failing)}, "checked": {checked}, "websites": [')
    for i, r in enumerate(results):
        out.write((", " if i else "") + json.dumps(r, ensure_ascii=False))
    out.write("]}\n")


def _sweep_listing(console: Any, results: Iterable[dict], batch: int = 500) -> None:
    """✓/✗ a line per website, its problems beneath. Printed in batches without rich's
    highlighter (a line at a time that was ~0.25 ms each: 2.5 s for 10,000 websites); names and
    URLs are escaped, so a ``[`` in a website's name is not taken for markup."""
    from rich.markup import escape

    lines: list[str] = []
    for r in results:
        mark = "[green]✓[/green]" if r["ok"] else "[red]✗[/red]"
        site = " ".join((r["filing_number"], r["name"], r["home_url"]))
        lines.append(f"{mark} {escape(site)}")
        lines.extend("    " + escape(f"{p['code']}: {p['message']}") for p in r["problems"])
        if len(lines) >= batch:
            console.print("\n".join(lines), highlight=False)
            lines.clear()
    if lines:
        console.print("\n".join(lines), highlight=False)
