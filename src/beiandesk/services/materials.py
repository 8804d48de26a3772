"""Materials and the verification photo/video of a change order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from beiandesk.domain import change as rules
from beiandesk.domain.errors import DomainError, NotFound
from beiandesk.domain.materials_files import check_material
from beiandesk.domain.text import safe_filename
from beiandesk.domain.model import Account
from beiandesk.domain.timeline import material_label
from beiandesk.services.access import load_own, load_visible
from beiandesk.services.deps import Deps
from beiandesk.services.ports import VerificationResult


def upload_material(
    d: Deps, actor: Account, change_id: int, kind: str, filename: str, data: bytes
) -> Any:
    content_type, problems = check_material(kind, data, d.settings.max_material_bytes)
    if problems:
        status = 413 if problems[0].code == "material_too_large" else 422
        raise DomainError(problems[0].code, problems[0].message, problems=problems, status=status)
    intact = getattr(d.thumbnails, "intact", None)
    if content_type == "image/jpeg" and intact is not None and not intact(data):
        # Cut inside its scan data with an end marker appended: half the scan would be grey.
        raise DomainError("material_unreadable", "图片文件不完整（可能上传中断），请重新上传完整的文件。",
                          status=422)
    now = d.clock.now()
    with d.uow() as uow:
        order = load_own(uow, actor, change_id)
        rules.ensure_editable(order)
        key = d.files.put(data)
        safe_name = safe_filename(filename)
        material = uow.changes.add_material(
            change_id, kind, safe_name, content_type or "", len(data), key, actor.username, now
        )
        rules.event(
            order,
            "material_uploaded",
            actor.username,
            f"上传材料：{material_label(kind)}",
            now,
            material_kind=kind,
        )
        uow.changes.save(order)
        uow.commit()
    return material


def list_materials(d: Deps, actor: Account, change_id: int) -> list[Any]:
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        return uow.changes.materials(change_id)


def material_content(
    d: Deps, actor: Account, change_id: int, material_id: int
) -> tuple[Any, bytes]:
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        found = [m for m in uow.changes.materials(change_id) if m.id == material_id]
    if not found:
        raise NotFound("材料")
    return found[0], d.files.get(found[0].sha256)


def material_stream(
    d: Deps, actor: Account, change_id: int, material_id: int
) -> tuple[Any, Iterator[bytes]]:
    """Like :func:`material_content`, as chunks: a download never holds the whole file."""
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        found = [m for m in uow.changes.materials(change_id) if m.id == material_id]
    if not found:
        raise NotFound("材料")
    return found[0], d.files.open_read(found[0].sha256)


def material_thumbnail(d: Deps, actor: Account, change_id: int, material_id: int) -> bytes | None:
    """A small JPEG preview of an image material (None for a PDF, or without a thumbnailer):
    pages show this, never the full scan."""
    material, data = material_content(d, actor, change_id, material_id)
    if d.thumbnails is None or not material.content_type.startswith("image/"):
        return None
    return d.thumbnails.thumbnail(data)


def delete_material(d: Deps, actor: Account, change_id: int, material_id: int) -> None:
    now = d.clock.now()
    with d.uow() as uow:
        order = load_own(uow, actor, change_id)
        rules.ensure_editable(order)
        gone = next((m for m in uow.changes.materials(change_id) if m.id == material_id), None)
        if gone is None or not uow.changes.delete_material(change_id, material_id):
            raise NotFound("材料")
        rules.event(
            order,
            "material_deleted",
            actor.username,
            f"删除材料：{material_label(gone.kind)}",
            now,
            material_kind=gone.kind,
            material_id=material_id,
        )
        uow.changes.save(order)
        uow.commit()


def upload_verification(
    d: Deps, actor: Account, change_id: int, filename: str, data: bytes
) -> VerificationResult:
    """Store the photo/video and its pre-check verdict; the pre-check then knows it passed."""
    if len(data) > d.settings.max_verification_bytes:
        raise DomainError(
            "photo_too_large",
            f"文件超过 {d.settings.max_verification_bytes // (1024 * 1024)} MB 上限，请压缩后重新上传。",
            status=413,
        )
    if d.photo is None:
        raise DomainError("unavailable", "照片核验服务未启用。", status=503)
    with d.uow(readonly=True) as uow:
        order = load_own(uow, actor, change_id)
        rules.ensure_editable(order)
    result = d.photo.inspect(data, filename)  # seconds of CPU: outside the transaction
    now = d.clock.now()
    with d.uow() as uow:
        order = load_own(uow, actor, change_id)
        key = d.files.put(data)
        ctype = "video/mp4" if result.media == "video" else "image"
        uow.changes.add_verification(
            change_id,
            result.media,
            result.passed,
            [p.to_dict() for p in result.problems],
            ctype,
            len(data),
            key,
            now,
        )
        verdict = (
            "通过"
            if result.passed
            else f"未通过（{len([p for p in result.problems if p.is_error])} 个问题）"
        )
        rules.event(
            order,
            "verification",
            actor.username,
            f"核验{'视频' if result.media == 'video' else '照片'}预检{verdict}",
            now,
            passed=result.passed,
        )
        uow.changes.save(order)
        uow.commit()
    return result


def latest_verification(d: Deps, actor: Account, change_id: int) -> dict[str, Any] | None:
    with d.uow(readonly=True) as uow:
        load_visible(uow, actor, change_id)
        return uow.changes.latest_verification(change_id)
