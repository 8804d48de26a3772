"""Step 2: the website principal's verification photo/video and the materials."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from beiandesk.domain.errors import DomainError
from beiandesk.domain.photo import MAX_VIDEO_SECONDS
from beiandesk.domain.problems import has_errors
from beiandesk.entrypoints.downloads import disposition
from beiandesk.entrypoints.web import render, session
from beiandesk.entrypoints.web.guard import ConsoleRoute, DepsDep, UserDep, call, form
from beiandesk.entrypoints.web.routes_flow import order_context, staff_elsewhere
from beiandesk.services import console, materials, precheck

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_SLOT_ID = re.compile(r"^material-[a-z_-]{1,64}$")


def _targets(slots: list) -> tuple[str, ...]:
    """The sections of the materials page a message can be shown in (beside their control)."""
    return (
        "verification",
        "materials",
        "material-other-upload",
        *(f"material-{s.kind}" for s in slots if s.required or s.files),
    )


#: Served files are shown inline but can never run as a page of this site.
#: (Chromium's PDF viewer refuses a sandboxed document, so PDFs only get the no-script policy.)
def file_headers(media_type: str) -> dict[str, str]:
    policy = "default-src 'none'; img-src 'self'; media-src 'self'; object-src 'self'"
    if media_type != "application/pdf":
        policy = "sandbox; " + policy
    return {
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
        "Cache-Control": "private, max-age=300",
    }


@router.get("/changes/{change_id}/materials")
def materials_page(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    if (other := staff_elsewhere(request, user, change_id)) is not None:
        return other
    ctx = order_context(d, user, change_id)
    if not ctx["editable"]:
        return render.redirect(request, f"/changes/{change_id}")
    problems = precheck.precheck(d, user, change_id)
    slots = console.material_slots(d, user, change_id)
    return render.render(
        request,
        "materials.html",
        title="核验与上传资料",
        nav="home",
        step=2,
        slots=slots,
        flash_targets=_targets(slots),
        verification=materials.latest_verification(d, user, change_id),
        problems=problems,
        blocked=has_errors(problems),
        max_video_s=int(MAX_VIDEO_SECONDS),
        max_material_mb=d.settings.max_material_bytes // (1024 * 1024),
        max_verification_mb=d.settings.max_verification_bytes // (1024 * 1024),
        **ctx,
    )


async def _file(data: object, limit: int) -> tuple[str, bytes] | None:
    if not isinstance(data, UploadFile):
        return None
    content = await data.read(limit + 1)
    return (data.filename or ""), content


@router.post("/changes/{change_id}/materials")
async def upload_material(request: Request, d: DepsDep, user: UserDep, change_id: int) -> Response:
    data = await form(request)
    kind = str(data.get("kind") or "")[:64]
    upload = await _file(data.get("file"), d.settings.max_material_bytes)
    # A refusal is shown in the section of the form that was used (the 其他材料 form has its own),
    # and the page opens at that message: a banner at the top would be out of sight.
    slot = str(data.get("slot") or "")
    failed_at = slot if _SLOT_ID.match(slot) else f"material-{kind}"
    if upload is None or not upload[1]:
        session.flash(request, "请先选择要上传的文件。", "error", target=failed_at)
        return render.redirect(request, f"/changes/{change_id}/materials#{failed_at}")
    try:
        await call(materials.upload_material, d, user, change_id, kind, upload[0], upload[1])
    except DomainError as exc:
        if exc.status >= 500 or exc.code in ("not_found", "forbidden"):
            raise
        session.flash(request, f"「{upload[0]}」未能上传：{exc.message}", "error", target=failed_at)
        return render.redirect(request, f"/changes/{change_id}/materials#{failed_at}")
    session.flash(request, f"已上传「{upload[0]}」。", target=f"material-{kind}")
    return render.redirect(request, f"/changes/{change_id}/materials#material-{kind}")


@router.post("/changes/{change_id}/materials/done")
async def materials_done(request: Request, user: UserDep, change_id: int) -> Response:
    """「下一步」: on to the review page (a button, so the step reads the same everywhere)."""
    await form(request)
    return render.redirect(request, f"/changes/{change_id}/review")


@router.post("/changes/{change_id}/materials/{material_id}/delete")
async def delete_material(
    request: Request, d: DepsDep, user: UserDep, change_id: int, material_id: int
) -> Response:
    await form(request)
    await call(materials.delete_material, d, user, change_id, material_id)
    session.flash(request, "材料已删除。", target="materials")
    return render.redirect(request, f"/changes/{change_id}/materials#materials")


@router.get("/changes/{change_id}/materials/{material_id}/thumbnail")
def material_thumbnail(d: DepsDep, user: UserDep, change_id: int, material_id: int) -> Response:
    """The small preview the pages show (made on the server); the full file is a click away."""
    data = materials.material_thumbnail(d, user, change_id, material_id)
    if data is None:
        raise DomainError("not_found", "该材料没有预览图。", status=404)
    return Response(data, media_type="image/jpeg", headers=file_headers("image/jpeg"))


@router.get("/changes/{change_id}/materials/{material_id}")
def material_file(d: DepsDep, user: UserDep, change_id: int, material_id: int) -> Response:
    material, chunks = materials.material_stream(d, user, change_id, material_id)
    return StreamingResponse(
        chunks,
        media_type=material.content_type,
        headers={**file_headers(material.content_type), "Content-Length": str(material.size),
                 "Content-Disposition": disposition("inline", material.filename)},
    )


@router.post("/changes/{change_id}/verification")
async def upload_verification(
    request: Request, d: DepsDep, user: UserDep, change_id: int
) -> Response:
    data = await form(request)
    upload = await _file(data.get("file"), d.settings.max_verification_bytes)
    back = f"/changes/{change_id}/materials#verification"
    if upload is None or not upload[1]:
        session.flash(request, "请先选择核验照片或视频。", "error", target="verification")
        return render.redirect(request, back)
    try:
        result = await call(materials.upload_verification, d, user, change_id, upload[0], upload[1])
    except DomainError as exc:
        if exc.code in ("not_found", "forbidden", "not_editable"):
            raise
        session.flash(request, f"核验文件未能处理：{exc.message}", "error", target="verification")
        return render.redirect(request, back)
    if result.passed:
        session.flash(request, "核验照片预检通过。", target="verification")
    else:
        session.flash(
            request, "核验照片未通过预检，请按提示重新拍摄后上传。", "error", target="verification"
        )
    return render.redirect(request, back)


@router.get("/changes/{change_id}/verification/file")
def verification_file(d: DepsDep, user: UserDep, change_id: int) -> Response:
    media_type, chunks = console.verification_stream(d, user, change_id)
    return StreamingResponse(chunks, media_type=media_type, headers=file_headers(media_type))
