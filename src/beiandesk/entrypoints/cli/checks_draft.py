"""``beiandesk check-draft FILE [--json]``: every offline rule on a draft (api.md §Draft file).

A thin shell: read the file, parse JSON, build the domain input, run the pure engine, print.
Exit 0 when ok, 1 when an error-severity problem was found, 2 (one line on stderr) when the
file cannot be read, is not JSON, or does not have the draft shape.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from beiandesk.entrypoints.cli._output import emit, usage_error


def _load(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise usage_error(
            f"无法读取草稿文件 {path}：{getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(
            f"草稿文件 {path} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）"
        ) from None


def check_draft(
    file: Annotated[Path, typer.Argument(help="草稿 JSON 文件（格式见 api.md §Draft file）")],
    as_json: Annotated[
        bool, typer.Option("--json", help="输出一个 JSON 对象 {ok, problems}")
    ] = False,
) -> None:
    """运行全部离线预检规则（域名、资源、名称、身份、材料），列出问题。"""
    from beiandesk.domain.precheck import run_precheck
    from beiandesk.domain.precheck_draft import DraftError, draft_to_input

    draft = _load(file)
    try:
        # The draft's own "today" wins; the local date is only the fallback (api.md).
        inp = draft_to_input(draft, today=date.today())
    except DraftError as exc:
        raise usage_error(f"草稿格式不正确：{exc}") from None
    emit(run_precheck(inp), as_json)


def register(app: typer.Typer) -> None:
    app.command("check-draft")(check_draft)
