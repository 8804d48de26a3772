"""导入备案记录: an admin uploads a records file, sees the per-row report, downloads the refused
rows as CSV (issue 9). The same import as ``import-records`` and ``POST /api/v1/admin/imports``."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from beiandesk.entrypoints.records_import import RecordsFileError, import_upload
from beiandesk.entrypoints.web import render
from beiandesk.entrypoints.web.guard import AdminDep, ConsoleRoute, DepsDep, call, form

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

#: Rows of problems shown on the page; the CSV download always has all of them.
SHOWN = 500
_KEY = re.compile(r"^[0-9a-f]{64}$")


def _page(request: Request, **kw: object) -> Response:
    ctx: dict[str, object] = {"result": None, "error": None, "dry_run": False, "filename": "", **kw}
    return render.render(
        request, "imports.html", title="导入备案记录", nav="imports", shown=SHOWN, **ctx
    )


@router.get("/admin/imports")
def imports_page(request: Request, user: AdminDep) -> Response:
    return _page(request, result=None, error=None)


@router.post("/admin/imports")
async def upload(request: Request, d: DepsDep, user: AdminDep) -> Response:
    data = await form(request)
    upload = data.get("file")
    dry_run = str(data.get("dry_run") or "") in ("1", "on", "true")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(
            request,
            result=None,
            error="请先选择要导入的文件（CSV、XLSX 或 JSON Lines）。",
            dry_run=dry_run,
        )
    try:
        result = await call(
            lambda: import_upload(
                d,
                upload.file,
                upload.filename or "",
                actor=user.username,
                dry_run=dry_run,
                keep_report=True,
            )
        )
    except RecordsFileError as exc:
        return _page(
            request,
            result=None,
            error=f"{exc.problem.message}（{exc.problem.code}）",
            dry_run=dry_run,
            filename=upload.filename,
        )
    return _page(request, result=result, error=None, dry_run=dry_run, filename=upload.filename)


@router.get("/admin/imports/refused/{key}.csv")
async def refused_rows(d: DepsDep, user: AdminDep, key: str) -> Response:
    if not _KEY.match(key):
        return Response(status_code=404)
    try:
        content = await call(d.files.get, key)
    except (KeyError, FileNotFoundError, OSError):
        return Response(status_code=404)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="refused-rows.csv"',
            "Cache-Control": "no-store",
        },
    )
