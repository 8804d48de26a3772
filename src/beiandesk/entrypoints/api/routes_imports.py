"""``POST /api/v1/admin/imports`` (api.md §Existing filed records): the CLI's import over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from beiandesk.entrypoints.api.security import AdminDep, DepsDep
from beiandesk.entrypoints.records_import import RecordsFileError, import_upload

router = APIRouter(prefix="/api/v1")


@router.post(
    "/admin/imports",
    tags=["admin"],
    summary="Import existing filed records (CSV, XLSX, JSON Lines)",
    responses={422: {"description": "the file cannot be read: `{ok: false, problems: [...]}`"}},
)
async def import_records(
    d: DepsDep,
    admin: AdminDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
) -> Any:
    """Same JSON as ``import-records --json``: `{ok, rows, created, updated, unchanged, refused,
    problems: [{row, code, message, field?}]}`. A file that cannot be read at all answers 422 with
    one problem (`import_file_unreadable`, `import_file_empty`, `import_column_missing`, …)."""
    try:
        return await run_in_threadpool(
            import_upload, d, file.file, file.filename or "", actor=admin.username, dry_run=dry_run
        )
    except RecordsFileError as exc:
        p = exc.problem
        return JSONResponse(
            status_code=422,
            content={
                "ok": False,
                "rows": 0,
                "created": 0,
                "updated": 0,
                "unchanged": 0,
                "refused": 0,
                "code": p.code,
                "message": p.message,
                "problems": [
                    {
                        "row": p.extra.get("line", 1),
                        "code": p.code,
                        "message": p.message,
                        **({"field": p.field} if p.field else {}),
                    }
                ],
            },
        )
