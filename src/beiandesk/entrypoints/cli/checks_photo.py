"""``beiandesk check-photo FILE [--json]``: the verification photo/video pre-check (api.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beiandesk.entrypoints.cli._output import emit, usage_error


def check_photo(
    file: Annotated[Path, typer.Argument(help="核验照片（JPEG/PNG）或视频（MP4）文件")],
    as_json: Annotated[
        bool, typer.Option("--json", help="输出一个 JSON 对象 {ok, problems}")
    ] = False,
) -> None:
    """核验照片/视频预检：告诉网站负责人哪些问题会导致核验被驳回。"""
    # Imported here: OpenCV loads only when this command runs, not for every CLI call.
    from beiandesk import bootstrap
    from beiandesk.config import Settings

    if not file.exists():
        raise usage_error(f"无法读取文件 {file}：文件不存在")
    if not file.is_file():
        raise usage_error(f"无法读取文件 {file}：不是普通文件")
    inspector = bootstrap.photo_inspector(Settings())
    try:
        result = inspector.inspect_file(file)
    except OSError as exc:
        raise usage_error(f"无法读取文件 {file}：{exc.strerror or exc}") from None
    emit(result.problems, as_json)


def register(app: typer.Typer) -> None:
    app.command("check-photo")(check_photo)
