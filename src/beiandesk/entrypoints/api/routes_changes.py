"""Change orders on the applicant's side (api.md §Change orders)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Body, File, Form, Header, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from beiandesk.domain.states import ChangeState
from beiandesk.domain.errors import VersionConflict
from beiandesk.domain.problems import report
from beiandesk.entrypoints.api import views
from beiandesk.entrypoints.downloads import material_headers
from beiandesk.entrypoints.api.schemas import ProposedPatch, SubmitBody, Text, unknown_keys
from beiandesk.entrypoints.api.schemas import RowId
from beiandesk.entrypoints.api.responses import FastJSONResponse
from beiandesk.entrypoints.api.security import (
    AccountDep,
    DepsDep,
    PathParam,
    current_account,
    point_read,
    point_write,
    serve_lean,
)
from beiandesk.services import changes, materials, precheck

router = APIRouter(prefix="/api/v1", tags=["changes"])

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def _json(order: Any, status: int = 200, account: Any = None) -> JSONResponse:
    """The order as ``account`` may read it: reviewers' notes only for staff (api.md §Flow rules)."""
    staff = bool(account is not None and account.is_staff)
    return FastJSONResponse(
        views.change(order, staff=staff), status_code=status, headers={"ETag": f'"{order.version}"'}
    )


def _if_match(value: str | None, change_id: int, d: Any, account: Any) -> int | str | None:
    """The version ``If-Match`` names; ``*`` for any; None when the header is missing (the
    service then refuses with 428 ``precondition_required``)."""
    if value is None or not value.strip():
        return None
    if value.strip() == "*":
        return changes.ANY_VERSION
    m = _ETAG.match(value)
    if not m:  # an entity tag we never issued can never match (RFC 9110 §13.1.1)
        raise VersionConflict(changes.get_change(d, account, change_id).version)
    return int(m.group(1))


async def _read(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    return data


@router.post("/websites/{website_id}/changes", status_code=201)
def open_change(d: DepsDep, account: AccountDep, website_id: RowId) -> JSONResponse:
    return _json(changes.open_change(d, account, website_id), 201, account)


@router.get("/changes")
def list_changes(
    d: DepsDep,
    account: AccountDep,
    state: Annotated[
        ChangeState | Literal[""] | None, Query(description="只看该状态的变更单；为空或不传 = 全部")
    ] = None,
) -> list[dict[str, Any]]:
    wanted = str(state) if state else None  # ``?state=`` is "no filter", as the schema allows
    return [
        views.change(o, staff=account.is_staff) for o in changes.list_changes(d, account, wanted)
    ]


@router.get("/changes/{change_id}")
@point_read
def get_change(d: DepsDep, account: AccountDep, change_id: RowId) -> JSONResponse:
    return _json(changes.get_change(d, account, change_id), account=account)


@router.patch("/changes/{change_id}")
@point_write
def patch_change(
    d: DepsDep,
    account: AccountDep,
    change_id: RowId,
    body: Annotated[
        dict[str, Any], Body(description="{proposed: {...}} 或直接给出部分 proposed 对象")
    ],
    if_match: Annotated[
        str | None,
        Header(
            description='所编辑的版本（取自 ETag，如 "3" 或 3；* 表示任意版本）。缺少时 428 precondition_required，'
            "版本已过期时 412 version_conflict。"
        ),
    ] = None,
) -> JSONResponse:
    raw = (
        body["proposed"]
        if set(body) == {"proposed"} and isinstance(body.get("proposed"), dict)
        else body
    )
    extra = unknown_keys(ProposedPatch, raw)
    if extra:  # before pydantic, which would build one error per key of a huge body
        raise RequestValidationError(extra)
    try:
        patch = ProposedPatch.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    expected = _if_match(if_match, change_id, d, account)
    return _json(
        changes.update_change(
            d,
            account,
            change_id,
            patch.model_dump(exclude_unset=True, exclude_none=True, mode="json"),
            expected,
        ),
        account=account,
    )


_CHANGE_ID = PathParam("change_id", RowId)


async def _patch_change_twin(request: Request, body: bytes) -> Response | None:
    """``patch_change``'s common case, answered without FastAPI's per-request machinery (the
    dependency solve, the parameter validation around it, the route's two ``AsyncExitStack``s
    and its exception wrapper: about a fifth of a save's time on the event loop, profiled).

    It answers only a JSON object body (``Content-Type: application/json``) on a valid id —
    what FastAPI would parse and validate without an error — and then does what FastAPI does
    next, in its order: the account (``AccountDep``), then the endpoint with the same
    arguments. Anything else (no body, another content type, JSON that does not parse or is not
    an object, an id that is not one) returns None: FastAPI's own handler answers it, so its
    refusals are FastAPI's by construction (``serve_twin``; tested against the plain form).
    """
    ctype = request.headers.get("content-type")
    if not body or ctype is None or ctype.split(";", 1)[0].strip().lower() != "application/json":
        return None
    try:
        payload = json.loads(body)
        change_id = _CHANGE_ID.adapter.validate_python(request.path_params["change_id"])
    except Exception:  # noqa: BLE001 — not JSON, too deep (RecursionError), not an id: FastAPI's
        return None
    if not isinstance(payload, dict):
        return None
    account = await current_account(request)
    return await patch_change(
        d=request.app.state.deps,
        account=account,
        change_id=change_id,
        body=payload,
        if_match=request.headers.get("if-match"),
    )


@router.get("/changes/{change_id}/events")
def change_events(d: DepsDep, account: AccountDep, change_id: RowId) -> list[dict[str, Any]]:
    return [views.event(e) for e in changes.events(d, account, change_id)]


@router.get("/changes/{change_id}/precheck")
def change_precheck(d: DepsDep, account: AccountDep, change_id: RowId) -> dict[str, Any]:
    return report(precheck.precheck(d, account, change_id))


@router.post("/changes/{change_id}/submit")
def submit(
    d: DepsDep,
    account: AccountDep,
    change_id: RowId,
    body: Annotated[SubmitBody | None, Body()] = None,
) -> JSONResponse:
    body = body or SubmitBody()
    return _json(
        changes.submit(d, account, change_id, body.accept_terms, body.accept_privacy),
        account=account,
    )


@router.post("/changes/{change_id}/withdraw")
def withdraw(d: DepsDep, account: AccountDep, change_id: RowId) -> JSONResponse:
    return _json(changes.withdraw(d, account, change_id), account=account)


@router.post("/changes/{change_id}/materials", status_code=201)
async def upload_material(
    d: DepsDep,
    account: AccountDep,
    change_id: RowId,
    kind: Annotated[Text, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    data = await _read(file, d.settings.max_material_bytes)
    from starlette.concurrency import run_in_threadpool

    material = await run_in_threadpool(
        materials.upload_material, d, account, change_id, kind, file.filename or "", data
    )
    return material.to_dict()


@router.get("/changes/{change_id}/materials")
def list_materials(d: DepsDep, account: AccountDep, change_id: RowId) -> list[dict[str, Any]]:
    return [m.to_dict() for m in materials.list_materials(d, account, change_id)]


@router.get("/changes/{change_id}/materials/{material_id}/content")
def material_content(
    d: DepsDep, account: AccountDep, change_id: RowId, material_id: RowId
) -> Response:
    material, chunks = materials.material_stream(d, account, change_id, material_id)
    return StreamingResponse(
        chunks,
        media_type=material.content_type,
        headers=material_headers(material.content_type, material.filename, material.size),
    )


@router.delete("/changes/{change_id}/materials/{material_id}", status_code=204)
def delete_material(
    d: DepsDep, account: AccountDep, change_id: RowId, material_id: RowId
) -> Response:
    materials.delete_material(d, account, change_id, material_id)
    return Response(status_code=204)


@router.post("/changes/{change_id}/verification", status_code=201)
async def verification(
    d: DepsDep, account: AccountDep, change_id: RowId, file: Annotated[UploadFile, File()]
) -> dict[str, Any]:
    data = await _read(file, d.settings.max_verification_bytes)
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(
        materials.upload_verification, d, account, change_id, file.filename or "", data
    )
    return {
        "passed": result.passed,
        "media": result.media,
        "problems": [p.to_dict() for p in result.problems],
    }


@router.get("/changes/{change_id}/verification")
def latest_verification(d: DepsDep, account: AccountDep, change_id: RowId) -> dict[str, Any]:
    v = materials.latest_verification(d, account, change_id)
    if v is None:
        return {"passed": False, "media": None, "problems": [], "uploaded": False}
    return {
        "passed": v["passed"],
        "media": v["media"],
        "problems": v["problems"],
        "uploaded": True,
        "created_at": v["created_at"].isoformat(),
    }


serve_lean(router, twins={patch_change: _patch_change_twin})
