"""Uploaded material files: accepted kinds and types, judged by content (api.md §Change orders).

Accepted: JPEG, PNG and PDF, recognised by their signature bytes and checked for a proper end
marker, so a renamed executable or a truncated scan is refused before a reviewer opens it.
"""

from __future__ import annotations

from beiandesk.domain.problems import Problem, error

MATERIAL_KINDS: dict[str, str] = {
    "id_card_front": "身份证人像面",
    "id_card_back": "身份证国徽面",
    "business_license": "营业执照",
    "authorization_letter": "网站负责人授权书",
    "verification_form": "网站备案信息真实性核验单",
    "preapproval": "前置审批文件",
    "commitment_letter": "承诺书",
    "other": "其他材料",
}


def sniff(data: bytes) -> str | None:
    """The content type of a JPEG, PNG or PDF by its first bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        return "application/pdf"
    return None


def _complete(data: bytes, content_type: str) -> bool:
    tail = data[-2048:]
    if content_type == "image/jpeg":
        return b"\xff\xd9" in tail
    if content_type == "image/png":
        return b"IEND" in tail
    return b"%%EOF" in tail


def check_material(kind: str, data: bytes, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """(content type, problems) for an upload of ``kind``."""
    if kind not in MATERIAL_KINDS:
        return None, [error("material_kind_invalid",
                            f"材料类型「{kind}」无效，可选：{'、'.join(MATERIAL_KINDS)}。", "kind")]
    if len(data) > max_bytes:
        return None, [error("material_too_large",
                            f"文件超过 {max_bytes // (1024 * 1024)} MB 上限，请压缩或降低分辨率后重新上传。", "file")]
    if not data:
        return None, [error("material_unreadable", "文件是空的，请重新选择文件上传。", "file")]
    content_type = sniff(data)
    if content_type is None:
        return None, [error("material_type_not_allowed",
                            "只接受 JPG、PNG 图片或 PDF 文件（按文件内容判断，而不是文件名）。", "file")]
    if not _complete(data, content_type):
        return None, [error("material_unreadable", "文件不完整或已损坏，请重新扫描或拍照后上传。", "file")]
    return content_type, []
