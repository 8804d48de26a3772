"""``beiandesk check-draft FILE [--json]``: every offline rule on a draft (api.md §Draft file).

A thin shell: read the file, parse JSON, build the domain input, run the pure engine, print.
Exit 0 when ok, 1 when an error-severity problem was found, 2 (one line on stderr) when the
file cannot be read, is not JSON, or does not have the draft shape.
"""

from __future__ import annotations

import errno
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from beiandesk.entrypoints.cli._output import emit, usage_error


_OS_REASONS = {errno.ENOENT: "文件不存在", errno.EACCES: "没有读取权限", errno.EISDIR: "这是一个目录，不是文件",
               errno.EPERM: "没有读取权限", errno.ENOTDIR: "路径中有一段不是目录"}
_JSON_REASONS = [
    ("Expecting property name enclosed in double quotes", "键名必须用双引号括起来"),
    ("Expecting value", "此处缺少值"),
    ("Expecting ',' delimiter", "此处缺少逗号"),
    ("Expecting ':' delimiter", "此处缺少冒号"),
    ("Extra data", "JSON 对象之后还有多余内容"),
    ("Unterminated string", "字符串没有结束的双引号"),
    ("Invalid control character", "字符串中有控制字符"),
    ("Invalid \\escape", "字符串中有无效的转义"),
]


def _json_reason(msg: str) -> str:
    for english, chinese in _JSON_REASONS:
        if msg.startswith(english):
            return chinese
    return "格式错误"


def _load(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise usage_error(f"无法读取草稿文件 {path}：不是 UTF-8 编码的文本文件") from None
    except OSError as exc:
        reason = _OS_REASONS.get(exc.errno or 0, f"系统错误（errno {exc.errno}）")
        raise usage_error(f"无法读取草稿文件 {path}：{reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise usage_error(
            f"草稿文件 {path} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{_json_reason(exc.msg)}）"
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
