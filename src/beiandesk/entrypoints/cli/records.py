"""``import-records``, ``export-records``, ``backup``, ``restore`` (api.md, issue 9)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from beiandesk.config import Settings
from beiandesk.entrypoints.cli._output import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE


def _problem_exit(problem: Any, as_json: bool = False, extra: dict | None = None) -> typer.Exit:
    if as_json:
        sys.stdout.write(
            json.dumps(
                {"ok": False, **(extra or {}), "problems": [problem.to_dict()]}, ensure_ascii=False
            )
            + "\n"
        )
    print(f"beiandesk: {problem.code}: {problem.message}", file=sys.stderr)
    return typer.Exit(EXIT_USAGE)


def _deps(migrate: bool = True) -> Any:
    from beiandesk import bootstrap
    from beiandesk.entrypoints.cli.core import _logging

    settings = Settings()
    _logging(settings)
    return bootstrap.build(settings, migrate=migrate)


def register(app: typer.Typer) -> None:
    @app.command("import-records")
    def import_records_cmd(
        file: Annotated[
            Path, typer.Argument(help="CSV（UTF-8 / GB18030）、XLSX 或 JSON Lines 文件")
        ],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并报告，不写入")] = False,
        report: Annotated[
            Path | None, typer.Option("--report", help="把被拒绝的行写入此 CSV")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON 结果")] = False,
    ) -> None:
        """导入已备案的主体与网站（按备案号幂等更新，保留历史）。"""
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from beiandesk.entrypoints.records_import import RecordsFileError, run_import_file
        from beiandesk.services.audit import CLI_ACTOR

        if not file.is_file():
            raise _problem_exit(_unreadable(f"找不到文件 {file}"), as_json)
        deps = _deps().deps
        console = Console(stderr=True)
        bar = Progress(
            TextColumn("[bold]导入备案记录"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )

        started = []

        def progress(total: int | None):  # noqa: ANN202  (called once the file has been checked)
            bar.start()
            started.append(True)
            task = bar.add_task("import", total=total)
            return lambda done: bar.update(task, completed=done)

        try:
            try:
                result = run_import_file(
                    deps, file, actor=CLI_ACTOR, dry_run=dry_run, report=report, progress=progress
                )
            finally:
                if started:
                    bar.stop()
        except RecordsFileError as exc:
            raise _problem_exit(
                exc.problem,
                as_json,
                {"rows": 0, "created": 0, "updated": 0, "unchanged": 0, "refused": 0},
            ) from None
        if as_json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            out = Console(soft_wrap=True)
            for p in result["problems"][:200]:
                where = f" ({p['field']})" if p.get("field") else ""
                out.print(f"[red]第 {p['row']} 行[/red] {p['code']}{where}: {p['message']}")
            if len(result["problems"]) > 200:
                out.print(
                    f"……另有 {len(result['problems']) - 200} 个问题（用 --report 或 --json 查看全部）"
                )
            label = "（试运行，未写入）" if dry_run else ""
            out.print(
                f"共 {result['rows']} 行{label}：新建 {result['created']}，更新 {result['updated']}，"
                f"未变 {result['unchanged']}，拒绝 {result['refused']}。"
            )
        raise typer.Exit(EXIT_OK if result["ok"] else EXIT_PROBLEMS)

    @app.command("export-records")
    def export_records_cmd(
        file: Annotated[Path, typer.Argument(help="输出文件：.csv 或 .xlsx")],
        unmasked: Annotated[
            bool, typer.Option("--unmasked", help="导出完整证件号与手机号（记入审计日志）")
        ] = False,
    ) -> None:
        """导出全部已备案网站（与导入相同的列，可直接再导入）。"""
        from beiandesk.adapters.records_files import write_records_file
        from beiandesk.services.audit import CLI_ACTOR
        from beiandesk.services.imports import export_records

        if file.suffix.lower() not in (".csv", ".xlsx"):
            print("beiandesk: 输出文件的扩展名须为 .csv 或 .xlsx", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE)
        deps = _deps().deps
        n = export_records(
            deps,
            lambda rows: write_records_file(file, rows),
            actor=CLI_ACTOR,
            unmasked=unmasked,
            target=file.name,
        )
        masked = (
            "（证件号与手机号完整，注意保管）"
            if unmasked
            else "（证件号与手机号已脱敏，不能用于覆盖导入）"
        )
        typer.echo(f"已导出 {n} 个网站到 {file}{masked}")

    @app.command("backup")
    def backup_cmd(
        directory: Annotated[Path, typer.Argument(help="备份目录（新的或空的）")],
    ) -> None:
        """在线备份数据库与上传文件（附校验和清单；不含 DATA_KEY）。"""
        from beiandesk.adapters.backup import BackupError, create_backup
        from beiandesk.services import audit

        built = _deps()
        s = built.settings
        try:
            manifest = create_backup(
                s.resolved_database_url(), built.deps.files, s.data_key or "", directory
            )
        except BackupError as exc:
            raise _problem_exit(exc.problem) from None
        with built.deps.uow() as uow:
            audit.record(
                uow,
                actor=audit.CLI_ACTOR,
                action="backup.create",
                target=str(directory),
                detail={"files": len(manifest["files"]) - 1, "dialect": manifest["dialect"]},
                at=built.deps.clock.now(),
            )
            uow.commit()
        typer.echo(
            f"备份完成：{directory}（数据库 + {len(manifest['files']) - 1} 个文件，清单 manifest.json）。"
            "恢复时需要同一个 BEIANDESK_DATA_KEY。"
        )

    @app.command("restore")
    def restore_cmd(directory: Annotated[Path, typer.Argument(help="backup 生成的目录")]) -> None:
        """把备份恢复到空的数据库与文件存储（先校验全部校验和）。"""
        from beiandesk import bootstrap
        from beiandesk.adapters.backup import BackupError, restore_backup
        from beiandesk.services import audit

        built = _deps(migrate=False)
        s = built.settings
        built.engine.dispose()
        try:
            manifest = restore_backup(
                directory, s.resolved_database_url(), built.deps.files, s.data_key or ""
            )
        except BackupError as exc:
            raise _problem_exit(exc.problem) from None
        again = bootstrap.build(s)
        with again.deps.uow() as uow:
            audit.record(
                uow,
                actor=audit.CLI_ACTOR,
                action="backup.restore",
                target=str(directory),
                detail={"created_at": manifest["created_at"], "files": len(manifest["files"]) - 1},
                at=again.deps.clock.now(),
            )
            uow.commit()
        again.engine.dispose()
        typer.echo(f"已从 {directory} 恢复（备份时间 {manifest['created_at']}）。")


def _unreadable(detail: str) -> Any:
    from beiandesk.domain.import_rows import file_unreadable

    return file_unreadable(detail)
